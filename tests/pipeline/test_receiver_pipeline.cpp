// The receiver's frame pipeline (frame n's back end overlapping frame n+1's front end):
// results bit-identical to the unpipelined path for any thread count, flush() and the
// draining accessors, and a back-end exception reaching the caller.
#include <amimo/ofdm/uplink_emulator.h>
#include <amimo/pipeline/receiver.h>

#include "receiver_test_support.h"

#include <gtest/gtest.h>

#include <stdexcept>
#include <vector>

namespace amimo::pipeline {
namespace {

using test_support::fixed_channel;
using test_support::randomise;

// FNV-1a over every byte a sink is handed (LLRs, equalised symbols, noise variances) and the
// frame facts, folded per frame in (chain, user) order: consume() runs for different users
// on different threads, each updating only its own (chain, user) word.
class hashing_sink final : public frame_sink {
 public:
  hashing_sink(int users, int chains) : users_(users), words_(static_cast<std::size_t>(users * chains), 0) {}
  void begin_frame(const frame_info& f) override {
    mix(total_, &f.index, sizeof f.index);
    mix(total_, &f.sequence, sizeof f.sequence);
    mix(total_, &f.noise_variance, sizeof f.noise_variance);
  }
  void consume(const user_frame_view& v) override {
    auto& w = words_[static_cast<std::size_t>(v.chain * users_ + v.user)];
    w = kBasis;
    mix(w, &v.frame_index, sizeof v.frame_index);
    mix(w, v.llr.data(), v.llr.size_bytes());
    mix(w, v.equalised.data(), v.equalised.size_bytes());
    mix(w, v.noise_variance.data(), v.noise_variance.size_bytes());
  }
  void end_frame(const frame_info&) override {
    for (const std::uint64_t w : words_) mix(total_, &w, sizeof w);
    ++frames_;
  }
  std::uint64_t total() const noexcept { return total_; }
  int frames() const noexcept { return frames_; }

 private:
  static constexpr std::uint64_t kBasis = 0xcbf29ce484222325ULL;
  static void mix(std::uint64_t& h, const void* data, std::size_t bytes) {
    const auto* p = static_cast<const unsigned char*>(data);
    for (std::size_t i = 0; i < bytes; ++i) h = (h ^ p[i]) * 0x100000001b3ULL;
  }
  int users_;
  std::vector<std::uint64_t> words_;
  std::uint64_t total_ = kBasis;
  int frames_ = 0;
};

class throwing_sink final : public frame_sink {
 public:
  void consume(const user_frame_view&) override { throw std::runtime_error("sink failed"); }
};

receiver_config config_for(int threads, bool pipelined) {
  auto cfg = test_support::two_chain_config(8, 4, modem::modulation::qam16, 11);
  // The analog chain draws noise per (frame, block, chain): its results and modelled
  // accounting show any change of order; the digital chain is the plain path.
  cfg.chains = {{detect::detector_kind::zf, {"analog", {{"profile", "paper-board"}, {"iters", "2"}}}, {}},
                {detect::detector_kind::mmse, {"digital-f32", {}}, {}}};
  cfg.threads = threads;
  cfg.pipeline_frames = pipelined;
  return cfg;
}

std::vector<std::vector<cf32>> recording_for(const receiver_config& cfg, int frames) {
  const ofdm::frame_layout layout(cfg.layout, cfg.users, cfg.modulation);
  fixed_channel ch(cfg.antennas, cfg.users, {0, 3});
  randomise(ch, 6, {0.8, 0.2});
  ofdm::uplink_emulator em(layout, ch, 14.0, cfg.seed);
  return test_support::recording(em, cfg.layout.frame_length(), frames);
}

void push_frames(receiver& rx, const std::vector<std::vector<cf32>>& rows, int first, int count) {
  const auto len = static_cast<std::size_t>(rx.config().layout.frame_length());
  std::vector<const cf32*> p;
  for (const auto& r : rows) p.push_back(r.data() + static_cast<std::size_t>(first) * len);
  rx.push(p, static_cast<std::size_t>(count) * len);
}

TEST(ReceiverPipeline, ResultsAreBitIdenticalForAnyThreadCountWithAndWithoutOverlap) {
  constexpr int kFrames = 7;
  const auto rows = recording_for(config_for(1, false), kFrames);
  struct outcome {
    std::uint64_t hash = 0;
    int sink_frames = 0;
    receiver_stats stats;
  };
  const auto run = [&](int threads, bool pipelined) {
    receiver rx(config_for(threads, pipelined));
    hashing_sink sink(rx.config().users, 2);
    rx.add_sink(sink);
    test_support::play(rx, rows, rows[0].size(), 2777);  // chunks that do not align with frames
    rx.finish();
    return outcome{sink.total(), sink.frames(), rx.stats()};
  };
  const outcome ref = run(1, false);
  ASSERT_EQ(ref.stats.frames, static_cast<std::uint64_t>(kFrames));
  ASSERT_EQ(ref.sink_frames, kFrames);
  ASSERT_GT(ref.stats.chains[0].bit_errors, 0U) << "a test that the noise draws are the same needs errors";
  for (const int threads : {1, 2, 3, 5}) {
    for (const bool pipelined : {false, true}) {
      const outcome o = run(threads, pipelined);
      SCOPED_TRACE(::testing::Message() << threads << " threads, pipelined " << pipelined);
      EXPECT_EQ(o.hash, ref.hash) << "LLRs, equalised symbols, noise variances or frame facts differ";
      EXPECT_EQ(o.sink_frames, ref.sink_frames);
      EXPECT_EQ(o.stats.frames, ref.stats.frames);
      EXPECT_EQ(o.stats.last_frame_index, ref.stats.last_frame_index);
      EXPECT_EQ(o.stats.noise_variance, ref.stats.noise_variance);
      EXPECT_EQ(o.stats.snr_estimate, ref.stats.snr_estimate);
      for (std::size_t c = 0; c < ref.stats.chains.size(); ++c) {
        const auto& a = o.stats.chains[c];
        const auto& b = ref.stats.chains[c];
        EXPECT_EQ(a.bits, b.bits);
        EXPECT_EQ(a.bit_errors, b.bit_errors);
        EXPECT_EQ(a.user_errors, b.user_errors);
        EXPECT_EQ(a.user_error_energy, b.user_error_energy);
        EXPECT_EQ(a.erased_streams, b.erased_streams);
        EXPECT_EQ(a.solver.solves, b.solver.solves);
        EXPECT_EQ(a.solver.iterations, b.solver.iterations);
        EXPECT_EQ(a.solver.modelled_matrix_joules, b.solver.modelled_matrix_joules);
        EXPECT_EQ(a.solver.modelled_solve_joules, b.solver.modelled_solve_joules);
        EXPECT_EQ(a.solver.modelled_solve_seconds, b.solver.modelled_solve_seconds);
        EXPECT_EQ(a.solver.residual_sum, b.solver.residual_sum);
      }
    }
  }
}

// Frame 0 is released by frame 1's first samples; frame 1 stays in the synchroniser.
TEST(ReceiverPipeline, FlushFinishesTheFrameInFlightAndStatsDrains) {
  const auto cfg = config_for(2, true);
  const auto rows = recording_for(cfg, 3);
  receiver rx(cfg);
  hashing_sink sink(cfg.users, 2);
  rx.add_sink(sink);
  push_frames(rx, rows, 0, 2);
  rx.flush();
  EXPECT_EQ(sink.frames(), 1) << "flush() returns with frame 0 delivered";
  EXPECT_EQ(rx.frames_counted(), 1U);
  EXPECT_EQ(rx.stats().frames, 1U);
  // add_sink drains first: the new sink sees only frames committed after it.
  push_frames(rx, rows, 2, 1);  // releases frame 1
  hashing_sink late(cfg.users, 2);
  rx.add_sink(late);
  EXPECT_EQ(sink.frames(), 2);
  EXPECT_EQ(late.frames(), 0);
  rx.finish();  // frame 2
  EXPECT_EQ(sink.frames(), 3);
  EXPECT_EQ(late.frames(), 1);
  EXPECT_EQ(rx.stats().frames, 3U);
}

TEST(ReceiverPipeline, ASinkExceptionIsRethrownOnTheCaller) {
  const auto rows = recording_for(config_for(1, false), 4);
  {
    // Overlapped: frame 0's back end fails on a worker (or wherever it ran); the caller
    // sees it at flush(), once.
    throwing_sink bad;  // declared first: a sink outlives the receiver that borrows it
    receiver rx(config_for(2, true));
    rx.add_sink(bad);
    push_frames(rx, rows, 0, 2);
    EXPECT_THROW(rx.flush(), std::runtime_error);
    EXPECT_NO_THROW(rx.flush());
  }
  {
    // ... or at the next commit, when a later frame needs the back end.
    throwing_sink bad;  // declared first: a sink outlives the receiver that borrows it
    receiver rx(config_for(3, true));
    rx.add_sink(bad);
    EXPECT_THROW(
        {
          push_frames(rx, rows, 0, 4);
          rx.finish();
        },
        std::runtime_error);
  }
  {
    // Not overlapped (one thread): on the commit that ran the frame.
    throwing_sink bad;  // declared first: a sink outlives the receiver that borrows it
    receiver rx(config_for(1, true));
    rx.add_sink(bad);
    EXPECT_THROW(push_frames(rx, rows, 0, 2), std::runtime_error);
  }
  {
    // Destroyed with a failed back end in flight: no exception escapes the destructor.
    throwing_sink bad;  // declared first: a sink outlives the receiver that borrows it
    receiver rx(config_for(2, true));
    rx.add_sink(bad);
    push_frames(rx, rows, 0, 2);
  }
}

}  // namespace
}  // namespace amimo::pipeline
