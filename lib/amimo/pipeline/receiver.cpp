#include <amimo/pipeline/receiver.h>

#include <amimo/core/error.h>
#include <amimo/core/rng.h>
#include <amimo/pipeline/ofdm_demodulator.h>
#include <amimo/pipeline/scoring_sink.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <numbers>
#include <type_traits>

namespace amimo::pipeline {
namespace {

using clock_type = std::chrono::steady_clock;

double seconds_since(clock_type::time_point t0) {
  return std::chrono::duration<double>(clock_type::now() - t0).count();
}

}  // namespace

int resolved_smoothing(const receiver_config& config) noexcept {
  return config.estimation_smoothing == receiver_config::kAutoSmoothing
             ? auto_smoothing(config.layout, config.users)
             : config.estimation_smoothing;
}

void validate(const receiver_config& c) {
  ofdm::validate(c.layout);
  if (c.antennas < 1 || c.antennas > 1024) throw config_error("antennas must be in [1, 1024]");
  if (c.users < 1 || c.users > 256) throw config_error("users must be in [1, 256]");
  if (c.chains.empty()) throw config_error("at least one detector × solver chain is needed");
  for (const auto& ch : c.chains) {
    if (ch.detector == detect::detector_kind::zf && c.users > c.antennas)
      throw config_error("zero-forcing needs users ≤ antennas");
    solver::validate_solver_spec(ch.solver);
  }
  if (c.subcarrier_blocks < 1 || c.subcarrier_blocks > c.layout.used_subcarriers)
    throw config_error("subcarrier_blocks must be in [1, used_subcarriers]");
  if (c.remote_subcarrier_blocks < 0 || c.remote_subcarrier_blocks > c.layout.used_subcarriers)
    throw config_error("remote_subcarrier_blocks must be in [0, used_subcarriers] (0: subcarrier_blocks)");
  if (c.fft_backoff < 0 || c.fft_backoff > c.layout.cp_length)
    throw config_error("fft_backoff must be in [0, cp_length]");
  if (!(c.sync_threshold > 0.0 && c.sync_threshold < 1.0))
    throw config_error("sync_threshold must be in (0, 1)");
  // The search regenerates a PRBS prefix per candidate frame and user: bounded work.
  if (c.frame_search < 1 || c.frame_search > kMaxFrameSearch) {
    throw config_error("frame_search must be in [1, " + std::to_string(kMaxFrameSearch) + "]");
  }
  const ofdm::frame_layout probe(c.layout, c.users, c.modulation);
  if (c.known_bits % probe.bits_per_symbol() != 0 || c.known_bits > probe.bits_per_user())
    throw config_error("known_bits must be a multiple of the bits per symbol, at most the data bits per user");
}

std::string_view to_string(stage s) noexcept {
  switch (s) {
    case stage::sync: return "sync";
    case stage::fft: return "fft";
    case stage::estimate: return "estimate";
    case stage::detect: return "detect";
    case stage::demap: return "demap";
    case stage::sink: return "sink";
    case stage::count: break;
  }
  return "?";
}

void latency_record::add(double seconds) noexcept {
  samples_[count_ % samples_.size()] = seconds;
  ++count_;
  total_ += seconds;
}

double latency_record::quantile(double q) const {
  const auto n = static_cast<std::size_t>(std::min<std::uint64_t>(count_, samples_.size()));
  if (n == 0) return 0.0;
  std::vector<double> copy(samples_.begin(), samples_.begin() + static_cast<std::ptrdiff_t>(n));
  const auto idx = static_cast<std::size_t>(std::clamp(q, 0.0, 1.0) * static_cast<double>(n - 1) + 0.5);
  std::nth_element(copy.begin(), copy.begin() + static_cast<std::ptrdiff_t>(idx), copy.end());
  return copy[idx];
}

double chain_stats::ber() const noexcept {
  return bits == 0 ? 0.0 : static_cast<double>(bit_errors) / static_cast<double>(bits);
}
double chain_stats::user_ber(int k) const noexcept {
  const auto i = static_cast<std::size_t>(k);
  return user_bits[i] == 0 ? 0.0 : static_cast<double>(user_errors[i]) / static_cast<double>(user_bits[i]);
}
double chain_stats::user_evm(int k) const noexcept {
  const auto i = static_cast<std::size_t>(k);
  return user_symbols[i] == 0 ? 0.0 : std::sqrt(user_error_energy[i] / static_cast<double>(user_symbols[i]));
}

double chain_stats::evm() const noexcept {
  double energy = 0.0;
  std::uint64_t symbols = 0;
  for (std::size_t k = 0; k < user_symbols.size(); ++k) {
    energy += user_error_energy[k];
    symbols += user_symbols[k];
  }
  return symbols == 0 ? 0.0 : std::sqrt(energy / static_cast<double>(symbols));
}

// One frame's front-end product, read by its back end: the FFT grid and guard-bin N0
// (ofdm_demodulator), the channel estimate, and the SNR estimate.
struct receiver::frame_slot {
  frame_slot(const receiver_config& config, const ofdm::frame_layout& layout, int workers, int fft_parts)
      : estimator(layout, config.antennas, resolved_smoothing(config), config.interpolation),
        demod(config.layout, config.antennas, config.fft_backoff,
              std::vector<int>(estimator.guard_bins().begin(), estimator.guard_bins().end()), workers, fft_parts) {}
  channel_estimator estimator;
  ofdm_demodulator demod;  // CP removal, FFT grid, guard-bin N0
  double noise_variance = 0.0;
  double snr_estimate = 0.0;
};

receiver::receiver(const receiver_config& config)
    : config_(config),
      layout_((validate(config), config.layout), config.users, config.modulation),
      demapper_(layout_.mapper(), static_cast<std::size_t>(config.layout.data_symbols) *
                                      static_cast<std::size_t>(config.layout.used_subcarriers)),
      sync_(config.layout, layout_.preamble_waveform(), config.antennas, config.sync_threshold, config.fft_backoff),
      identifier_(layout_, config.seed, config.known_bits, config.frame_search) {
  const auto& n = config_.layout;
  const auto used = static_cast<std::size_t>(n.used_subcarriers);
  const auto users = static_cast<std::size_t>(config_.users);

  // The receiving thread works as one of the participants, and idle threads poll for
  // 200 µs before blocking: a frame dispatches several jobs within a millisecond, and a
  // futex wake-up per job would cost more than some of the stages.
  pool_ = std::make_unique<thread_pool>(config_.threads, /*caller_joins=*/true, std::chrono::microseconds{200});
  pipelined_ = config_.pipeline_frames && pool_->size() >= 2;
  std::size_t block_results = 0;
  for (std::size_t c = 0; c < config_.chains.size(); ++c) {
    const int blocks = solver::latency_bound(config_.chains[c].solver) && config_.remote_subcarrier_blocks > 0
                           ? config_.remote_subcarrier_blocks
                           : config_.subcarrier_blocks;
    chain_blocks_.push_back(static_cast<std::size_t>(blocks));
    chain_first_.push_back(block_results);
    block_results += static_cast<std::size_t>(blocks);
    // Block b covers [bound(b), bound(b + 1)): b·used/blocks, for a chain on the compact
    // SIMD kernels rounded to a multiple of kLaneAlignment subcarriers, so its groups of 8 or
    // 16 lanes are full (25-subcarrier blocks would fill 25 of 32 lanes). A fixed rule, as
    // the split is: never the thread count or the CPU.
    const bool aligned = solver::has_native_batch(config_.chains[c].solver) &&
                         !solver::latency_bound(config_.chains[c].solver);
    const auto used_u = static_cast<std::size_t>(n.used_subcarriers);
    int max_block = 1;
    for (int b = 0; b <= blocks; ++b) {
      std::size_t bound = static_cast<std::size_t>(b) * used_u / static_cast<std::size_t>(blocks);
      if (aligned && b < blocks) bound = std::min(used_u, (bound + kLaneAlignment / 2) / kLaneAlignment * kLaneAlignment);
      if (b > 0) max_block = std::max(max_block, static_cast<int>(bound - block_bounds_.back()));
      block_bounds_.push_back(bound);
    }
    chains_.push_back(std::make_unique<equaliser_chain>(config_.chains[c], n, config_.antennas, config_.users,
                                                        config_.mode, pool_->size(), max_block,
                                                        derive_seed(config_.seed, {0x5017ULL, c})));
  }
  // Items are handed out in order: the chains that wait on round trips start first.
  for (const bool remote_pass : {true, false}) {
    for (std::size_t c = 0; c < config_.chains.size(); ++c) {
      if (solver::latency_bound(config_.chains[c].solver) != remote_pass) continue;
      for (std::size_t b = 0; b < chain_blocks_[c]; ++b) detect_items_.push_back({c, b});
    }
  }
  // Contiguous ranges of (symbol, antenna) transforms: per-item dispatch would cost more
  // than a 512-point FFT. A fixed number of them (whatever the thread count, so N0's sum
  // order is too), enough that a worker that wakes late leaves the others work to take.
  constexpr int kFftParts = 16;
  const int transforms = n.symbols_per_frame() * config_.antennas;
  for (auto& slot : slots_) {
    slot = std::make_unique<frame_slot>(config_, layout_, pool_->size(), std::min(transforms, kFftParts));
  }
  back_task_ = [this](int, std::size_t) { back_end(*back_slot_); };

  const std::size_t per_user = static_cast<std::size_t>(n.data_symbols) * used;
  for (std::size_t c = 0; c < config_.chains.size(); ++c) {
    equalised_.emplace_back(users * per_user, cf64{});
    variance_.emplace_back(users * per_user, 0.0);
    llr_.emplace_back(users * layout_.bits_per_user(), 0.0F);
    chain_stats cs;
    cs.label = config_.chains[c].label();
    cs.user_bits.assign(users, 0);
    cs.user_errors.assign(users, 0);
    cs.user_erased_bits.assign(users, 0);
    cs.user_error_energy.assign(users, 0.0);
    cs.user_symbols.assign(users, 0);
    stats_.chains.push_back(std::move(cs));
  }
  scoring_ = std::make_unique<scoring_sink>(layout_.mapper(), config_.users, per_user, stats_.chains);
  sinks_.push_back(scoring_.get());
  block_unresolved_.assign(block_results, 0);
  block_erased_.assign(block_unresolved_.size(), 0);
  block_accounting_.assign(block_unresolved_.size(), {});
}

receiver::~receiver() {
  // The back end's task refers to this receiver and its sinks: let it end first (its
  // exception, if any, was the caller's to see through flush()).
  if (back_end_in_flight_) {
    try {
      pool_->wait(back_job_);
    } catch (...) {  // NOLINT(bugprone-empty-catch): nobody left to tell
    }
  }
}

void receiver::add_sink(frame_sink& sink) {
  flush();
  sinks_.push_back(&sink);
}

const receiver_stats& receiver::stats() {
  flush();
  return stats_;
}

// The timing decorator: every stage of a frame runs through here, and its wall time is
// recorded (measured) in stats_.latency. A stage that returns a bool says whether this run
// was a frame's work (the synchroniser's steps that release no frame slot are not).
template <class F>
void receiver::run_stage(stage s, F&& f) {
  const auto t0 = clock_type::now();
  if constexpr (std::is_void_v<std::invoke_result_t<F>>) {
    std::forward<F>(f)();
  } else if (!std::forward<F>(f)()) {
    return;
  }
  stats_.latency[static_cast<int>(s)].add(seconds_since(t0));
}

std::span<cf32* const> receiver::input(std::size_t& max) { return sync_.input(max); }

void receiver::push(std::span<const cf32* const> channels, std::size_t count) {
  std::size_t done = 0;
  while (done < count) {
    std::size_t room = count - done;
    auto dst = input(room);
    bool finite = true;
    for (std::size_t a = 0; a < dst.size(); ++a) {
      finite = copy_checking_finite(channels[a] + done, room, dst[a]) && finite;
    }
    commit_checked(room, finite);
    done += room;
  }
}

void receiver::commit(std::size_t count) { commit_checked(count, false); }

void receiver::commit_checked(std::size_t count, bool known_finite) {
  const auto t0 = clock_type::now();
  sync_.commit(count, known_finite);
  process();
  stats_.busy_seconds += seconds_since(t0);
}

void receiver::process() {
  for (;;) {
    sync_verdict v;
    run_stage(stage::sync, [this, &v] {
      v = sync_.step();
      return v.frame_slot();  // timed per frame slot: searching and waiting are not a frame's work
    });
    if (v.what == sync_verdict::kind::need_more) break;
    take(v);
  }
  static_cast<sync_stats&>(stats_) = sync_.stats();
}

// A verdict's frame: decoded, or (dropped in the synchroniser) its PRBS index skipped.
void receiver::take(const sync_verdict& v) {
  using kind = sync_verdict::kind;
  if (v.what == kind::frame) {
    process_frame(v.rows);
  } else if (v.what == kind::unaligned || v.what == kind::bad_samples || v.what == kind::slipped) {
    wait_back_end();  // the identifier's expected index moves in frame order
    identifier_.skip();
  }
}

void receiver::finish() {
  const auto t0 = clock_type::now();
  // Every whole frame left (the synchroniser's drain is not timed as a stage: no search).
  for (sync_verdict v = sync_.drain(); v.what != sync_verdict::kind::need_more; v = sync_.drain()) take(v);
  static_cast<sync_stats&>(stats_) = sync_.stats();
  wait_back_end();
  stats_.busy_seconds += seconds_since(t0);
}

void receiver::flush() {
  if (!back_end_in_flight_) return;
  const auto t0 = clock_type::now();
  wait_back_end();
  stats_.busy_seconds += seconds_since(t0);
}

// Waits for the back end in flight (helping the pool meanwhile; running it itself if no
// worker has taken it yet) and rethrows its exception.
void receiver::wait_back_end() {
  if (!back_end_in_flight_) return;
  back_end_in_flight_ = false;
  pool_->wait(back_job_);
}

void receiver::process_frame(std::span<const cf32* const> frame_rows) {
  frame_slot& slot = *slots_[front_slot_];
  const auto rows = slot.demod.frame_rows();
  std::copy(frame_rows.begin(), frame_rows.end(), rows.begin());
  front_end(slot);
  if (!pipelined_) {
    back_slot_ = &slot;
    back_end(slot);
    return;
  }
  // Frame n's back end must be done with the other slot before frame n+1 (in this slot)
  // goes to the back end and frame n+2 takes the other slot.
  wait_back_end();
  back_slot_ = &slot;
  back_end_in_flight_ = true;
  pool_->start(back_job_, 1, back_task_);
  front_slot_ ^= 1U;
}

// Jobs capture only `this` (and a reference), which std::function stores without allocating.
void receiver::front_end(frame_slot& slot) {
  run_stage(stage::fft, [this, &slot] {
    pool_->parallel_for(static_cast<std::size_t>(slot.demod.parts()),
                        [&slot](int w, std::size_t part) { slot.demod.transform_part(w, part); });
  });
  run_stage(stage::estimate, [this, &slot] { estimate(slot); });
}

// Frame `slot` (back_slot_) from detection to the sinks; frames come here one at a time,
// in order.
void receiver::back_end(const frame_slot& slot) {
  stats_.noise_variance = slot.noise_variance;
  stats_.snr_estimate = slot.snr_estimate;
  run_stage(stage::detect, [this] {
    pool_->parallel_for(detect_items_.size(), [this](int w, std::size_t item) { detect_item(w, item); });
  });
  bool matched = false;
  run_stage(stage::demap, [this, &matched] {
    pool_->parallel_for(static_cast<std::size_t>(config_.users), [this](int, std::size_t k) { demap_user(k); });
    matched = count_frame();
  });
  if (matched) run_stage(stage::sink, [this] { deliver(); });
}

void receiver::estimate(frame_slot& slot) {
  pool_->parallel_for(static_cast<std::size_t>(config_.users), [&slot](int, std::size_t k) {
    slot.estimator.estimate_user(static_cast<int>(k), slot.demod.pilots(), slot.demod.row_stride());
  });
  // N0: the mean guard-bin energy over every symbol and antenna, summed by the FFT stage
  // (the same average as channel_estimator::noise_variance(), computed in parallel).
  slot.noise_variance = slot.demod.noise_variance();
  // Es/N0 from the pilots: the estimated channel's mean power per (antenna, user) entry
  // over N0, so it holds behind any receive gain or sample scaling (every 4th subcarrier,
  // summed by the estimator as it wrote the estimate).
  slot.snr_estimate = slot.estimator.channel_power() / slot.noise_variance;
}

// Demaps user k on every chain and generates its PRBS of the expected frame for
// count_frame()'s identification (and the sinks' reference).
void receiver::demap_user(std::size_t k) {
  for (std::size_t c = 0; c < config_.chains.size(); ++c) demapper_.run(k, equalised_[c], variance_[c], llr_[c]);
  identifier_.prepare(k);
}

// Hands user k's frame, chain by chain, to every sink.
void receiver::deliver_user(std::size_t k) {
  const std::size_t per_user =
      static_cast<std::size_t>(config_.layout.data_symbols) * static_cast<std::size_t>(config_.layout.used_subcarriers);
  const std::size_t bpu = layout_.bits_per_user();
  user_frame_view v;
  v.frame_index = frame_info_.index;
  v.user = static_cast<int>(k);
  v.bits_per_symbol = layout_.bits_per_symbol();
  v.reference = identifier_.reference(k).first(identifier_.known_bits());
  v.scrambling = identifier_.reference(k);
  for (std::size_t c = 0; c < config_.chains.size(); ++c) {
    v.chain = static_cast<int>(c);
    v.llr = std::span<const float>(llr_[c]).subspan(k * bpu, bpu);
    v.equalised = std::span<const cf64>(equalised_[c]).subspan(k * per_user, per_user);
    v.noise_variance = std::span<const double>(variance_[c]).subspan(k * per_user, per_user);
    for (frame_sink* sink : sinks_) sink->consume(v);
  }
}

void receiver::deliver() {
  for (frame_sink* sink : sinks_) sink->begin_frame(frame_info_);
  pool_->parallel_for(static_cast<std::size_t>(config_.users), [this](int, std::size_t k) { deliver_user(k); });
  for (frame_sink* sink : sinks_) sink->end_frame(frame_info_);
}

// Chain `chain` over its subcarrier block `block`, its backend seeded per (frame, block, chain).
void receiver::detect_item(int worker, std::size_t item) {
  const auto [c, block] = detect_items_[item];
  const std::size_t* bounds = block_bounds_.data() + chain_first_[c] + c;  // blocks + 1 per chain
  const std::size_t u0 = bounds[block];
  const std::size_t u1 = bounds[block + 1];
  const frame_slot& slot = *back_slot_;
  const equaliser_input in{slot.demod.grid(), slot.estimator.responses(), slot.noise_variance,
                           slot.estimator.segments(), slot.demod.row_stride()};
  const std::uint64_t seed = derive_seed(config_.seed, {0xB10CULL, processed_frames_, block, c});
  const auto counts = chains_[c]->run(worker, in, u0, u1, seed, {equalised_[c], variance_[c]});
  const std::size_t at = chain_first_[c] + block;
  block_unresolved_[at] = counts.unresolved_subcarriers;
  block_erased_[at] = counts.erased_streams;
  block_accounting_[at] = counts.accounting;
}

// Identifies the frame (frame_identifier.h, on chain 0) and counts it; only an identified
// frame goes on to the sinks.
bool receiver::count_frame() {
  ++processed_frames_;
  // Backend accounting of every detected frame (identified or not), added in block order.
  for (std::size_t c = 0; c < config_.chains.size(); ++c) {
    ++stats_.chains[c].detected_frames;
    for (std::size_t b = 0; b < chain_blocks_[c]; ++b) stats_.chains[c].solver.merge(block_accounting_[chain_first_[c] + b]);
  }
  const auto r = identifier_.identify(llr_[0], variance_[0]);
  if (!r.matched) {
    ++stats_.unmatched_frames;
    return false;
  }
  stats_.missed_frames += r.missed;
  stats_.last_frame_index = r.index;
  ++stats_.frames;
  frames_counted_.store(stats_.frames, std::memory_order_relaxed);
  frame_info_.index = r.index;
  frame_info_.sequence = stats_.frames - 1;
  frame_info_.users = config_.users;
  frame_info_.chains = static_cast<int>(config_.chains.size());
  frame_info_.bits_per_user = layout_.bits_per_user();
  frame_info_.known_bits = identifier_.known_bits();
  frame_info_.noise_variance = back_slot_->noise_variance;

  for (std::size_t c = 0; c < config_.chains.size(); ++c) {
    auto& cs = stats_.chains[c];
    ++cs.frames;
    for (std::size_t b = 0; b < chain_blocks_[c]; ++b) {
      cs.unresolved_subcarriers += block_unresolved_[chain_first_[c] + b];
      cs.erased_streams += block_erased_[chain_first_[c] + b];
    }
  }
  return true;
}

}  // namespace amimo::pipeline
