// The receiver's soft demapper stage on its own: it demaps exactly user k's slice of a
// chain's equalised symbols and variances (the equaliser chains' layout) into user k's
// slice of the LLRs, leaves every other user's LLRs alone, and refuses a user outside the
// buffers. The LLR values themselves are modem::mapper's (tests/modem).
#include <amimo/core/error.h>
#include <amimo/core/rng.h>
#include <amimo/pipeline/soft_demapper.h>

#include <gtest/gtest.h>

#include <limits>
#include <vector>

namespace amimo::pipeline {
namespace {

TEST(SoftDemapper, DemapsExactlyTheUsersSlice) {
  const modem::mapper map(modem::modulation::qam16);
  const std::size_t users = 3;
  const std::size_t n = 7;  // symbols per user
  const std::size_t bits = n * 4;
  rng gen(2);
  std::vector<cf64> eq(users * n);
  std::vector<double> var(users * n);
  for (std::size_t i = 0; i < eq.size(); ++i) {
    eq[i] = gen.complex_normal();
    var[i] = 0.05 + gen.uniform();
  }
  var[n + 2] = std::numeric_limits<double>::infinity();  // an erased stream of user 1
  const soft_demapper stage(map, n);
  EXPECT_EQ(stage.bits_per_user(), bits);
  for (std::size_t k = 0; k < users; ++k) {
    std::vector<float> llr(users * bits, 99.0F);
    stage.run(k, eq, var, llr);
    std::vector<float> want(bits);
    map.demap_soft(want, std::span<const cf64>(eq).subspan(k * n, n), std::span<const double>(var).subspan(k * n, n));
    for (std::size_t i = 0; i < llr.size(); ++i) {
      if (i / bits == k) {
        EXPECT_EQ(llr[i], want[i - k * bits]) << "user " << k << ", bit " << i;
      } else {
        EXPECT_EQ(llr[i], 99.0F) << "user " << k << " wrote bit " << i;
      }
    }
    if (k == 1) {
      for (std::size_t b = 0; b < 4; ++b) EXPECT_EQ(llr[bits + 2 * 4 + b], 0.0F);  // erased: no information
    }
  }
  std::vector<float> llr(users * bits);
  EXPECT_THROW(stage.run(users, eq, var, llr), config_error);
  EXPECT_THROW(stage.run(2, eq, var, std::span<float>(llr).first(2 * bits + 1)), config_error);
}

}  // namespace
}  // namespace amimo::pipeline
