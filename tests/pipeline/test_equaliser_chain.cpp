// The receiver's equaliser stage on its own: an equaliser_chain over a synthetic frame grid
// and channel estimates gives the numbers of linear_detector called directly, subcarrier by
// subcarrier on the same data symbols, with a backend of the same spec reseeded to the
// same seed per range — bit for bit where the chain runs linear_detector itself (analog,
// with its seeded noise), to rounding where it runs batch_detector (digital); ranges may
// cross DC and run on any worker; a non-finite channel is counted unresolved and erased.
#include <amimo/core/error.h>
#include <amimo/core/rng.h>
#include <amimo/pipeline/equaliser_chain.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

namespace amimo::pipeline {
namespace {

struct reference_result {
  std::vector<cf64> equalised;
  std::vector<double> variance;
  equaliser_counts counts;
};

TEST(EqualiserChain, MatchesLinearDetectorCalledDirectlyPerRangeAndSeed) {
  ofdm::numerology n;
  n.fft_size = 64;
  n.cp_length = 8;
  n.used_subcarriers = 36;
  n.sample_rate = 0.96e6;
  n.pilot_symbols = 2;
  n.data_symbols = 3;
  const int antennas = 4;
  const int users = 2;
  const auto fft = static_cast<std::size_t>(n.fft_size);
  const auto used = static_cast<std::size_t>(n.used_subcarriers);
  const auto data = static_cast<std::size_t>(n.data_symbols);
  const auto data0 = static_cast<std::size_t>(1 + n.pilot_symbols);
  const std::size_t per_user = data * used;
  const std::size_t block = static_cast<std::size_t>(antennas * users);
  const double n0 = 0.05;
  const std::size_t bad = 21;  // its channel holds a NaN

  rng gen(11);
  std::vector<cf32> grid(static_cast<std::size_t>(n.symbols_per_frame()) * antennas * fft);
  for (auto& v : grid) v = cf32(gen.complex_normal());
  std::vector<cf32> estimates(used * block);
  for (auto& v : estimates) v = cf32(gen.complex_normal());
  estimates[bad * block + 3] = cf32(std::numeric_limits<float>::quiet_NaN(), 0.0F);
  // Ranges as the receiver's blocks would give them; [10, 36) crosses DC.
  const std::size_t ranges[][2] = {{0, 10}, {10, 36}};
  const std::uint64_t seeds[] = {derive_seed(5, {1}), derive_seed(5, {2})};
  // The same grid with rows 3 samples longer (as ofdm_demodulator pads its rows), the pads
  // NaN: a chain told the row stride must give the same outputs and never read a pad.
  const std::size_t padded_row = fft + 3;
  std::vector<cf32> padded(grid.size() / fft * padded_row, cf32(std::numeric_limits<float>::quiet_NaN(), 0.0F));
  for (std::size_t r = 0; r < grid.size() / fft; ++r) {
    std::copy_n(grid.begin() + static_cast<std::ptrdiff_t>(r * fft), fft,
                padded.begin() + static_cast<std::ptrdiff_t>(r * padded_row));
  }

  for (const auto mode : {detect::detection_mode::per_block, detect::detection_mode::per_vector}) {
    for (const char* backend : {"digital-f64", "analog"}) {
      chain_spec spec;
      spec.solver.name = backend;
      const std::uint64_t build_seed = derive_seed(5, {0});
      equaliser_chain chain(spec, n, antennas, users, mode, 2, 26, build_seed);
      EXPECT_EQ(chain.batched(), std::string(backend) == "digital-f64");

      // The chain: range r on worker r; outputs start as a sentinel.
      const cf64 sentinel(7.0, 7.0);
      std::vector<cf64> eq(users * per_user, sentinel);
      std::vector<double> var(users * per_user, -1.0);
      const equaliser_input in{grid.data(), estimates, n0, {}};
      equaliser_counts total;
      for (int r = 0; r < 2; ++r) {
        const auto c = chain.run(r, in, ranges[r][0], ranges[r][1], seeds[r], {eq, var});
        total.unresolved_subcarriers += c.unresolved_subcarriers;
        total.erased_streams += c.erased_streams;
        if (r == 0) {  // nothing outside [0, 10) written yet
          EXPECT_EQ(eq[10], sentinel);
          EXPECT_EQ(var[per_user + used - 1], -1.0);
        }
      }

      std::vector<cf64> eq_padded(users * per_user, sentinel);
      std::vector<double> var_padded(users * per_user, -1.0);
      const equaliser_input in_padded{padded.data(), estimates, n0, {}, padded_row};
      for (int r = 0; r < 2; ++r) chain.run(r, in_padded, ranges[r][0], ranges[r][1], seeds[r], {eq_padded, var_padded});
      EXPECT_EQ(eq_padded, eq) << backend << ", " << detect::to_string(mode) << ": padded rows";
      EXPECT_EQ(var_padded, var) << backend << ", " << detect::to_string(mode) << ": padded rows";

      // The reference: linear_detector with its own backend, reseeded per range.
      reference_result ref{std::vector<cf64>(users * per_user), std::vector<double>(users * per_user), {}};
      auto solver = solver::create_linear_solver(spec.solver, users, build_seed);
      detect::linear_detector det(spec.detector, mode, *solver, antennas, users, n.data_symbols);
      cmat y(antennas, n.data_symbols);
      cmat s(users, n.data_symbols);
      for (int r = 0; r < 2; ++r) {
        solver->reseed(seeds[r]);
        for (std::size_t u = ranges[r][0]; u < ranges[r][1]; ++u) {
          const auto bin = static_cast<std::size_t>(n.fft_index_of(static_cast<int>(u)));
          for (std::size_t d = 0; d < data; ++d) {
            for (std::size_t a = 0; a < static_cast<std::size_t>(antennas); ++a) {
              y(static_cast<Eigen::Index>(a), static_cast<Eigen::Index>(d)) =
                  cf64(grid[((data0 + d) * antennas + a) * fft + bin]);
            }
          }
          const cmat h = Eigen::Map<const Eigen::MatrixXcf>(estimates.data() + u * block, antennas, users).cast<cf64>();
          const bool resolved = det.set_channel(h, n0).resolved;
          const bool ok = det.detect(s, y);
          if (!resolved || !ok) ++ref.counts.unresolved_subcarriers;
          for (std::size_t k = 0; k < static_cast<std::size_t>(users); ++k) {
            const double v = ok ? det.noise_variance()[k] : detect::linear_detector::kErased;
            if (v == detect::linear_detector::kErased) ++ref.counts.erased_streams;
            for (std::size_t d = 0; d < data; ++d) {
              ref.equalised[k * per_user + d * used + u] = s(static_cast<Eigen::Index>(k), static_cast<Eigen::Index>(d));
              ref.variance[k * per_user + d * used + u] = v;
            }
          }
        }
      }

      const std::string what = std::string(backend) + ", " + std::string(detect::to_string(mode));
      EXPECT_EQ(total.unresolved_subcarriers, 1U) << what;
      EXPECT_EQ(total.erased_streams, static_cast<std::uint64_t>(users)) << what;
      EXPECT_EQ(total.unresolved_subcarriers, ref.counts.unresolved_subcarriers) << what;
      EXPECT_EQ(total.erased_streams, ref.counts.erased_streams) << what;
      for (std::size_t i = 0; i < eq.size(); ++i) {
        const std::size_t u = i % used;
        if (u == bad) {
          EXPECT_EQ(eq[i], cf64{}) << what;
          EXPECT_EQ(var[i], detect::linear_detector::kErased) << what;
          continue;
        }
        if (chain.batched()) {
          EXPECT_NEAR(std::abs(eq[i] - ref.equalised[i]), 0.0, 1e-9 * (1.0 + std::abs(ref.equalised[i]))) << what << " at " << i;
          EXPECT_NEAR(var[i], ref.variance[i], 1e-9 * ref.variance[i]) << what << " at " << i;
        } else {
          EXPECT_EQ(eq[i], ref.equalised[i]) << what << " at " << i;
          EXPECT_EQ(var[i], ref.variance[i]) << what << " at " << i;
        }
      }
    }
  }
}

TEST(EqualiserChain, RefusesRangesAndBuffersOutOfBounds) {
  ofdm::numerology n;
  n.fft_size = 64;
  n.cp_length = 8;
  n.used_subcarriers = 36;
  n.pilot_symbols = 1;
  n.data_symbols = 2;
  equaliser_chain chain(chain_spec{}, n, 2, 1, detect::detection_mode::per_block, 1, 12, 1);
  std::vector<cf32> grid(static_cast<std::size_t>(n.symbols_per_frame()) * 2 * 64);
  std::vector<cf32> est(36 * 2);
  std::vector<cf64> eq(2 * 36);
  std::vector<double> var(2 * 36);
  const equaliser_input in{grid.data(), est, 1.0, {}};
  EXPECT_THROW(chain.run(0, in, 0, 13, 1, {eq, var}), config_error);   // longer than max_range
  EXPECT_THROW(chain.run(1, in, 0, 12, 1, {eq, var}), config_error);   // no such worker
  EXPECT_THROW(chain.run(0, in, 30, 37, 1, {eq, var}), config_error);  // past the band
  EXPECT_THROW(chain.run(0, in, 0, 12, 1, {std::span<cf64>(eq).first(10), var}), config_error);
  const equaliser_input short_rows{grid.data(), est, 1.0, {}, 63};  // rows would overlap
  EXPECT_THROW(chain.run(0, short_rows, 0, 12, 1, {eq, var}), config_error);
  EXPECT_NO_THROW(chain.run(0, in, 24, 36, 1, {eq, var}));
}

}  // namespace
}  // namespace amimo::pipeline
