// The synchroniser stage on its own: emulated frames behind a known number of noise
// samples, per-antenna delays, gaps and NaN/Inf samples, against the known positions; every
// released frame's samples are checked against the stream at the position it claims.
#include <amimo/core/error.h>
#include <amimo/core/rng.h>
#include <amimo/ofdm/uplink_emulator.h>
#include <amimo/pipeline/synchroniser.h>

#include "receiver_test_support.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <vector>

namespace amimo::pipeline {
namespace {

using kind = sync_verdict::kind;
using rows_t = std::vector<std::vector<cf32>>;

constexpr double kThreshold = 0.1;  // receiver_config's default
constexpr int kBackoff = 4;         // receiver_config's default fft_backoff

struct event {
  kind what;
  std::uint64_t first_sample;
  std::vector<std::size_t> offsets;
};

class SyncFixture : public ::testing::Test {
 protected:
  static constexpr int kAntennas = 4;
  static constexpr int kUsers = 2;

  SyncFixture() : layout_(ofdm::numerology{}, kUsers, modem::modulation::qpsk), ch_(kAntennas, kUsers, {0}) {
    test_support::randomise(ch_, 7, {1.0});
  }

  std::size_t len() const { return static_cast<std::size_t>(layout_.layout().frame_length()); }

  /// `lead` noise samples, then `frames` emulated frames (30 dB), per antenna.
  rows_t stream(std::size_t lead, int frames) {
    ofdm::uplink_emulator em(layout_, ch_, 30.0, 5);
    rows_t rows = test_support::recording(em, static_cast<int>(len()), frames);
    rng gen(99);
    for (auto& r : rows) {
      std::vector<cf32> noise(lead);
      for (auto& v : noise) v = cf32(gen.complex_normal(em.noise_variance()));
      r.insert(r.begin(), noise.begin(), noise.end());
    }
    return rows;
  }

  /// Inserts n samples of the streams' noise (no signal) at index `at` of every row.
  void insert_noise(rows_t& rows, std::size_t at, std::size_t n, std::uint64_t seed) {
    const double variance = ofdm::uplink_emulator(layout_, ch_, 30.0, 5).noise_variance();
    rng gen(seed);
    for (auto& r : rows) {
      std::vector<cf32> noise(n);
      for (auto& v : noise) v = cf32(gen.complex_normal(variance));
      r.insert(r.begin() + static_cast<std::ptrdiff_t>(at), noise.begin(), noise.end());
    }
  }

  synchroniser make() const {
    return synchroniser(layout_.layout(), layout_.preamble_waveform(), kAntennas, kThreshold, kBackoff);
  }

  /// One verdict as an event; a released frame's rows must be the stream's samples at the
  /// position the verdict names, on every antenna.
  event record(const sync_verdict& v, const rows_t& rows) const {
    event e{v.what, v.first_sample, {v.offsets.begin(), v.offsets.end()}};
    if (v.what == kind::frame) {
      EXPECT_EQ(v.rows.size(), rows.size());
      for (std::size_t a = 0; a < rows.size(); ++a) {
        const std::size_t at = v.first_sample + v.offsets[a];
        EXPECT_LE(at + len(), rows[a].size());
        if (at + len() > rows[a].size()) continue;
        std::size_t mismatched = 0;
        for (std::size_t i = 0; i < len(); ++i) mismatched += v.rows[a][i] != rows[a][at + i] ? 1U : 0U;
        EXPECT_EQ(mismatched, 0U) << "antenna " << a << " at " << at;
      }
    }
    return e;
  }

  /// Pushes the first `count` samples of every row in chunks, stepping after each commit
  /// until need_more; then (when `drain`) drains. Returns every verdict but need_more.
  std::vector<event> run(synchroniser& s, const rows_t& rows, std::size_t count, std::size_t chunk = 2500,
                         bool drain = false) const {
    std::vector<event> out;
    for (std::size_t at = 0; at < count;) {
      std::size_t room = std::min(chunk, count - at);
      auto dst = s.input(room);
      for (std::size_t a = 0; a < dst.size(); ++a) std::copy_n(rows[a].data() + at, room, dst[a]);
      s.commit(room);
      at += room;
      for (sync_verdict v = s.step(); v.what != kind::need_more; v = s.step()) out.push_back(record(v, rows));
    }
    if (drain) {
      for (sync_verdict v = s.drain(); v.what != kind::need_more; v = s.drain()) out.push_back(record(v, rows));
    }
    return out;
  }

  static std::vector<event> only(const std::vector<event>& events, kind what) {
    std::vector<event> out;
    for (const auto& e : events) {
      if (e.what == what) out.push_back(e);
    }
    return out;
  }

  ofdm::frame_layout layout_;
  test_support::fixed_channel ch_;
};

TEST_F(SyncFixture, FindsTheExactFrameOffsetOfAStreamStartingAnywhere) {
  for (const std::size_t lead : {std::size_t{0}, std::size_t{1}, std::size_t{1777}, len() - 5, 3 * len() + 401}) {
    const int frames = 20;  // more than the buffer holds: compaction on the way
    const rows_t rows = stream(lead, frames);
    synchroniser s = make();
    const auto events = run(s, rows, rows[0].size(), 1999, /*drain=*/true);
    const auto acquired = only(events, kind::acquired);
    ASSERT_EQ(acquired.size(), 1U) << lead;
    EXPECT_EQ(acquired[0].first_sample, lead);
    const auto taken = only(events, kind::frame);
    ASSERT_EQ(taken.size(), static_cast<std::size_t>(frames)) << lead;  // the last one by drain()
    for (std::size_t f = 0; f < taken.size(); ++f) {
      EXPECT_EQ(taken[f].first_sample, lead + f * len()) << lead << " frame " << f;
      EXPECT_EQ(taken[f].offsets, std::vector<std::size_t>(kAntennas, 0));
    }
    // Whole frames of noise before the preamble are searched and discarded, one per step.
    EXPECT_EQ(only(events, kind::searching).size(), lead / len()) << lead;
    EXPECT_EQ(events.size(), 1 + lead / len() + taken.size()) << lead;
    EXPECT_EQ(s.stats().acquisitions, 1U);
    EXPECT_EQ(s.stats().sync_losses, 0U);
    EXPECT_EQ(s.stats().discarded_samples, lead);
    EXPECT_EQ(s.stats().samples, rows[0].size());
    EXPECT_GT(s.stats().last_sync_metric, 0.5);
    EXPECT_FALSE(s.locked());
  }
}

TEST_F(SyncFixture, ChannelsOutOfStepAreAlignedWithTheirOffsetReported) {
  const std::size_t lead = 900;
  const std::size_t cp = static_cast<std::size_t>(layout_.layout().cp_length);
  // Whole messages out of step, and skews the CP does not absorb: the FFT window starts
  // kBackoff samples inside the CP, so a channel more than CP − kBackoff late (33, 36) or
  // more than kBackoff early (−5, −20) would take another symbol's samples.
  const auto late = static_cast<std::ptrdiff_t>(cp) - kBackoff + 1;
  for (const std::ptrdiff_t d : {std::ptrdiff_t{1500}, std::ptrdiff_t{-700}, std::ptrdiff_t{3000}, late,
                                 static_cast<std::ptrdiff_t>(cp), std::ptrdiff_t{-kBackoff - 1}, std::ptrdiff_t{-20}}) {
    rows_t rows = stream(lead, 8);
    // Antenna 2 late by d samples (its stream starts with d zeros), or early by −d (its
    // first −d samples never arrive).
    auto& r2 = rows[2];
    if (d > 0) r2.insert(r2.begin(), static_cast<std::size_t>(d), cf32{});
    else r2.erase(r2.begin(), r2.begin() + (-d));
    std::size_t common = rows[0].size();
    for (const auto& r : rows) common = std::min(common, r.size());
    synchroniser s = make();
    const auto events = run(s, rows, common);
    std::vector<std::size_t> offsets(kAntennas, 0);
    std::uint64_t first = lead;
    if (d > 0) {
      offsets[2] = static_cast<std::size_t>(d);  // antenna 2 drops its d-sample head
    } else {
      for (std::size_t a = 0; a < offsets.size(); ++a) offsets[a] = a == 2 ? 0 : static_cast<std::size_t>(-d);
      first = lead - static_cast<std::size_t>(-d);  // in antenna 2's (earliest) samples
    }
    const auto taken = only(events, kind::frame);
    ASSERT_GE(taken.size(), 5U) << d;
    for (std::size_t f = 0; f < taken.size(); ++f) {
      EXPECT_EQ(taken[f].offsets, offsets) << d;
      EXPECT_EQ(taken[f].first_sample, first + f * len()) << d << " frame " << f;
    }
    // The channels moved are counted: antenna 2, or the three others when acquisition
    // locked on antenna 2's preamble (whichever lag the summed correlation peaked at).
    const std::uint64_t moved = s.stats().misaligned_channels;
    EXPECT_TRUE(moved == 1U || moved == kAntennas - 1U) << d << ": " << moved;
    EXPECT_EQ(s.stats().unaligned_frames, 0U) << d;
    EXPECT_EQ(s.stats().acquisitions, 1U) << d;
  }
  // A skew the FFT window absorbs is what multipath looks like: not realigned, offsets stay
  // 0 (late by half the CP or by CP − backoff, early by the backoff).
  for (const std::ptrdiff_t d : {static_cast<std::ptrdiff_t>(cp / 2), late - 1, std::ptrdiff_t{-kBackoff}}) {
    rows_t rows = stream(lead, 4);
    if (d > 0) rows[1].insert(rows[1].begin(), static_cast<std::size_t>(d), cf32{});
    else rows[1].erase(rows[1].begin(), rows[1].begin() + (-d));
    std::size_t common = rows[0].size();
    for (const auto& r : rows) common = std::min(common, r.size());
    synchroniser s = make();
    const auto taken = only(run(s, rows, common), kind::frame);
    ASSERT_EQ(taken.size(), 3U) << d;
    EXPECT_EQ(taken[0].first_sample, lead) << d;
    EXPECT_EQ(taken[0].offsets, std::vector<std::size_t>(kAntennas, 0)) << d;
    EXPECT_EQ(s.stats().misaligned_channels, 0U) << d;
  }
}

TEST_F(SyncFixture, ATruncatedStreamReleasesNoFrameUntilItIsWhole) {
  const std::size_t lead = 300;
  const rows_t rows = stream(lead, 3);
  {
    // Less than a frame and a symbol: nothing to decide.
    synchroniser s = make();
    EXPECT_TRUE(run(s, rows, len()).empty());
    EXPECT_EQ(s.stats().discarded_samples, 0U);
    EXPECT_FALSE(s.locked());
  }
  {
    // Lock, but the next preamble is cut off: no frame by step(); at the end of the
    // stream drain() releases the one whole frame, and not the cut one.
    synchroniser s = make();
    const auto events = run(s, rows, lead + len() + 300, 1000);
    ASSERT_EQ(events.size(), 1U);
    EXPECT_EQ(events[0].what, kind::acquired);
    EXPECT_EQ(events[0].first_sample, lead);
    EXPECT_TRUE(s.locked());
    const sync_verdict v = s.drain();
    EXPECT_EQ(v.what, kind::frame);
    EXPECT_EQ(v.first_sample, lead);
    EXPECT_EQ(s.drain().what, kind::need_more);
    EXPECT_FALSE(s.locked());
    EXPECT_EQ(s.step().what, kind::need_more);
  }
  {
    // Frame 1 lacks its last 100 samples: step() releases frame 0 (frame 1's preamble is
    // there), and drain() does not release the cut frame 1.
    synchroniser s = make();
    const auto events = run(s, rows, lead + 2 * len() - 100, 1000, /*drain=*/true);
    ASSERT_EQ(events.size(), 2U);
    EXPECT_EQ(events[0].what, kind::acquired);
    EXPECT_EQ(events[1].what, kind::frame);
    EXPECT_EQ(events[1].first_sample, lead);
    EXPECT_FALSE(s.locked());
  }
}

// The stream ends inside the last locked frame. Short by no more than the CP (a multipath
// lock a few samples into each frame leaves the last frame's tail past the end of the
// stream): drain() pads it with silence and releases it. Short by more: the frame is
// dropped and counted as a sync loss, never lost uncounted.
TEST_F(SyncFixture, AStreamEndingInsideTheLastFrameReleasesOrCountsIt) {
  const std::size_t lead = 300;
  const rows_t rows = stream(lead, 3);
  {
    // The stream as sent: its last 5 samples never came; the frame is released with
    // silence in their place.
    rows_t cut = rows;
    for (auto& r : cut) std::fill(r.begin() + static_cast<std::ptrdiff_t>(lead + 3 * len() - 5), r.end(), cf32{});
    synchroniser s = make();
    const auto events = run(s, cut, lead + 3 * len() - 5, 1000, /*drain=*/true);
    const auto taken = only(events, kind::frame);
    ASSERT_EQ(taken.size(), 3U);
    EXPECT_EQ(taken[2].first_sample, lead + 2 * len());
    EXPECT_EQ(s.stats().sync_losses, 0U);
    EXPECT_FALSE(s.locked());
    EXPECT_EQ(s.drain().what, kind::need_more);
  }
  {
    synchroniser s = make();
    const auto events = run(s, rows, lead + 3 * len() - 100, 1000, /*drain=*/true);
    EXPECT_EQ(only(events, kind::frame).size(), 2U);
    EXPECT_EQ(s.stats().sync_losses, 1U);
    EXPECT_FALSE(s.locked());
  }
}

TEST_F(SyncFixture, NonFiniteSamplesInsideAFrameAreCountedAndThatFrameRefused) {
  const std::size_t lead = 2100;
  rows_t rows = stream(lead, 6);
  const std::size_t in_frame2 = lead + 2 * len() + 3000;
  rows[1][in_frame2] = cf32(std::numeric_limits<float>::quiet_NaN(), 0.0F);
  rows[3][in_frame2 + 1] = cf32(0.0F, -std::numeric_limits<float>::infinity());
  rows[3][in_frame2 + 2] = cf32(std::numeric_limits<float>::infinity(), std::numeric_limits<float>::quiet_NaN());
  synchroniser s = make();
  const auto events = run(s, rows, rows[0].size(), 2500, /*drain=*/true);
  const auto refused = only(events, kind::bad_samples);
  ASSERT_EQ(refused.size(), 1U);
  EXPECT_EQ(refused[0].first_sample, lead + 2 * len());
  const auto taken = only(events, kind::frame);
  ASSERT_EQ(taken.size(), 5U);  // 0, 1, 3, 4, 5
  const std::size_t expected[] = {0, 1, 3, 4, 5};
  for (std::size_t i = 0; i < taken.size(); ++i) EXPECT_EQ(taken[i].first_sample, lead + expected[i] * len());
  EXPECT_EQ(s.stats().nonfinite_samples, 3U);
  EXPECT_EQ(s.stats().nonfinite_frames, 1U);
  EXPECT_EQ(s.stats().sync_losses, 0U);
}

// Isolated NaN samples committed together: each refuses its own frame only (one span per
// commit refused every frame between them).
TEST_F(SyncFixture, IsolatedNonFiniteSamplesCommittedTogetherRefuseOnlyTheirFrames) {
  const std::size_t lead = 700;
  rows_t rows = stream(lead, 7);
  rows[1][lead + 1 * len() + 3000] = cf32(std::numeric_limits<float>::quiet_NaN(), 0.0F);
  rows[2][lead + 5 * len() + 100] = cf32(0.0F, std::numeric_limits<float>::infinity());
  synchroniser s = make();
  const auto events = run(s, rows, rows[0].size(), rows[0].size(), /*drain=*/true);
  const auto refused = only(events, kind::bad_samples);
  ASSERT_EQ(refused.size(), 2U);
  EXPECT_EQ(refused[0].first_sample, lead + 1 * len());
  EXPECT_EQ(refused[1].first_sample, lead + 5 * len());
  EXPECT_EQ(only(events, kind::frame).size(), 5U);  // 0, 2, 3, 4, 6
  EXPECT_EQ(s.stats().nonfinite_samples, 2U);
  EXPECT_EQ(s.stats().nonfinite_frames, 2U);
}

// Many NaN runs, each in its own commit, between a NaN and the release of its frame: none is
// forgotten (a store of the last 256 runs evicted frame 2's, which was then decoded).
TEST_F(SyncFixture, NonFiniteSamplesAreRememberedUntilTheirFrameIsChecked) {
  const std::size_t lead = 300;
  rows_t rows = stream(lead, 5);
  rows[1][lead + 2 * len() + 3000] = cf32(std::numeric_limits<float>::quiet_NaN(), 0.0F);
  for (std::size_t i = 0; i < 300; ++i) {  // frame 3's preamble, committed one sample at a time
    rows[3][lead + 3 * len() + 100 + i] = cf32(std::numeric_limits<float>::quiet_NaN(), 0.0F);
  }
  synchroniser s = make();
  const auto events = run(s, rows, rows[0].size(), 1, /*drain=*/true);
  const auto refused = only(events, kind::bad_samples);
  ASSERT_EQ(refused.size(), 2U);
  EXPECT_EQ(refused[0].first_sample, lead + 2 * len());
  EXPECT_EQ(refused[1].first_sample, lead + 3 * len());
  EXPECT_EQ(only(events, kind::frame).size(), 3U);  // 0, 1, 4
  EXPECT_EQ(s.stats().nonfinite_samples, 301U);
}

// The signal stops after a frame (the end of a burst): that frame is whole and released, the
// lock dropped without a sync loss, and the next burst acquired. A burst whose last frame is
// cut short is a sync loss: that frame is not released.
TEST_F(SyncFixture, TheLastFrameOfABurstIsReleasedAndACutOneIsNot) {
  const std::size_t lead = 1200;
  const std::size_t silence = 5000;
  rows_t rows = stream(lead, 6);
  const std::size_t second = lead + 3 * len() + silence;  // frame 3's first sample
  insert_noise(rows, lead + 3 * len(), silence, 31);
  insert_noise(rows, rows[0].size(), 2000, 32);
  {
    synchroniser s = make();
    const auto events = run(s, rows, rows[0].size(), 2500, /*drain=*/true);
    std::vector<std::pair<kind, std::uint64_t>> got;
    for (const auto& e : events) {
      if (e.what != kind::searching) got.emplace_back(e.what, e.first_sample);
    }
    const std::vector<std::pair<kind, std::uint64_t>> want = {
        {kind::acquired, lead},   {kind::frame, lead},           {kind::frame, lead + len()},
        {kind::frame, lead + 2 * len()},  // the end of the first burst
        {kind::acquired, second}, {kind::frame, second},         {kind::frame, second + len()},
        {kind::frame, second + 2 * len()},  // the end of the stream
    };
    EXPECT_EQ(got, want);
    EXPECT_EQ(s.stats().burst_ends, 2U);
    EXPECT_EQ(s.stats().sync_losses, 0U);
    EXPECT_EQ(s.stats().acquisitions, 2U);
  }
  {
    // The first burst's last frame loses its last 200 samples (noise follows at once).
    rows_t cut = rows;
    for (auto& r : cut) {
      const auto end = static_cast<std::ptrdiff_t>(lead + 3 * len());
      std::fill(r.begin() + end - 200, r.begin() + end, cf32{});
    }
    synchroniser s = make();
    const auto events = run(s, cut, cut[0].size(), 2500, /*drain=*/true);
    const auto lost = only(events, kind::lost_lock);
    ASSERT_EQ(lost.size(), 1U);
    EXPECT_EQ(lost[0].first_sample, lead + 2 * len());
    EXPECT_EQ(only(events, kind::frame).size(), 5U);
    EXPECT_EQ(s.stats().burst_ends, 1U);
    EXPECT_EQ(s.stats().sync_losses, 1U);
  }
}

// A stream of one frame (a payload that fits in one, the transmitter then stops): the search
// needs a symbol past a frame, so it had not run when the stream ended and drain() released
// nothing. The stream is over: drain() appends silence, the frame is found and released (the
// end of a burst); a frame cut short is still not released. The padding is neither taken in
// nor discarded.
TEST_F(SyncFixture, AOneFrameStreamIsReleasedAtItsEnd) {
  // Lead 700: locked before the end, released by drain() as before; 0 and a frame and 300:
  // never searched before the end.
  for (const std::size_t lead : {std::size_t{0}, std::size_t{700}, len() + 300}) {
    const rows_t rows = stream(lead, 1);
    synchroniser s = make();
    const auto events = run(s, rows, rows[0].size(), 2500, /*drain=*/true);
    const auto taken = only(events, kind::frame);
    ASSERT_EQ(taken.size(), 1U) << lead;
    EXPECT_EQ(taken[0].first_sample, lead);
    EXPECT_EQ(s.stats().samples, rows[0].size());
    EXPECT_EQ(s.stats().discarded_samples, lead);
    EXPECT_EQ(s.stats().sync_losses, 0U);
    EXPECT_FALSE(s.locked());
  }
  const rows_t rows = stream(500, 1);
  synchroniser s = make();
  const auto events = run(s, rows, rows[0].size() - 300, 2500, /*drain=*/true);
  EXPECT_TRUE(only(events, kind::frame).empty());
  EXPECT_EQ(only(events, kind::lost_lock).size(), 1U);
}

TEST_F(SyncFixture, NoiseAloneNeverLocks) {
  const int frames = 6;
  rows_t rows(kAntennas, std::vector<cf32>(static_cast<std::size_t>(frames) * len()));
  rng gen(123);
  for (auto& r : rows) {
    for (auto& v : r) v = cf32(gen.complex_normal(1.0));
  }
  synchroniser s = make();
  const auto events = run(s, rows, rows[0].size(), 4096);
  ASSERT_FALSE(events.empty());
  for (const auto& e : events) EXPECT_EQ(e.what, kind::searching);
  EXPECT_EQ(s.stats().acquisitions, 0U);
  EXPECT_EQ(s.stats().discarded_samples, events.size() * len());
  // Noise correlates with the preamble at about 1/FFT per lag, far below the threshold.
  EXPECT_LT(s.stats().last_sync_metric, kThreshold / 2);
  EXPECT_GT(s.stats().last_sync_metric, 0.0);
  // At the end the rest is searched too (behind appended silence): every sample discarded.
  for (sync_verdict v = s.drain(); v.what != kind::need_more; v = s.drain()) EXPECT_EQ(v.what, kind::searching);
  EXPECT_EQ(s.stats().acquisitions, 0U);
  EXPECT_EQ(s.stats().discarded_samples, rows[0].size());
}

TEST_F(SyncFixture, ReacquiresAfterAGapAtTheFirstWholeFrame) {
  const std::size_t lead = 500;
  const rows_t full = stream(lead, 10);
  // Frame 3 cut after 2000 samples and frame 4 lost: frame 5 follows at lead + 3·len + 2000.
  rows_t rows(full.size());
  const std::size_t cut = lead + 3 * len() + 2000;
  const std::size_t resume = lead + 5 * len();
  for (std::size_t a = 0; a < full.size(); ++a) {
    rows[a].assign(full[a].begin(), full[a].begin() + static_cast<std::ptrdiff_t>(cut));
    rows[a].insert(rows[a].end(), full[a].begin() + static_cast<std::ptrdiff_t>(resume), full[a].end());
  }
  synchroniser s = make();
  const auto events = run(s, rows, rows[0].size(), 3001);
  std::vector<std::pair<kind, std::uint64_t>> got;
  for (const auto& e : events) got.emplace_back(e.what, e.first_sample);
  const std::uint64_t again = cut;  // frame 5's first sample in the stream received
  const std::vector<std::pair<kind, std::uint64_t>> want = {
      {kind::acquired, lead},           {kind::frame, lead},
      {kind::frame, lead + len()},      {kind::frame, lead + 2 * len()},
      {kind::lost_lock, lead + 3 * len()},  // frame 3: the next preamble is not where it should be
      {kind::acquired, again},          {kind::frame, again},
      {kind::frame, again + len()},     {kind::frame, again + 2 * len()},
      {kind::frame, again + 3 * len()},  // frame 9 waits for a next preamble
  };
  EXPECT_EQ(got, want);
  EXPECT_EQ(s.stats().sync_losses, 1U);
  EXPECT_EQ(s.stats().acquisitions, 2U);
}

// Samples lost inside a frame (a transport gap of a few samples on every channel) move the
// next preamble: 2 or 3 lost samples drop that frame (counted as slipped) and the lock
// follows, the following frames released whole at their shifted positions; 1 lost sample
// cannot be told from clock drift and is followed (that frame is released); 5 is beyond the
// tracking window and loses the lock.
TEST_F(SyncFixture, SamplesLostInsideAFrameDropThatFrame) {
  const std::size_t lead = 300;
  const rows_t full = stream(lead, 8);
  for (const std::size_t gap : {1U, 2U, 3U, 5U}) {
    rows_t rows = full;
    const std::size_t cut = lead + 3 * len() + 1000;  // inside frame 3
    for (auto& r : rows) r.erase(r.begin() + static_cast<std::ptrdiff_t>(cut), r.begin() + static_cast<std::ptrdiff_t>(cut + gap));
    synchroniser s = make();
    const auto events = run(s, rows, rows[0].size(), 2500, true);
    std::vector<std::uint64_t> released;
    for (const auto& e : only(events, kind::frame)) released.push_back(e.first_sample);
    const bool frame3 = std::find(released.begin(), released.end(), lead + 3 * len()) != released.end();
    if (gap == 1) {
      EXPECT_TRUE(frame3);
      EXPECT_EQ(s.stats().slipped_frames, 0U);
      EXPECT_EQ(released.size(), 8U);
    } else if (gap <= 3) {
      EXPECT_FALSE(frame3) << gap;
      EXPECT_EQ(s.stats().slipped_frames, 1U) << gap;
      EXPECT_EQ(only(events, kind::slipped).size(), 1U) << gap;
      EXPECT_EQ(s.stats().sync_losses, 0U) << gap;
      // Frames 0-2 where they are; 4-7 at their shifted positions (a 3-sample move is seen at
      // the tracking window's edge, 2 samples, and the last sample is followed as drift at the
      // next frame: within the CP either way).
      ASSERT_EQ(released.size(), 7U) << gap;
      for (std::size_t k = 0; k < 3; ++k) EXPECT_EQ(released[k], lead + k * len()) << gap;
      for (std::size_t k = 4; k < 8; ++k) {
        const auto at = static_cast<double>(released[k - 1]);
        EXPECT_LE(std::abs(at - static_cast<double>(lead + k * len() - gap)), 1.0) << gap << " frame " << k;
      }
    } else {
      EXPECT_FALSE(frame3);
      EXPECT_EQ(s.stats().slipped_frames, 0U);
      EXPECT_EQ(s.stats().sync_losses, 1U);
    }
  }
}

// receiver::push copies and checks piece by piece: an exact copy, and a NaN or ±Inf in either
// part of any one sample (vector body or scalar tail, first or a later 2048-sample piece) is
// seen; huge finite values are not.
TEST(Synchroniser, CopyCheckingFiniteCopiesExactlyAndSeesEveryNonFiniteSample) {
  for (const std::size_t n : {std::size_t{0}, std::size_t{1}, std::size_t{7}, std::size_t{37}, std::size_t{1000},
                              std::size_t{2048}, std::size_t{4133}}) {
    std::vector<cf32> from(n), to(n, cf32(-1.0F, -1.0F));
    for (std::size_t i = 0; i < n; ++i) from[i] = cf32(static_cast<float>(i) * 0.5F, -3.0e38F);
    EXPECT_TRUE(copy_checking_finite(from.data(), n, to.data())) << n;
    EXPECT_EQ(to, from) << n;
    const float bad[] = {std::numeric_limits<float>::quiet_NaN(), std::numeric_limits<float>::infinity(),
                         -std::numeric_limits<float>::infinity()};
    for (std::size_t i = 0; i < n; i += std::max<std::size_t>(1, n / 9)) {
      for (const float b : bad) {
        for (const bool imag : {false, true}) {
          std::vector<cf32> with = from;
          with[i] = imag ? cf32(1.0F, b) : cf32(b, 1.0F);
          EXPECT_FALSE(copy_checking_finite(with.data(), n, to.data())) << n << " at " << i;
          EXPECT_EQ(std::memcmp(to.data(), with.data(), n * sizeof(cf32)), 0) << n << " at " << i;
        }
      }
    }
  }
}

TEST(Synchroniser, BadConfigurationIsRefused) {
  const ofdm::numerology n;
  const ofdm::frame_layout layout(n, 2, modem::modulation::qpsk);
  EXPECT_THROW(synchroniser(n, layout.preamble_waveform(), 0, 0.1, 4), config_error);
  EXPECT_THROW(synchroniser(n, layout.preamble_waveform(), 2, 0.0, 4), config_error);
  EXPECT_THROW(synchroniser(n, layout.preamble_waveform(), 2, 1.0, 4), config_error);
  EXPECT_THROW(synchroniser(n, layout.preamble_waveform().first(100), 2, 0.1, 4), config_error);
  EXPECT_THROW(synchroniser(n, layout.preamble_waveform(), 2, 0.1, -1), config_error);
  EXPECT_THROW(synchroniser(n, layout.preamble_waveform(), 2, 0.1, n.cp_length + 1), config_error);
}

}  // namespace
}  // namespace amimo::pipeline
