#include <amimo/pipeline/receiver.h>

#include <amimo/core/error.h>
#include <amimo/core/rng.h>
#include <amimo/pipeline/ofdm_demodulator.h>
#include <amimo/pipeline/scoring_sink.h>

#include <algorithm>
#include <bit>
#include <chrono>
#include <cmath>
#include <cstring>
#include <numbers>

namespace amimo::pipeline {
namespace {

using clock_type = std::chrono::steady_clock;

double seconds_since(clock_type::time_point t0) {
  return std::chrono::duration<double>(clock_type::now() - t0).count();
}

/// Σ conj(p[m]) x[m] over n samples: eight partial sums per part (m mod 8), so the loop
/// vectorises without reassociation flags (one running sum is one long dependency chain).
cf64 correlate(const cf32* p, const cf32* x, std::size_t n) noexcept {
  constexpr std::size_t W = 8;
  float re[W] = {};
  float im[W] = {};
  std::size_t m = 0;
  for (; m + W <= n; m += W) {
    for (std::size_t q = 0; q < W; ++q) {
      const float pr = p[m + q].real();
      const float pi = p[m + q].imag();
      const float xr = x[m + q].real();
      const float xi = x[m + q].imag();
      re[q] += pr * xr + pi * xi;
      im[q] += pr * xi - pi * xr;
    }
  }
  for (; m < n; ++m) {
    re[0] += p[m].real() * x[m].real() + p[m].imag() * x[m].imag();
    im[0] += p[m].real() * x[m].imag() - p[m].imag() * x[m].real();
  }
  double sr = 0.0;
  double si = 0.0;
  for (std::size_t q = 0; q < W; ++q) {
    sr += static_cast<double>(re[q]);
    si += static_cast<double>(im[q]);
  }
  return {sr, si};
}

/// Σ |x[m]|² over n samples, in double, with eight partial sums (vectorises as above).
double window_energy(const cf32* x, std::size_t n) noexcept {
  constexpr std::size_t W = 8;
  double acc[W] = {};
  std::size_t m = 0;
  for (; m + W <= n; m += W) {
    for (std::size_t q = 0; q < W; ++q) acc[q] += static_cast<double>(std::norm(x[m + q]));
  }
  for (; m < n; ++m) acc[0] += static_cast<double>(std::norm(x[m]));
  double sum = 0.0;
  for (std::size_t q = 0; q < W; ++q) sum += acc[q];
  return sum;
}


// Coarse acquisition: preamble samples correlated, antennas summed (DESIGN: cheap first
// pass; the full metric on every antenna refines it).
constexpr std::size_t kSearchPart = 256;
constexpr std::size_t kSearchAntennas = 4;

// Ranges the FFT stage is split into (see the constructor).
constexpr int kFftParts = 16;

// Whether any component of p[0, n) is NaN or ±Inf (all exponent bits set): an integer
// test the compiler vectorises, so clean blocks cost little more than reading them.
bool any_nonfinite(const cf32* p, std::size_t n) noexcept {
  const float* f = reinterpret_cast<const float*>(p);
  std::uint32_t any = 0;
  for (std::size_t i = 0; i < 2 * n; ++i) {
    std::uint32_t bits = 0;
    std::memcpy(&bits, f + i, sizeof bits);
    any |= static_cast<std::uint32_t>((bits & 0x7F800000U) == 0x7F800000U);
  }
  return any != 0;
}

}  // namespace

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

receiver::receiver(const receiver_config& config)
    : config_(config),
      layout_((validate(config), config.layout), config.users, config.modulation),
      estimator_(layout_, config.antennas, config.estimation_smoothing),
      demapper_(layout_.mapper(), static_cast<std::size_t>(config.layout.data_symbols) *
                                      static_cast<std::size_t>(config.layout.used_subcarriers)),
      identifier_(layout_, config.seed, config.known_bits, config.frame_search) {
  const auto& n = config_.layout;
  const auto ant = static_cast<std::size_t>(config_.antennas);
  const auto used = static_cast<std::size_t>(n.used_subcarriers);
  const auto users = static_cast<std::size_t>(config_.users);
  const auto frame_len = static_cast<std::size_t>(n.frame_length());

  // The receiving thread works as one of the participants, and idle threads poll for
  // 300 µs before blocking: a frame dispatches four jobs within a millisecond, and a
  // futex wake-up per job would cost more than some of the stages.
  pool_ = std::make_unique<thread_pool>(config_.threads, /*caller_joins=*/true, std::chrono::microseconds{300});
  const int max_block = (n.used_subcarriers + config_.subcarrier_blocks - 1) / config_.subcarrier_blocks;
  for (std::size_t c = 0; c < config_.chains.size(); ++c) {
    chains_.push_back(std::make_unique<equaliser_chain>(config_.chains[c], n, config_.antennas, config_.users,
                                                        config_.mode, pool_->size(), max_block,
                                                        derive_seed(config_.seed, {0x5017ULL, c})));
  }
  // Contiguous ranges of (symbol, antenna) transforms: per-item dispatch would cost more
  // than a 512-point FFT. A fixed number of them (whatever the thread count, so N0's sum
  // order is too), enough that a worker that wakes late leaves the others work to take.
  const int transforms = n.symbols_per_frame() * config_.antennas;
  demod_ = std::make_unique<ofdm_demodulator>(n, config_.antennas, config_.fft_backoff,
                                              std::vector<int>(estimator_.guard_bins().begin(), estimator_.guard_bins().end()),
                                              pool_->size(), std::min(transforms, kFftParts));

  // Room for 4 to 16 frames (about 32 MB of samples at most): compacting the buffer copies
  // the unprocessed tail, so a larger buffer compacts less often.
  const std::size_t budget_frames = (std::size_t{4} << 20) / (ant * frame_len);
  capacity_ = std::clamp<std::size_t>(budget_frames, 4, 16) * frame_len + static_cast<std::size_t>(n.symbol_length());
  buffer_.assign(ant, std::vector<cf32>(capacity_));
  offset_.assign(ant, 0);
  offset_backup_.assign(ant, 0);
  antenna_metric_.assign(ant, 0.0);
  write_ptrs_.resize(ant);
  bad_.reserve(256);

  for (const cf32& v : layout_.preamble_waveform()) preamble_energy_ += static_cast<double>(std::norm(v));
  {
    const auto pre = layout_.preamble_waveform();
    const std::size_t part = std::min(kSearchPart, pre.size());
    const int search_fft = static_cast<int>(std::bit_ceil(4 * part));
    search_forward_ = std::make_unique<ofdm::fft_plan>(search_fft, ofdm::fft_plan::direction::forward);
    search_inverse_ = std::make_unique<ofdm::fft_plan>(search_fft, ofdm::fft_plan::direction::inverse);
    auto in = search_forward_->input();
    std::fill(in.begin(), in.end(), cf32{});
    std::copy(pre.begin(), pre.begin() + static_cast<std::ptrdiff_t>(part), in.begin());
    search_forward_->execute();
    for (const cf32& v : search_forward_->output()) search_template_.push_back(std::conj(v));
    search_corr_.assign(frame_len, 0.0);
    search_energy_.assign(frame_len, 0.0);
  }
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
  block_unresolved_.assign(config_.chains.size() * static_cast<std::size_t>(config_.subcarrier_blocks), 0);
  block_erased_.assign(block_unresolved_.size(), 0);
}

receiver::~receiver() = default;

void receiver::add_sink(frame_sink& sink) { sinks_.push_back(&sink); }

// The timing decorator: every stage of a frame runs through here, and its wall time is
// recorded (measured) in stats_.latency.
template <class F>
void receiver::run_stage(stage s, F&& f) {
  const auto t0 = clock_type::now();
  std::forward<F>(f)();
  stats_.latency[static_cast<int>(s)].add(seconds_since(t0));
}

std::span<cf32* const> receiver::input(std::size_t& max) {
  const auto frame_len = static_cast<std::size_t>(config_.layout.frame_length());
  if (capacity_ - tail_ < frame_len + max_offset_) compact();
  max = std::min(max, capacity_ - tail_);
  for (std::size_t a = 0; a < buffer_.size(); ++a) write_ptrs_[a] = buffer_[a].data() + tail_;
  return write_ptrs_;
}

void receiver::compact() {
  // Keep a few samples before head_ for the tracking window (lag − 2).
  const std::size_t keep_from = head_ >= 8 ? head_ - 8 : 0;
  if (keep_from == 0) return;
  for (auto& row : buffer_) {
    std::copy(row.begin() + static_cast<std::ptrdiff_t>(keep_from),
              row.begin() + static_cast<std::ptrdiff_t>(tail_), row.begin());
  }
  head_ -= keep_from;
  tail_ -= keep_from;
  frame_start_ = frame_start_ >= keep_from ? frame_start_ - keep_from : 0;
  head_abs_ += keep_from;
}

void receiver::push(std::span<const cf32* const> channels, std::size_t count) {
  std::size_t done = 0;
  while (done < count) {
    std::size_t room = count - done;
    auto dst = input(room);
    for (std::size_t a = 0; a < dst.size(); ++a) {
      std::copy(channels[a] + done, channels[a] + done + room, dst[a]);
    }
    commit(room);
    done += room;
  }
}

void receiver::commit(std::size_t count) {
  const auto t0 = clock_type::now();
  // NaN/Inf samples are zeroed (so correlations stay finite) and their span remembered:
  // a frame overlapping one is dropped and counted.
  const std::uint64_t abs0 = head_abs_ + tail_;  // head_abs_ is the absolute index of buffer[0]
  std::uint64_t bad_first = 0;
  std::uint64_t bad_last = 0;
  std::uint64_t bad_count = 0;
  for (auto& row : buffer_) {
    cf32* p = row.data() + tail_;
    if (!any_nonfinite(p, count)) continue;
    for (std::size_t i = 0; i < count; ++i) {
      if (!std::isfinite(p[i].real()) || !std::isfinite(p[i].imag())) {
        p[i] = cf32{};
        const std::uint64_t at = abs0 + i;
        if (bad_count == 0 || at < bad_first) bad_first = at;
        bad_last = std::max(bad_last, at + 1);
        ++bad_count;
      }
    }
  }
  if (bad_count > 0) {
    stats_.nonfinite_samples += bad_count;
    if (bad_.size() == bad_.capacity()) bad_.erase(bad_.begin());
    bad_.emplace_back(bad_first, bad_last);
  }
  tail_ += count;
  stats_.samples += count;
  process();
  stats_.busy_seconds += seconds_since(t0);
}

bool receiver::frame_has_bad_samples(std::uint64_t first, std::uint64_t last) const noexcept {
  return std::any_of(bad_.begin(), bad_.end(),
                     [&](const auto& iv) { return iv.first < last && iv.second > first; });
}

double receiver::preamble_metric(std::size_t lag) const noexcept {
  const auto& n = config_.layout;
  const auto len = static_cast<std::size_t>(n.fft_size);
  const std::size_t at = lag + static_cast<std::size_t>(n.cp_length);
  const auto pre = layout_.preamble_waveform();
  double corr = 0.0;
  double energy = 0.0;
  for (std::size_t a = 0; a < buffer_.size(); ++a) {
    const cf32* x = row(a) + at;
    corr += std::norm(correlate(pre.data(), x, len));
    energy += window_energy(x, len);
  }
  return energy > 0.0 ? corr / (energy * preamble_energy_) : 0.0;
}

// The preamble metric of antenna a alone at `lag`.
double receiver::antenna_metric(std::size_t a, std::size_t lag) const noexcept {
  const auto len = static_cast<std::size_t>(config_.layout.fft_size);
  const cf32* x = row(a) + lag + static_cast<std::size_t>(config_.layout.cp_length);
  const auto pre = layout_.preamble_waveform();
  const double energy = window_energy(x, len);
  return energy > 0.0 ? std::norm(correlate(pre.data(), x, len)) / (energy * preamble_energy_) : 0.0;
}

// Antenna a's correlation energy over the lags a channel inside the CP can occupy,
// [lag − 2, lag + CP], over its window energy at `lag`: near 1 for an aligned channel at
// high SNR whatever its multipath, about (CP + 3)/FFT for a channel off by more than the CP.
double receiver::antenna_window_metric(std::size_t a, std::size_t lag) const noexcept {
  const auto len = static_cast<std::size_t>(config_.layout.fft_size);
  const auto cp = static_cast<std::size_t>(config_.layout.cp_length);
  const auto pre = layout_.preamble_waveform();
  const cf32* x = row(a) + lag + cp;
  const double energy = window_energy(x, len);
  if (!(energy > 0.0)) return 0.0;
  double corr = 0.0;
  for (std::size_t l = lag >= 2 ? lag - 2 : 0; l <= lag + cp; ++l) {
    corr += std::norm(correlate(pre.data(), row(a) + l + cp, len));
  }
  return corr / (energy * preamble_energy_);
}

// Checks that every antenna's preamble sits at `lag` (aligned index) within the CP. A
// channel whose preamble is found elsewhere — clearly, at more than the CP — is realigned
// by dropping samples at the head of the leading channels (offsets), and counted; `lag` is
// updated when the realignment moves the aligned indices. Returns wait when the search
// needs more samples, failed when a channel cannot be realigned.
//
// Cost: one correlation per antenna per frame; an antenna weaker than a tenth of the
// strongest gets a windowed check over the CP; only one that fails it is searched over a
// whole frame of lags. A channel with no clear preamble anywhere (a dead antenna, very low
// SNR) cannot be told misaligned and is left as it is.
receiver::alignment receiver::check_alignment(std::size_t& lag) {
  const std::size_t ant = buffer_.size();
  if (ant < 2) return alignment::ok;
  const auto& n = config_.layout;
  const auto frame_len = static_cast<std::size_t>(n.frame_length());
  const auto sym_len = static_cast<std::size_t>(n.symbol_length());
  const auto cp = static_cast<std::size_t>(n.cp_length);
  std::size_t strongest = 0;
  for (std::size_t a = 0; a < ant; ++a) {
    antenna_metric_[a] = antenna_metric(a, lag);
    if (antenna_metric_[a] > antenna_metric_[strongest]) strongest = a;
  }
  const double top = antenna_metric_[strongest];
  double top_window = -1.0;
  std::uint64_t moved = 0;  // channels realigned
  std::copy(offset_.begin(), offset_.end(), offset_backup_.begin());
  const std::size_t lag_before = lag;
  const std::size_t head_before = head_;
  const std::size_t start_before = frame_start_;
  const auto restore = [&] {
    std::copy(offset_backup_.begin(), offset_backup_.end(), offset_.begin());
    lag = lag_before;
    head_ = head_before;
    frame_start_ = start_before;
    return alignment::failed;
  };
  for (std::size_t a = 0; a < ant; ++a) {
    if (antenna_metric_[a] >= 0.1 * top) continue;
    if (top_window < 0.0) top_window = antenna_window_metric(strongest, lag);
    // A channel off by more than the CP shows only the noise floor of the window, about
    // (CP + 3)/FFT: twice that, or a quarter of the strongest antenna's, passes.
    const double floor = 2.0 * static_cast<double>(cp + 3) / static_cast<double>(n.fft_size);
    if (antenna_window_metric(a, lag) >= std::max(0.25 * top_window, floor)) continue;
    // Search a whole frame of lags on this antenna (the preamble repeats every frame, so a
    // skew is known modulo the frame length and taken in (−frame/2, frame/2]).
    if (aligned_tail() < lag + frame_len + sym_len + 16) {
      restore();
      return alignment::wait;
    }
    const std::size_t coarse = coarse_preamble_search(a, 1, lag);
    std::size_t q = coarse;
    double best = -1.0;
    for (std::size_t l = coarse > 8 ? coarse - 8 : 0; l <= coarse + 8; ++l) {
      const double m = antenna_metric(a, l);
      if (m > best) {
        best = m;
        q = l;
      }
    }
    // Clear evidence only: well above the noise maximum over a frame of lags (about
    // ln(frame)/FFT) and comparable with the strongest aligned antenna.
    if (!(best >= 0.05 && best >= 0.25 * top)) continue;
    for (std::size_t l = q > cp / 2 ? q - cp / 2 : 0; l < q; ++l) {  // earliest path
      if (antenna_metric(a, l) >= 0.5 * best) {
        q = l;
        break;
      }
    }
    const auto frame = static_cast<std::ptrdiff_t>(frame_len);
    std::ptrdiff_t skew = static_cast<std::ptrdiff_t>(q) - static_cast<std::ptrdiff_t>(lag);
    skew = ((skew % frame) + frame) % frame;
    if (skew > frame / 2) skew -= frame;
    if (std::abs(skew) <= static_cast<std::ptrdiff_t>(cp)) continue;  // multipath inside the CP
    ++moved;
    if (skew > 0) {
      offset_[a] += static_cast<std::size_t>(skew);  // this channel lags: drop its head
      continue;
    }
    // This channel leads: the others drop its lead at their heads instead, and the aligned
    // indices move back by that much.
    const auto lead = static_cast<std::size_t>(-skew);
    if (offset_[a] >= lead) {
      offset_[a] -= lead;
      continue;
    }
    const std::size_t extra = lead - offset_[a];
    offset_[a] = 0;
    for (std::size_t b = 0; b < ant; ++b) {
      if (b != a) offset_[b] += extra;
    }
    if (lag < extra || head_ < extra || frame_start_ < extra) return restore();
    lag -= extra;
    head_ -= extra;
    frame_start_ -= extra;
  }
  if (moved == 0) return alignment::ok;
  const std::size_t lowest = *std::min_element(offset_.begin(), offset_.end());
  for (auto& o : offset_) o -= lowest;
  lag += lowest;
  head_ += lowest;
  frame_start_ += lowest;
  const std::size_t spread = *std::max_element(offset_.begin(), offset_.end());
  if (spread > frame_len || tail_ < spread) return restore();
  max_offset_ = spread;
  stats_.misaligned_channels += moved;
  return alignment::realigned;
}

// Coarse search over one frame of lags: |Σ conj(p) x|² of the first kSearchPart preamble
// samples on at most kSearchAntennas antennas, over the window energy. The correlations
// come from overlap-save FFT blocks (each block of kSearchFft samples gives
// kSearchFft − kSearchPart + 1 lags), the energies from a running sum: ~50× cheaper than
// direct correlation. Returns the buffer index of the best lag.
std::size_t receiver::coarse_preamble_search(std::size_t first_antenna, std::size_t antennas, std::size_t from) {
  const auto& n = config_.layout;
  const auto lags = static_cast<std::size_t>(n.frame_length());
  const auto cp = static_cast<std::size_t>(n.cp_length);
  const std::size_t fft = search_template_.size();
  const std::size_t part = std::min(kSearchPart, layout_.preamble_waveform().size());
  const std::size_t valid = fft - part + 1;
  const std::size_t available = aligned_tail() - from - cp;  // samples from the first lag's window
  std::fill(search_corr_.begin(), search_corr_.end(), 0.0);
  std::fill(search_energy_.begin(), search_energy_.end(), 0.0);
  for (std::size_t a = first_antenna; a < first_antenna + antennas; ++a) {
    const cf32* x = row(a) + from + cp;
    double energy = 0.0;
    for (std::size_t m = 0; m < part; ++m) energy += static_cast<double>(std::norm(x[m]));
    for (std::size_t lag = 0; lag < lags; ++lag) {
      if (lag > 0) {
        energy += static_cast<double>(std::norm(x[lag + part - 1])) - static_cast<double>(std::norm(x[lag - 1]));
      }
      search_energy_[lag] += std::max(energy, 0.0);
    }
    for (std::size_t start = 0; start < lags; start += valid) {
      auto in = search_forward_->input();
      const std::size_t take = std::min(fft, available - start);
      std::copy(x + start, x + start + take, in.begin());
      std::fill(in.begin() + static_cast<std::ptrdiff_t>(take), in.end(), cf32{});
      search_forward_->execute();
      const auto spectrum = search_forward_->output();
      auto product = search_inverse_->input();
      for (std::size_t k = 0; k < fft; ++k) product[k] = spectrum[k] * search_template_[k];
      search_inverse_->execute();
      const auto corr = search_inverse_->output();
      for (std::size_t j = 0; j < valid && start + j < lags; ++j) {
        search_corr_[start + j] += static_cast<double>(std::norm(corr[j]));
      }
    }
  }
  double best = -1.0;
  std::size_t best_lag = 0;
  for (std::size_t lag = 0; lag < lags; ++lag) {
    const double m = search_energy_[lag] > 0.0 ? search_corr_[lag] / search_energy_[lag] : 0.0;
    if (m > best) {
      best = m;
      best_lag = lag;
    }
  }
  return from + best_lag;
}

bool receiver::acquire() {
  const auto& n = config_.layout;
  const auto frame_len = static_cast<std::size_t>(n.frame_length());
  const auto sym_len = static_cast<std::size_t>(n.symbol_length());
  if (aligned_tail() - head_ < frame_len + sym_len + 16) return false;
  const std::size_t coarse_lag = coarse_preamble_search(0, std::min(kSearchAntennas, buffer_.size()), head_);
  double best = -1.0;
  std::size_t best_lag = coarse_lag;
  const std::size_t lo = coarse_lag > head_ + 8 ? coarse_lag - 8 : head_;
  for (std::size_t lag = lo; lag <= coarse_lag + 8; ++lag) {
    const double m = preamble_metric(lag);
    if (m > best) {
      best = m;
      best_lag = lag;
    }
  }
  stats_.last_sync_metric = best;
  if (best < config_.sync_threshold) {
    head_ += frame_len;
    stats_.discarded_samples += frame_len;
    return true;
  }
  // Earliest path: the first lag within half a CP before the peak that reaches half of it.
  const std::size_t span = static_cast<std::size_t>(n.cp_length) / 2;
  std::size_t start = best_lag;
  for (std::size_t lag = best_lag > head_ + span ? best_lag - span : head_; lag < best_lag; ++lag) {
    if (preamble_metric(lag) >= 0.5 * best) {
      start = lag;
      break;
    }
  }
  // Every antenna's preamble must sit there too (channels out of step are realigned).
  const std::size_t searched_from = head_;
  head_ = start;
  frame_start_ = start;
  const alignment aligned = check_alignment(start);
  if (aligned == alignment::wait) {
    head_ = searched_from;
    return false;
  }
  if (aligned == alignment::failed) {
    ++stats_.unaligned_frames;
    stats_.discarded_samples += start + frame_len - searched_from;
    head_ = start + frame_len;
    return true;
  }
  stats_.discarded_samples += start > searched_from ? start - searched_from : 0;
  head_ = start;
  frame_start_ = start;
  locked_ = true;
  ++stats_.acquisitions;
  return true;
}

void receiver::process() {
  const auto& n = config_.layout;
  const auto frame_len = static_cast<std::size_t>(n.frame_length());
  const auto sym_len = static_cast<std::size_t>(n.symbol_length());
  for (;;) {
    if (!locked_) {
      if (!acquire()) return;
      continue;
    }
    // A frame is taken only once the next frame's preamble is where it should be: samples
    // lost inside the frame (a transport gap) move that preamble, so a truncated frame is
    // dropped and counted instead of being decoded as errors.
    const std::size_t next = frame_start_ + frame_len;
    if (aligned_tail() < next + sym_len + 2) return;
    const auto t0 = clock_type::now();
    double best = -1.0;
    std::size_t best_lag = next;
    double at_next = 0.0;
    for (std::size_t lag = next - 2; lag <= next + 2; ++lag) {
      const double m = preamble_metric(lag);
      if (lag == next) at_next = m;
      if (m > best) {
        best = m;
        best_lag = lag;
      }
    }
    stats_.last_sync_metric = best;
    if (best < config_.sync_threshold) {
      ++stats_.sync_losses;
      locked_ = false;
      head_ = frame_start_ + sym_len;  // search again past this frame's preamble
      continue;
    }
    // Follow a drift only when the peak clearly moved (multipath peaks wobble).
    std::size_t next_start = best > 1.2 * at_next ? best_lag : next;
    // Every antenna's preamble at the next frame's lag: a channel that fell out of step
    // during this frame is realigned and this frame is dropped (counted), never decoded.
    const alignment aligned = check_alignment(next_start);
    if (aligned == alignment::wait) return;
    if (aligned != alignment::ok) {
      ++stats_.unaligned_frames;
      identifier_.skip();
      if (aligned == alignment::failed) {
        locked_ = false;
        head_ = frame_start_ + sym_len;
        continue;
      }
      frame_start_ = next_start;
      head_ = frame_start_;
      continue;
    }
    stats_.latency[static_cast<int>(stage::sync)].add(seconds_since(t0));
    take_frame(frame_start_);
    frame_start_ = next_start;
    head_ = frame_start_;
  }
}

void receiver::take_frame(std::size_t start) {
  const auto frame_len = static_cast<std::uint64_t>(config_.layout.frame_length());
  const std::uint64_t abs_first = head_abs_ + start;
  if (frame_has_bad_samples(abs_first, abs_first + frame_len + max_offset_)) {
    ++stats_.nonfinite_frames;
    identifier_.skip();
  } else {
    process_frame(start);
  }
}

void receiver::finish() {
  const auto t0 = clock_type::now();
  const auto frame_len = static_cast<std::size_t>(config_.layout.frame_length());
  // Every whole frame left: the one waiting for the next preamble, and those the per-antenna
  // check was still waiting on (its search needs a frame of samples past the preamble).
  while (locked_ && aligned_tail() >= frame_start_ + frame_len) {
    take_frame(frame_start_);
    frame_start_ += frame_len;
    head_ = std::min(frame_start_, aligned_tail());
  }
  locked_ = false;
  stats_.busy_seconds += seconds_since(t0);
}

void receiver::process_frame(std::size_t start) {
  // Jobs capture only `this`, which std::function stores without allocating.
  const auto rows = demod_->frame_rows();
  for (std::size_t a = 0; a < rows.size(); ++a) rows[a] = row(a) + start;
  run_stage(stage::fft, [this] {
    pool_->parallel_for(static_cast<std::size_t>(demod_->parts()),
                        [this](int w, std::size_t part) { demod_->transform_part(w, part); });
  });
  run_stage(stage::estimate, [this] { estimate(); });
  run_stage(stage::detect, [this] {
    pool_->parallel_for(static_cast<std::size_t>(config_.subcarrier_blocks), [this](int w, std::size_t block) {
      detect_block(w, block);
    });
  });
  bool matched = false;
  run_stage(stage::demap, [this, &matched] {
    pool_->parallel_for(static_cast<std::size_t>(config_.users), [this](int, std::size_t k) { demap_user(k); });
    matched = count_frame();
  });
  if (matched) run_stage(stage::sink, [this] { deliver(); });
}

void receiver::estimate() {
  pool_->parallel_for(static_cast<std::size_t>(config_.users),
                      [this](int, std::size_t k) { estimator_.estimate_user(static_cast<int>(k), demod_->pilots()); });
  // N0: the mean guard-bin energy over every symbol and antenna, summed by the FFT stage
  // (the same average as channel_estimator::noise_variance(), computed in parallel).
  noise_variance_ = demod_->noise_variance();
  stats_.noise_variance = noise_variance_;
  // Es/N0 from the pilots: the estimated channel's mean power per (antenna, user) entry
  // over N0, so it holds behind any receive gain or sample scaling (every 4th subcarrier).
  double channel_power = 0.0;
  std::size_t entries = 0;
  for (int u = 0; u < config_.layout.used_subcarriers; u += 4) {
    channel_power += estimator_.response(u).squaredNorm();
    entries += static_cast<std::size_t>(config_.antennas * config_.users);
  }
  stats_.snr_estimate = entries > 0 ? channel_power / static_cast<double>(entries) / noise_variance_ : 0.0;
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

// Every chain over subcarrier block `block`, its backend seeded per (frame, block, chain).
void receiver::detect_block(int worker, std::size_t block) {
  const auto used = static_cast<std::size_t>(config_.layout.used_subcarriers);
  const auto blocks = static_cast<std::size_t>(config_.subcarrier_blocks);
  const std::size_t u0 = block * used / blocks;
  const std::size_t u1 = (block + 1) * used / blocks;
  const equaliser_input in{demod_->grid(), estimator_.responses(), noise_variance_};
  for (std::size_t c = 0; c < chains_.size(); ++c) {
    const std::uint64_t seed = derive_seed(config_.seed, {0xB10CULL, processed_frames_, block, c});
    const auto counts = chains_[c]->run(worker, in, u0, u1, seed, {equalised_[c], variance_[c]});
    block_unresolved_[c * blocks + block] = counts.unresolved_subcarriers;
    block_erased_[c * blocks + block] = counts.erased_streams;
  }
}

// Identifies the frame (frame_identifier.h, on chain 0) and counts it; only an identified
// frame goes on to the sinks.
bool receiver::count_frame() {
  ++processed_frames_;
  const auto r = identifier_.identify(llr_[0], variance_[0]);
  if (!r.matched) {
    ++stats_.unmatched_frames;
    return false;
  }
  stats_.missed_frames += r.missed;
  stats_.last_frame_index = r.index;
  ++stats_.frames;
  frame_info_.index = r.index;
  frame_info_.sequence = stats_.frames - 1;
  frame_info_.users = config_.users;
  frame_info_.chains = static_cast<int>(config_.chains.size());
  frame_info_.bits_per_user = layout_.bits_per_user();
  frame_info_.known_bits = identifier_.known_bits();
  frame_info_.noise_variance = noise_variance_;

  const auto blocks = static_cast<std::size_t>(config_.subcarrier_blocks);
  for (std::size_t c = 0; c < config_.chains.size(); ++c) {
    auto& cs = stats_.chains[c];
    ++cs.frames;
    for (std::size_t b = 0; b < blocks; ++b) {
      cs.unresolved_subcarriers += block_unresolved_[c * blocks + b];
      cs.erased_streams += block_erased_[c * blocks + b];
    }
    cs.solver = chains_[c]->stats();
  }
  return true;
}

}  // namespace amimo::pipeline
