#include <amimo/pipeline/synchroniser.h>

#include <amimo/core/error.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>

namespace amimo::pipeline {
namespace {

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

// NaN/Inf spans kept: spans at least a frame apart inside a buffer of at most 16 frames and
// a symbol are at most 18; the rest is headroom (a full store merges conservatively).
constexpr std::size_t kBadSpans = 64;

// Lags checked on either side of the skews an antenna may have without realignment.
constexpr std::size_t kWindowMargin = 4;

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

// 16 KiB pieces, each copied by memcpy and then scanned by any_nonfinite while it is close in
// the cache (one finiteness test in this file, not two). In a stand-alone copy of 24 frames ×
// 64 antennas into a 4-frame ring this ran 2–4% faster than a fused load-test-store loop
// (0.47–0.49 against 0.49–0.51 ms per frame); scanning the source before copying it ran
// slower, more so with longer pieces. The copy is bound by memory traffic either way.
bool copy_checking_finite(const cf32* from, std::size_t n, cf32* to) noexcept {
  constexpr std::size_t kPiece = 2048;
  bool bad = false;
  for (std::size_t i = 0; i < n; i += kPiece) {
    const std::size_t m = std::min(kPiece, n - i);
    std::memcpy(to + i, from + i, m * sizeof(cf32));
    bad = any_nonfinite(to + i, m) || bad;
  }
  return !bad;
}

synchroniser::synchroniser(const ofdm::numerology& n, std::span<const cf32> preamble, int antennas, double threshold,
                           int fft_backoff)
    : preamble_(preamble.begin(), preamble.end()),
      threshold_(threshold),
      frame_len_(static_cast<std::size_t>(n.frame_length())),
      sym_len_(static_cast<std::size_t>(n.symbol_length())),
      cp_(static_cast<std::size_t>(n.cp_length)),
      fft_len_(static_cast<std::size_t>(n.fft_size)),
      backoff_(static_cast<std::size_t>(std::max(fft_backoff, 0))) {
  if (antennas < 1) throw config_error("synchroniser: antennas must be at least 1");
  if (!(threshold > 0.0 && threshold < 1.0)) throw config_error("sync_threshold must be in (0, 1)");
  if (fft_backoff < 0 || fft_backoff > n.cp_length) throw config_error("fft_backoff must be in [0, cp_length]");
  if (preamble_.size() != fft_len_) throw config_error("synchroniser: the preamble must be fft_size samples");
  const auto ant = static_cast<std::size_t>(antennas);

  // Room for 4 to 16 frames (about 32 MB of samples at most): compacting the buffer copies
  // the unprocessed tail, so a larger buffer compacts less often.
  const std::size_t budget_frames = (std::size_t{4} << 20) / (ant * frame_len_);
  capacity_ = std::clamp<std::size_t>(budget_frames, 4, 16) * frame_len_ + sym_len_;
  buffer_.assign(ant, std::vector<cf32>(capacity_));
  offset_.assign(ant, 0);
  offset_backup_.assign(ant, 0);
  antenna_metric_.assign(ant, 0.0);
  write_ptrs_.resize(ant);
  frame_rows_.resize(ant);
  bad_.reserve(kBadSpans);

  for (const cf32& v : preamble_) preamble_energy_ += static_cast<double>(std::norm(v));
  const std::size_t part = std::min(kSearchPart, preamble_.size());
  const int search_fft = static_cast<int>(std::bit_ceil(4 * part));
  search_forward_ = std::make_unique<ofdm::fft_plan>(search_fft, ofdm::fft_plan::direction::forward);
  search_inverse_ = std::make_unique<ofdm::fft_plan>(search_fft, ofdm::fft_plan::direction::inverse);
  auto in = search_forward_->input();
  std::fill(in.begin(), in.end(), cf32{});
  std::copy(preamble_.begin(), preamble_.begin() + static_cast<std::ptrdiff_t>(part), in.begin());
  search_forward_->execute();
  for (const cf32& v : search_forward_->output()) search_template_.push_back(std::conj(v));
  search_corr_.assign(frame_len_, 0.0);
  search_energy_.assign(frame_len_, 0.0);
}

synchroniser::~synchroniser() = default;

std::span<cf32* const> synchroniser::input(std::size_t& max) {
  if (capacity_ - tail_ < frame_len_ + max_offset_) compact();
  max = std::min(max, capacity_ - tail_);
  for (std::size_t a = 0; a < buffer_.size(); ++a) write_ptrs_[a] = buffer_[a].data() + tail_;
  return write_ptrs_;
}

void synchroniser::compact() {
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

void synchroniser::commit(std::size_t count, bool known_finite) {
  // NaN/Inf samples are zeroed (so correlations stay finite) and each run of them
  // remembered: a frame overlapping one is dropped and counted.
  const std::uint64_t abs0 = head_abs_ + tail_;  // head_abs_ is the absolute index of buffer[0]
  for (auto& row : buffer_) {
    if (known_finite) break;
    cf32* p = row.data() + tail_;
    if (!any_nonfinite(p, count)) continue;
    for (std::size_t i = 0; i < count; ++i) {
      if (std::isfinite(p[i].real()) && std::isfinite(p[i].imag())) continue;
      const std::size_t run_first = i;
      for (; i < count && !(std::isfinite(p[i].real()) && std::isfinite(p[i].imag())); ++i) p[i] = cf32{};
      stats_.nonfinite_samples += i - run_first;
      note_bad_samples(abs0 + run_first, abs0 + i);
    }
  }
  tail_ += count;
  stats_.samples += count;
}

// Adds the run [first, last) to the sorted spans, merged with every span less than a frame
// from it: a frame slot fits in no shorter gap, so the merge drops no clean frame, and the
// spans stay few. Spans wholly before the buffer are forgotten (no frame can reach them).
void synchroniser::note_bad_samples(std::uint64_t first, std::uint64_t last) noexcept {
  const std::uint64_t gap = frame_len_;
  std::erase_if(bad_, [&](const auto& iv) { return iv.second <= head_abs_; });
  auto it = std::lower_bound(bad_.begin(), bad_.end(), first,
                             [](const auto& iv, std::uint64_t v) { return iv.first < v; });
  if (it != bad_.begin() && std::prev(it)->second + gap > first) --it;  // merges with the previous
  if (it == bad_.end() || it->first >= last + gap) {
    if (bad_.size() < bad_.capacity()) {
      bad_.insert(it, {first, last});
      return;
    }
    // Cannot happen with the spans a frame apart (see kBadSpans); if it did, the run is
    // merged into a neighbour: frames may be refused for it, none decoded with it.
    if (it == bad_.end()) --it;
  }
  it->first = std::min(it->first, first);
  it->second = std::max(it->second, last);
  // The widened span may now reach the spans after it.
  auto next = std::next(it);
  while (next != bad_.end() && next->first < it->second + gap) {
    it->second = std::max(it->second, next->second);
    next = bad_.erase(next);
  }
}

bool synchroniser::frame_has_bad_samples(std::uint64_t first, std::uint64_t last) const noexcept {
  return std::any_of(bad_.begin(), bad_.end(),
                     [&](const auto& iv) { return iv.first < last && iv.second > first; });
}

double synchroniser::preamble_metric(std::size_t lag) const noexcept {
  const std::size_t len = fft_len_;
  const std::size_t at = lag + cp_;
  const auto& pre = preamble_;
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
double synchroniser::antenna_metric(std::size_t a, std::size_t lag) const noexcept {
  const std::size_t len = fft_len_;
  const cf32* x = row(a) + lag + cp_;
  const auto& pre = preamble_;
  const double energy = window_energy(x, len);
  return energy > 0.0 ? std::norm(correlate(pre.data(), x, len)) / (energy * preamble_energy_) : 0.0;
}

// Antenna a's correlation energy over the lags a channel may occupy without its FFT window
// taking another symbol's samples, [lag − backoff, lag + CP − backoff], over its window
// energy at `lag`: near 1 for an aligned channel at high SNR whatever its multipath, about
// (CP + 1)/FFT for a channel off by more. A correlation main lobe is wider than a sample
// (the used band is narrower than the sample rate), so a channel just outside that range
// still shows much of its energy inside: `peak_outside` says whether a lag within
// kWindowMargin outside the range correlates better than every lag inside it.
double synchroniser::antenna_window_metric(std::size_t a, std::size_t lag, bool& peak_outside) const noexcept {
  const std::size_t len = fft_len_;
  const std::size_t cp = cp_;
  const auto& pre = preamble_;
  const cf32* x = row(a) + lag + cp;
  peak_outside = false;
  const double energy = window_energy(x, len);
  if (!(energy > 0.0)) return 0.0;
  const std::size_t first = lag >= backoff_ ? lag - backoff_ : 0;
  const std::size_t last = lag + cp - backoff_;
  double corr = 0.0;
  double inside = 0.0;
  double outside = 0.0;
  for (std::size_t l = first >= kWindowMargin ? first - kWindowMargin : 0; l <= last + kWindowMargin; ++l) {
    const double c = std::norm(correlate(pre.data(), row(a) + l + cp, len));
    if (l < first || l > last) {
      outside = std::max(outside, c);
    } else {
      inside = std::max(inside, c);
      corr += c;
    }
  }
  peak_outside = outside > inside;
  return corr / (energy * preamble_energy_);
}

// Checks that every antenna's preamble sits at `lag` (aligned index), up to backoff samples
// early or CP − backoff late (the skews whose FFT window stays inside the symbol and its CP).
// A channel whose preamble is found clearly elsewhere is realigned
// by dropping samples at the head of the leading channels (offsets), and counted; `lag` is
// updated when the realignment moves the aligned indices. Returns wait when the search
// needs more samples, failed when a channel cannot be realigned.
//
// Cost: one correlation per antenna per frame; an antenna weaker than a tenth of the
// strongest gets a windowed check over the CP; only one that fails it is searched over a
// whole frame of lags. A channel with no clear preamble anywhere (a dead antenna, very low
// SNR) cannot be told misaligned and is left as it is.
synchroniser::alignment synchroniser::check_alignment(std::size_t& lag) {
  const std::size_t ant = buffer_.size();
  if (ant < 2) return alignment::ok;
  const std::size_t frame_len = frame_len_;
  const std::size_t sym_len = sym_len_;
  const std::size_t cp = cp_;
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
    // The window check reads CP + kWindowMargin lags past `lag`.
    if (aligned_tail() < lag + 2 * cp + fft_len_ + kWindowMargin) {
      restore();
      return alignment::wait;
    }
    bool peak_outside = false;
    if (top_window < 0.0) top_window = antenna_window_metric(strongest, lag, peak_outside);
    // A channel off by more shows only the noise floor of the window, about (CP + 1)/FFT:
    // twice that, or a quarter of the strongest antenna's, passes unless it peaks just outside.
    const double floor = 2.0 * static_cast<double>(cp + 1) / static_cast<double>(fft_len_);
    const double window = antenna_window_metric(a, lag, peak_outside);
    if (window >= std::max(0.25 * top_window, floor) && !peak_outside) continue;
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
    // Inside what the FFT window tolerates (multipath, or a skew the CP absorbs): left.
    if (skew >= -static_cast<std::ptrdiff_t>(backoff_) && skew <= static_cast<std::ptrdiff_t>(cp - backoff_)) continue;
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
std::size_t synchroniser::coarse_preamble_search(std::size_t first_antenna, std::size_t antennas, std::size_t from) {
  const std::size_t lags = frame_len_;
  const std::size_t cp = cp_;
  const std::size_t fft = search_template_.size();
  const std::size_t part = std::min(kSearchPart, preamble_.size());
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

sync_verdict synchroniser::verdict(sync_verdict::kind what, std::size_t start) const noexcept {
  sync_verdict v;
  v.what = what;
  v.first_sample = head_abs_ + start;
  v.offsets = offset_;
  v.metric = stats_.last_sync_metric;
  return v;
}

// A frame slot at buffer index `start`: refused when it overlaps NaN/Inf samples on any
// antenna, else released with its rows.
sync_verdict synchroniser::release(std::size_t start) {
  const std::uint64_t abs_first = head_abs_ + start;
  if (frame_has_bad_samples(abs_first, abs_first + frame_len_ + max_offset_)) {
    ++stats_.nonfinite_frames;
    return verdict(sync_verdict::kind::bad_samples, start);
  }
  for (std::size_t a = 0; a < buffer_.size(); ++a) frame_rows_[a] = row(a) + start;
  sync_verdict v = verdict(sync_verdict::kind::frame, start);
  v.rows = frame_rows_;
  return v;
}

sync_verdict synchroniser::acquire() {
  using kind = sync_verdict::kind;
  const std::size_t frame_len = frame_len_;
  if (aligned_tail() - head_ < frame_len + sym_len_ + 16) return verdict(kind::need_more, head_);
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
  if (best < threshold_) {
    head_ += frame_len;
    count_discarded(head_ - frame_len, head_);
    return verdict(kind::searching, head_);
  }
  // Earliest path: the first lag within half a CP before the peak that reaches half of it.
  const std::size_t span = cp_ / 2;
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
    return verdict(kind::need_more, head_);
  }
  if (aligned == alignment::failed) {
    ++stats_.unaligned_frames;
    count_discarded(searched_from, start + frame_len);
    head_ = start + frame_len;
    return verdict(kind::searching, head_);
  }
  if (start > searched_from) count_discarded(searched_from, start);
  head_ = start;
  frame_start_ = start;
  locked_ = true;
  ++stats_.acquisitions;
  return verdict(kind::acquired, frame_start_);
}

// A frame is released only once the next frame's preamble is where it should be: samples
// lost inside the frame (a transport gap) move that preamble, so a truncated frame is
// dropped and counted instead of being decoded as errors (a gap of 2 or more samples; one
// of a frame or more loses the lock).
sync_verdict synchroniser::track() {
  using kind = sync_verdict::kind;
  const std::size_t next = frame_start_ + frame_len_;
  if (aligned_tail() < next + sym_len_ + 2) return verdict(kind::need_more, frame_start_);
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
  if (best < threshold_ && signal_ends_after_frame()) {
    // The end of a burst: this frame is whole; searching goes on after it.
    ++stats_.burst_ends;
    locked_ = false;
    const sync_verdict v = release(frame_start_);
    head_ = frame_start_ + frame_len_;
    return v;
  }
  if (best < threshold_) {
    ++stats_.sync_losses;
    locked_ = false;
    const std::size_t lost = frame_start_;
    head_ = frame_start_ + sym_len_;  // search again past this frame's preamble
    return verdict(kind::lost_lock, lost);
  }
  // Follow a drift only when the peak clearly moved (multipath peaks wobble).
  std::size_t next_start = best > 1.2 * at_next ? best_lag : next;
  // Every antenna's preamble at the next frame's lag: a channel that fell out of step
  // during this frame is realigned and this frame is dropped (counted), never decoded.
  const alignment aligned = check_alignment(next_start);
  if (aligned == alignment::wait) return verdict(kind::need_more, frame_start_);
  if (aligned != alignment::ok) {
    ++stats_.unaligned_frames;
    const std::size_t dropped = frame_start_;
    if (aligned == alignment::failed) {
      locked_ = false;
      head_ = frame_start_ + sym_len_;
    } else {
      frame_start_ = next_start;
      head_ = frame_start_;
    }
    return verdict(kind::unaligned, dropped);
  }
  // Samples lost (or repeated) inside this frame move the next preamble by as many: the
  // symbols after the gap are shifted against the channel estimate, and such a frame decoded
  // at ~40% bit errors. A clock drifts far less than 2 samples per frame (260 ppm at the
  // default numerology), so a move of 2 or more drops the frame; a move of 1 is followed as
  // drift (a 1-sample gap cannot be told from it).
  // The whole preamble moved only when little of it is left at the expected lag: a channel
  // whose strongest path changed (fast fading over multipath) keeps much of its peak there.
  const std::size_t moved = next_start > next ? next_start - next : next - next_start;
  if (moved >= 2 && at_next < 0.5 * best) {
    ++stats_.slipped_frames;
    const std::size_t dropped = frame_start_;
    frame_start_ = next_start;
    head_ = frame_start_;
    return verdict(kind::slipped, dropped);
  }
  const sync_verdict v = release(frame_start_);
  frame_start_ = next_start;
  head_ = frame_start_;
  return v;
}

// Mean power per sample over aligned [from, from + n), summed over antennas.
double synchroniser::mean_power(std::size_t from, std::size_t n) const noexcept {
  double energy = 0.0;
  for (std::size_t a = 0; a < buffer_.size(); ++a) energy += window_energy(row(a) + from, n);
  return energy / static_cast<double>(n);
}

// Whether the signal stopped right after the locked frame (no next preamble because nothing
// follows): the next preamble's window holds under a quarter of the frame's mean power, and
// the frame's last 16 samples at least a quarter of it (a frame cut short before its end is
// not whole: it is a sync loss). At an SNR under about 5 dB silence is not told from
// signal, and the frame is dropped as a sync loss.
bool synchroniser::signal_ends_after_frame() const noexcept {
  constexpr std::size_t kTail = 16;
  const double frame = mean_power(frame_start_, frame_len_);
  if (!(frame > 0.0)) return false;
  const double after = mean_power(frame_start_ + frame_len_ + cp_, fft_len_);
  const double tail = mean_power(frame_start_ + frame_len_ - kTail, kTail);
  return after < 0.25 * frame && tail >= 0.25 * frame;
}

sync_verdict synchroniser::step() { return locked_ ? track() : acquire(); }

sync_verdict synchroniser::drain() {
  // After the padding: step() decides, as for a stream that went silent.
  if (padded_) {
    const sync_verdict v = step();
    if (v.what == sync_verdict::kind::need_more) locked_ = false;
    return v;
  }
  // Every whole frame left: the one waiting for the next preamble, and those the per-antenna
  // check was still waiting on (its search needs a frame of samples past the preamble).
  if (locked_ && aligned_tail() >= frame_start_ + frame_len_) {
    const sync_verdict v = release(frame_start_);
    frame_start_ += frame_len_;
    head_ = std::min(frame_start_, aligned_tail());
    return v;
  }
  // Locked on a frame the stream ends inside. Short by no more than the CP (a lock a few
  // samples into the frame, as on a multipath channel, puts the frame's last samples past
  // the end of the stream, where the transmitter sent silence): padded with silence and
  // released. Short by more, with the frame's preamble seen (at least a symbol of it in
  // the stream): a frame cut off, dropped and counted as a sync loss.
  if (locked_ && aligned_tail() < frame_start_ + frame_len_) {
    const std::size_t have = aligned_tail() - frame_start_;
    if (have > 0 && frame_len_ - have <= cp_) {
      pad_with_silence();
      locked_ = false;
      const sync_verdict v = release(frame_start_);
      frame_start_ += frame_len_;
      head_ = frame_start_;
      return v;
    }
    if (have >= sym_len_ + 2) ++stats_.sync_losses;
  }
  // Not locked with a frame's worth of samples left: a last frame may be there, unsearched
  // (the search needs a symbol past a frame). The stream is over, so silence follows it.
  if (!locked_ && aligned_tail() >= head_ + frame_len_) {
    pad_with_silence();
    return drain();
  }
  locked_ = false;
  return verdict(sync_verdict::kind::need_more, head_);
}

// Zero samples after the end of the stream (a frame, a symbol and the search's margin), not
// counted as samples taken in, nor as discarded.
void synchroniser::pad_with_silence() {
  std::size_t left = frame_len_ + sym_len_ + 16;
  while (left > 0) {
    std::size_t room = left;
    const auto rows = input(room);
    for (cf32* row_start : rows) std::fill_n(row_start, room, cf32{});
    tail_ += room;
    left -= room;
  }
  padded_ = true;
  padding_from_ = head_abs_ + tail_ - (frame_len_ + sym_len_ + 16);
}

// Discarded samples [from, to) (buffer indices), the padding excluded.
void synchroniser::count_discarded(std::size_t from, std::size_t to) noexcept {
  const std::uint64_t a = head_abs_ + from;
  const std::uint64_t b = std::min<std::uint64_t>(head_abs_ + to, padded_ ? padding_from_ : head_abs_ + to);
  if (b > a) stats_.discarded_samples += b - a;
}

}  // namespace amimo::pipeline
