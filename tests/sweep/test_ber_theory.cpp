// Monte-Carlo BER of the whole link (mapper, channel, detector, solver, counting) against
// closed-form theory: ZF in N×K i.i.d. Rayleigh has diversity order N−K+1.
#include "sweep_test_support.h"

#include <amimo/metrics/theory.h>

#include <gtest/gtest.h>

#include <cmath>

namespace amimo::sweep {
namespace {

struct theory_case {
  modem::modulation modulation;
  int antennas;
  int users;
  double snr_db;
};

class ZfTheory : public ::testing::TestWithParam<theory_case> {};

TEST_P(ZfTheory, BerMatchesClosedFormWithinTheNinetyFivePercentInterval) {
  const theory_case t = GetParam();
  sweep_config c;
  c.antennas = t.antennas;
  c.users = t.users;
  c.modulation = t.modulation;
  c.detectors = {detect::detector_kind::zf};
  c.solvers = {{"digital-f64", {}}};
  c.snr_db = {t.snr_db};
  c.vectors_per_channel = 1;  // one channel per vector: errors nearly independent
  c.min_errors = 4000;
  c.max_bits = 20'000'000;
  c.max_seconds = 120.0;
  c.seed = 2026;
  const sweep_result r = testing::run_quietly(c);
  const curve_point& cp = r.points.at(0).curves.at(0);
  const double snr = std::pow(10.0, t.snr_db / 10.0);
  const double theory = t.modulation == modem::modulation::bpsk ? metrics::ber_zf_rayleigh_bpsk(snr, t.antennas, t.users)
                        : t.modulation == modem::modulation::qpsk
                            ? metrics::ber_zf_rayleigh_qpsk(snr, t.antennas, t.users)
                            : metrics::ber_zf_rayleigh_mqam(1 << modem::bits_per_symbol(t.modulation), snr, t.antennas, t.users);
  const metrics::interval ci = cp.errors.ber_interval();
  EXPECT_GE(cp.errors.bit_errors(), 4000U);
  EXPECT_LE(ci.low, theory) << "measured " << cp.errors.ber() << " theory " << theory;
  EXPECT_GE(ci.high, theory) << "measured " << cp.errors.ber() << " theory " << theory;
}

INSTANTIATE_TEST_SUITE_P(
    RayleighPoints, ZfTheory,
    ::testing::Values(theory_case{modem::modulation::bpsk, 1, 1, 10.0}, theory_case{modem::modulation::bpsk, 4, 2, 4.0},
                      theory_case{modem::modulation::bpsk, 4, 4, 15.0}, theory_case{modem::modulation::bpsk, 8, 4, 0.0},
                      theory_case{modem::modulation::qpsk, 4, 2, 8.0}, theory_case{modem::modulation::qpsk, 8, 6, 6.0},
                      theory_case{modem::modulation::qpsk, 16, 4, -4.0},
                      // Gray M-QAM (Cho & Yoon 2002, averaged over the Gamma(N−K+1) post-ZF SNR).
                      theory_case{modem::modulation::qam16, 4, 2, 14.0}, theory_case{modem::modulation::qam16, 8, 4, 10.0},
                      theory_case{modem::modulation::qam64, 4, 2, 20.0}, theory_case{modem::modulation::qam64, 16, 4, 12.0},
                      theory_case{modem::modulation::qam256, 4, 2, 26.0}, theory_case{modem::modulation::qam256, 16, 4, 16.0}),
    [](const auto& param_info) {
      const theory_case& tc = param_info.param;
      return std::string(modem::to_string(tc.modulation)) + "_" + std::to_string(tc.antennas) + "x" +
             std::to_string(tc.users) + "_snr" + std::to_string(static_cast<int>(tc.snr_db + 10)) + "m10";
    });

}  // namespace
}  // namespace amimo::sweep
