// The emulator's user sum (ofdm/user_sum.h): the vectorised path gives the portable
// definition's bits for every antenna count, user count, offset and tail length, and both
// equal the complex sum computed independently in double precision to float rounding.
#include <amimo/core/rng.h>
#include <amimo/ofdm/user_sum.h>

#include <gtest/gtest.h>

#include <cstring>
#include <vector>

namespace amimo::ofdm {
namespace {

TEST(UserSum, VectorisedBitsEqualTheDefinitionAndTheSumInDouble) {
  constexpr std::ptrdiff_t kLength = 150;  // the emulator's half of 300 used subcarriers
  constexpr int kMaxUsers = 9;
  rng gen(17);
  const auto draw = [&](std::size_t n) {
    std::vector<cf32> v(n);
    for (auto& z : v) z = cf32(static_cast<float>(gen.normal()), static_cast<float>(gen.normal()));
    return v;
  };
  std::vector<std::vector<cf32>> h_rows;
  std::vector<std::vector<cf32>> x_rows;
  for (int r = 0; r < kUserSumAntennas * kMaxUsers; ++r) h_rows.push_back(draw(2 * kLength));
  for (int m = 0; m < kMaxUsers; ++m) x_rows.push_back(draw(2 * kLength));
  for (int antennas = 1; antennas <= kUserSumAntennas; ++antennas) {
    for (int users = 0; users <= kMaxUsers; ++users) {
      for (const std::ptrdiff_t offset : {std::ptrdiff_t{0}, std::ptrdiff_t{3}, kLength}) {
        for (const std::ptrdiff_t length : {std::ptrdiff_t{1}, std::ptrdiff_t{7}, kLength}) {
          std::vector<const cf32*> h;
          for (int i = 0; i < antennas; ++i)
            for (int m = 0; m < users; ++m) h.push_back(h_rows[static_cast<std::size_t>(i * kMaxUsers + m)].data());
          std::vector<const cf32*> x;
          for (int m = 0; m < users; ++m) x.push_back(x_rows[static_cast<std::size_t>(m)].data());
          std::vector<std::vector<cf32>> fast(static_cast<std::size_t>(antennas), std::vector<cf32>(kLength, cf32(9, 9)));
          auto slow = fast;
          std::vector<cf32*> fast_ptr;
          std::vector<cf32*> slow_ptr;
          for (int i = 0; i < antennas; ++i) {
            fast_ptr.push_back(fast[static_cast<std::size_t>(i)].data());
            slow_ptr.push_back(slow[static_cast<std::size_t>(i)].data());
          }
          user_sum(fast_ptr.data(), antennas, h.data(), x.data(), users, offset, length);
          user_sum_portable(slow_ptr.data(), antennas, h.data(), x.data(), users, offset, length);
          for (int i = 0; i < antennas; ++i) {
            for (std::ptrdiff_t j = 0; j < length; ++j) {
              const cf32 a = fast[static_cast<std::size_t>(i)][static_cast<std::size_t>(j)];
              const cf32 b = slow[static_cast<std::size_t>(i)][static_cast<std::size_t>(j)];
              ASSERT_EQ(std::memcmp(&a, &b, sizeof a), 0)
                  << "antennas " << antennas << " users " << users << " offset " << offset << " j " << j;
              cf64 ref{};
              for (int m = 0; m < users; ++m)
                ref += cf64(h[static_cast<std::size_t>(i * users + m)][offset + j]) *
                       cf64(x[static_cast<std::size_t>(m)][offset + j]);
              ASSERT_NEAR(a.real(), ref.real(), 1e-5 * (1.0 + users * 4.0)) << "j " << j;
              ASSERT_NEAR(a.imag(), ref.imag(), 1e-5 * (1.0 + users * 4.0)) << "j " << j;
            }
            EXPECT_EQ(fast[static_cast<std::size_t>(i)][static_cast<std::size_t>(length < kLength ? length : 0)],
                      length < kLength ? cf32(9, 9) : fast[static_cast<std::size_t>(i)][0])
                << "writes only [0, length)";
          }
        }
      }
    }
  }
}

}  // namespace
}  // namespace amimo::ofdm
