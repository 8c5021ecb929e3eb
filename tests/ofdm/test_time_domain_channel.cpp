// The uplink emulator's time-domain channel (windowed-sinc FIR, emulator_options::
// time_domain) against its per-subcarrier path: with every delay plus the FIR's post-cursor
// inside the CP, the FFT windows of both streams carry the same H(f)·X(f) up to the FIR's
// in-band error; with a tap far beyond the CP the time-domain stream shows the
// inter-symbol interference the per-subcarrier path cannot.
#include <amimo/core/error.h>
#include <amimo/ofdm/frame.h>
#include <amimo/ofdm/numerology.h>
#include <amimo/ofdm/uplink_emulator.h>

#include "ofdm_test_support.h"

#include <channel_models/tdl_models.h>

#include <gtest/gtest.h>

#include <cmath>
#include <string>

namespace amimo::ofdm {
namespace {

// ‖a − b‖² / ‖b‖² over the FFT windows (samples cp … symbol_length − 1 of every symbol) of
// every antenna, frames 0 and 1.
double window_error(const std::string& model, double ds, double doppler, const numerology& n = {},
                    const emulator_options& options = {true, {}}) {
  const frame_layout layout(n, 2, modem::modulation::qpsk);
  channel_models::selective_channel_config cc;
  cc.model = model;
  cc.antennas = 3;
  cc.users = 2;
  cc.delay_spread_s = ds;
  cc.sample_rate = n.sample_rate;
  cc.doppler_hz = doppler;
  cc.frame_seconds = n.frame_seconds();
  cc.steps_per_frame = n.symbols_per_frame();
  auto ch_f = channel_models::create_selective_channel_model(cc);
  auto ch_t = channel_models::create_selective_channel_model(cc);
  uplink_emulator freq(layout, *ch_f, 300.0, 7);
  uplink_emulator time(layout, *ch_t, 300.0, 7, {}, options);
  test_support::frame_buffer bf(3, n.frame_length()), bt(3, n.frame_length());
  double err = 0.0, ref = 0.0;
  for (std::uint64_t f = 0; f < 2; ++f) {
    freq.generate(bf.ptrs, f);
    time.generate(bt.ptrs, f);
    for (int a = 0; a < 3; ++a) {
      for (int s = 0; s < n.symbols_per_frame(); ++s) {
        for (int i = n.cp_length; i < n.symbol_length(); ++i) {
          const std::size_t t = static_cast<std::size_t>(s * n.symbol_length() + i);
          err += std::norm(cf64(bt.rows[static_cast<std::size_t>(a)][t]) - cf64(bf.rows[static_cast<std::size_t>(a)][t]));
          ref += std::norm(cf64(bf.rows[static_cast<std::size_t>(a)][t]));
        }
      }
    }
  }
  return err / ref;
}

TEST(TimeDomainChannel, FftWindowsMatchThePerSubcarrierPathInsideTheCp) {
  // TDL-A at 100 ns (last tap 7.4 samples; + 16 post-cursor < CP 36), static and with
  // 300 Hz Doppler (a state per symbol): relative error ≤ 3e-4 (−35 dB; measured 1.4e-4 with
  // Doppler: the sinc's pre-cursor reaches 15 samples into the next symbol, a real effect of
  // a band-limited channel the circular path leaves out, plus float output).
  for (const double doppler : {0.0, 300.0}) {
    const double e = window_error("tdl-a", 100e-9, doppler);
    EXPECT_LT(e, 3e-4) << "doppler " << doppler << " error " << e;
  }
}

// No windowed sinc is accurate up to fs/2: with 510 of 512 subcarriers used (|f| ≤ 0.498)
// the half-width-16 FIR missed H(f) by 0.14 (relative) on the outer subcarriers. The
// emulator refuses an FIR whose single-tap error on the used band exceeds 1e-3, and a
// half-width below 8 (W = 4 missed by 5e-2 inside |f| ≤ 0.3); what it accepts up to the
// band it allows matches the per-subcarrier path as closely as the default layout does.
TEST(TimeDomainChannel, AnFirThatMissesTheUsedBandIsRefused) {
  channel_models::selective_channel_config cc;
  cc.model = "tdl-a";
  cc.antennas = 3;
  cc.users = 2;
  const auto refused = [&cc](int used, int half_width) {
    numerology n;
    n.used_subcarriers = used;
    cc.sample_rate = n.sample_rate;
    const frame_layout layout(n, 2, modem::modulation::qpsk);
    auto ch = channel_models::create_selective_channel_model(cc);
    try {
      uplink_emulator em(layout, *ch, 30.0, 1, {}, emulator_options{true, {half_width, 8.0}});
    } catch (const config_error& e) {
      EXPECT_NE(std::string(e.what()).find("half-width"), std::string::npos) << e.what();
      return true;
    }
    return false;
  };
  EXPECT_TRUE(refused(510, 16));   // |f| ≤ 0.498: error 0.94
  EXPECT_TRUE(refused(460, 16));   // |f| ≤ 0.449: error 5e-2
  EXPECT_TRUE(refused(300, 4));    // below 8
  EXPECT_TRUE(refused(300, 7));    // below 8
  EXPECT_FALSE(refused(300, 8));   // |f| ≤ 0.293: error 1.6e-4
  EXPECT_FALSE(refused(430, 16));  // |f| ≤ 0.420: error < 1e-3
  EXPECT_TRUE(refused(430, 8));    // W = 8 meets 1e-3 only up to |f| ≈ 0.35
  EXPECT_TRUE(refused(510, 256));  // no half-width reaches fs/2 (error 0.25)

  // Accepted at the edge of its band (430 of 512 used, W = 16), the FIR's FFT windows
  // match the per-subcarrier path within the same bound as the default layout's.
  numerology wide;
  wide.used_subcarriers = 430;
  EXPECT_LT(window_error("tdl-a", 100e-9, 0.0, wide), 3e-4);
}

TEST(TimeDomainChannel, TapsBeyondTheCpCauseInterSymbolInterference) {
  // TDL-C at 3000 ns: taps up to 199 samples, a third of the power beyond the CP (36). The
  // per-subcarrier path is circular (no ISI); the time-domain path is not: the FFT windows
  // differ by more than −20 dB, 30× the in-CP mismatch bound above.
  const double e = window_error("tdl-c", 3000e-9, 0.0);
  EXPECT_GT(e, 1e-2) << e;
}

}  // namespace
}  // namespace amimo::ofdm
