#include <amimo/ofdm/uplink_emulator.h>

#include <amimo/core/error.h>
#include <amimo/ofdm/user_sum.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <numbers>
#include <string>
#include <thread>

namespace amimo::ofdm {

uplink_emulator::uplink_emulator(const frame_layout& layout,
                                 channel::selective_channel_model& channel, double snr_db,
                                 std::uint64_t seed, user_impairments impairments, emulator_options options)
    : layout_(layout),
      channel_(channel),
      antennas_(channel.antennas()),
      users_(layout.users()),
      n0_(std::pow(10.0, -snr_db / 10.0)),
      seed_(seed),
      impairments_(std::move(impairments)),
      channel_gen_(derive_seed(seed, {0xC4A7ULL})),
      ifft_(layout.layout().fft_size, fft_plan::direction::inverse),
      options_(options) {
  if (channel.users() != users_)
    throw config_error("channel model has " + std::to_string(channel.users()) + " users, frame " +
                       std::to_string(users_));
  if (!std::isfinite(snr_db)) throw config_error("snr_db must be finite");
  const auto check = [&](const std::vector<double>& v, const char* what) {
    if (!v.empty() && static_cast<int>(v.size()) != users_)
      throw config_error(std::string(what) + " needs one value per user (" +
                         std::to_string(users_) + "), got " + std::to_string(v.size()));
    for (double x : v)
      if (!std::isfinite(x)) throw config_error(std::string(what) + " must be finite");
  };
  if (options_.threads < 0 || options_.threads > max_worker_threads)
    throw config_error("emulator threads must be in 0.." + std::to_string(max_worker_threads) + " (0: one per core), got " +
                       std::to_string(options_.threads));
  check(impairments_.cfo_hz, "cfo_hz");
  check(impairments_.timing_offset_samples, "timing_offset_samples");
  for (double t : impairments_.timing_offset_samples)
    if (t < 0.0 || t >= layout.layout().cp_length)
      throw config_error("timing_offset_samples must be in [0, cp_length)");

  const auto& n = layout.layout();
  const auto used = static_cast<std::size_t>(n.used_subcarriers);
  const auto delays = channel.tap_delays();
  const auto taps = static_cast<Eigen::Index>(delays.size());
  const auto entries = static_cast<Eigen::Index>(antennas_) * users_;
  phases_.resize(taps, static_cast<Eigen::Index>(used));
  for (Eigen::Index u = 0; u < phases_.cols(); ++u) {
    const int bin = n.bin_of(static_cast<int>(u));
    for (Eigen::Index l = 0; l < taps; ++l)
      phases_(l, u) = channel::delay_phasor(bin, delays[static_cast<std::size_t>(l)], n.fft_size);
  }
  if (!impairments_.timing_offset_samples.empty()) {
    ramps_.resize(users_, static_cast<Eigen::Index>(used));
    for (Eigen::Index u = 0; u < ramps_.cols(); ++u) {
      const int bin = n.bin_of(static_cast<int>(u));
      for (int k = 0; k < users_; ++k) {
        const double tau = impairments_.timing_offset_samples[static_cast<std::size_t>(k)];
        ramps_(k, u) = std::polar(1.0, -2.0 * std::numbers::pi * bin * tau / n.fft_size);
      }
    }
  }
  phases_t_ = phases_.transpose().cast<cf32>();
  taps_.resize(entries, taps);
  response_.resize(entries, static_cast<Eigen::Index>(used));
  const int symbols = n.symbols_per_frame();
  slot_taps_.assign(static_cast<std::size_t>(symbols), cfmat(taps, entries));
  symbol_slot_.assign(static_cast<std::size_t>(symbols), 0);
  if (channel.time_invariant()) static_response_.resize(static_cast<Eigen::Index>(used), entries);
  user_grid_.resize(static_cast<std::size_t>(users_) * symbols * used);
  symbols_.resize(static_cast<std::size_t>(users_) * n.symbols_per_frame() * used);
  if (options_.time_domain) {
    // The used band is |f| ≤ (used/2) / fft_size of the sample rate.
    channel::validate_fractional_delay(options_.fir, 0.5 * n.used_subcarriers / n.fft_size);
    span_ = channel::channel_fir_span(delays, options_.fir);
    if (-span_.first >= n.symbol_length()) {
      throw config_error("time-domain channel: the FIR's pre-cursor is longer than an OFDM symbol");
    }
    history_ = std::max(0, span_.first + span_.length - 1);
    if (history_ >= n.frame_length()) throw config_error("time-domain channel: the FIR is longer than a frame");
    x_.setZero(users_, history_ + n.frame_length() + n.symbol_length());
    fir_.setZero(entries, span_.length);
    toeplitz_.setZero(span_.length, n.symbol_length());
    wave_.assign(static_cast<std::size_t>(n.symbol_length()), cf64{});
    block_.setZero(antennas_, n.symbol_length());
    coefficients_.assign(static_cast<std::size_t>(2 * options_.fir.half_width), 0.0);
  }
  groups_.assign(static_cast<std::size_t>(users_), 0);
  for (int k = 0; k < users_; ++k) {
    if (!impairments_.cfo_hz.empty() && impairments_.cfo_hz[static_cast<std::size_t>(k)] != 0.0)
      groups_[static_cast<std::size_t>(k)] = group_count_++;
  }
  group_users_.assign(static_cast<std::size_t>(group_count_), {});
  for (int k = 0; k < users_; ++k) group_users_[static_cast<std::size_t>(groups_[static_cast<std::size_t>(k)])].push_back(k);
  const int threads = std::min(options_.threads > 0 ? options_.threads : thread_pool::hardware_threads(),
                               options_.time_domain ? 1 : (antennas_ + antenna_block - 1) / antenna_block);
  for (int t = 0; t < std::max(1, threads); ++t) {
    workers_.push_back(std::make_unique<worker>(n.fft_size, symbols));
    workers_.back()->response.resize(static_cast<Eigen::Index>(used), static_cast<Eigen::Index>(antenna_block) * users_);
    workers_.back()->noise.assign(2 * static_cast<std::size_t>(n.frame_length()), 0.0F);
    workers_.back()->h.assign(static_cast<std::size_t>(antenna_block) * static_cast<std::size_t>(users_), nullptr);
    workers_.back()->x.assign(static_cast<std::size_t>(users_), nullptr);
    workers_.back()->bits.resize(layout.bits_per_user());
    workers_.back()->data.resize(static_cast<std::size_t>(n.data_symbols) * used);
  }
  // The workers poll for the next frame's job for a while before they block: waking a
  // blocked thread costs tens of microseconds on a VM, a noticeable part of a 1 ms frame.
  if (threads > 1) pool_ = std::make_unique<thread_pool>(threads, true, std::chrono::microseconds{200});
}

uplink_emulator::worker::worker(int fft_size, int symbols)
    : ifft(fft_size, fft_plan::direction::inverse),
      inputs_storage(static_cast<std::size_t>(symbols) * antenna_block * static_cast<std::size_t>(fft_size) + 8),
      body(static_cast<std::size_t>(fft_size)) {
  auto address = reinterpret_cast<std::uintptr_t>(inputs_storage.data());
  address = (address + 63U) & ~std::uintptr_t{63};
  inputs = inputs_storage.data() + (address - reinterpret_cast<std::uintptr_t>(inputs_storage.data())) / sizeof(cf32);
}

Eigen::Map<const cmat> uplink_emulator::last_response(int u) const noexcept {
  if (response_stale_) {
    response_.noalias() = taps_ * phases_;
    if (ramps_.size() != 0) {
      for (Eigen::Index c = 0; c < response_.cols(); ++c) {
        for (int k = 0; k < users_; ++k)
          response_.col(c).segment(static_cast<Eigen::Index>(k) * antennas_, antennas_) *= ramps_(k, c);
      }
    }
    response_stale_ = false;
  }
  return {response_.col(u).data(), antennas_, users_};
}

void uplink_emulator::record_symbol_responses(bool on) {
  if (!on) {
    recorded_.clear();
    return;
  }
  recorded_.assign(static_cast<std::size_t>(layout_.layout().symbols_per_frame()),
                   cmat::Zero(response_.rows(), response_.cols()));
}

Eigen::Map<const cmat> uplink_emulator::symbol_response(int s, int u) const noexcept {
  if (recorded_.empty() || s < 0 || static_cast<std::size_t>(s) >= recorded_.size() || u < 0 ||
      u >= response_.cols())
    return {nullptr, 0, 0};
  return {recorded_[static_cast<std::size_t>(s)].col(u).data(), antennas_, users_};
}

void uplink_emulator::response_from_taps() {
  response_stale_ = true;
  (void)last_response(0);
}

void uplink_emulator::compute_response() {
  for (Eigen::Index l = 0; l < taps_.cols(); ++l) {
    const cmat_cref g = channel_.tap_gain(static_cast<int>(l));
    taps_.col(l) = Eigen::Map<const cvec>(g.data(), taps_.rows());
  }
  response_from_taps();
}

void uplink_emulator::collect_states() {
  const int symbols = layout_.layout().symbols_per_frame();
  const int steps = channel_.steps_per_frame();
  int state = 0;
  int slots = 0;
  for (int s = 0; s < symbols; ++s) {
    // Symbol s uses channel state ⌊s·steps/S⌋ (continuous: states only move forward).
    const int wanted = static_cast<int>(static_cast<long long>(s) * steps / symbols);
    if (s == 0 || wanted != state) {
      while (state < wanted) {
        channel_.next_step();
        ++state;
      }
      cfmat& t = slot_taps_[static_cast<std::size_t>(slots++)];
      for (Eigen::Index l = 0; l < t.rows(); ++l) {
        const cmat_cref g = channel_.tap_gain(static_cast<int>(l));
        taps_.col(l) = Eigen::Map<const cvec>(g.data(), taps_.rows());
        for (int a = 0; a < antennas_; ++a) {  // antenna-major: column a·K + k
          for (int k = 0; k < users_; ++k) t(l, static_cast<Eigen::Index>(a) * users_ + k) = cf32(g(a, k));
        }
      }
      if (!recorded_.empty()) response_from_taps();
    }
    symbol_slot_[static_cast<std::size_t>(s)] = slots - 1;
    if (!recorded_.empty()) recorded_[static_cast<std::size_t>(s)] = response_;
  }
  response_stale_ = recorded_.empty();
  if (channel_.time_invariant() && !static_ready_) {
    static_response_.noalias() = phases_t_ * slot_taps_.front();
    static_ready_ = true;
  }
}

void uplink_emulator::build_user_symbols(std::uint64_t frame_index) {
  for (int k = 0; k < users_; ++k) build_user(k, *workers_.front(), frame_index);
}

void uplink_emulator::build_user(int k, worker& w, std::uint64_t frame_index) {
  const auto& n = layout_.layout();
  const auto used = static_cast<std::size_t>(n.used_subcarriers);
  const auto per_user = static_cast<std::size_t>(n.symbols_per_frame()) * used;
  cf64* grid = symbols_.data() + static_cast<std::size_t>(k) * per_user;
  for (std::size_t u = 0; u < used; ++u) grid[u] = layout_.preamble(static_cast<int>(u));
  for (int p = 0; p < n.pilot_groups() * n.pilot_symbols; ++p) {
    cf64* row = grid + static_cast<std::size_t>(n.pilot_symbol_index(p)) * used;
    for (std::size_t u = 0; u < used; ++u) {
      const int ui = static_cast<int>(u);
      row[u] = layout_.pilot_user(p % n.pilot_symbols, ui) == k ? layout_.pilot(ui) : cf64{};
    }
  }
  if (data_source_ != nullptr) {
    data_source_->data_bits(w.bits, k, frame_index);
  } else {
    layout_.data_bits(w.bits, seed_, k, frame_index);
  }
  layout_.mapper().map(w.data, w.bits);
  for (int d = 0; d < n.data_symbols; ++d) {  // data symbols around the pilot groups
    const auto from = w.data.begin() + static_cast<std::ptrdiff_t>(static_cast<std::size_t>(d) * used);
    std::copy(from, from + static_cast<std::ptrdiff_t>(used), grid + static_cast<std::size_t>(n.data_symbol_index(d)) * used);
  }
  // Single-precision copy for the per-subcarrier path: the timing-offset ramp and the
  // inverse FFT's unitary scale 1/√n applied here, so the IFFT runs unscaled.
  const double scale = 1.0 / std::sqrt(static_cast<double>(n.fft_size));
  cf32* dst = user_grid_.data() + static_cast<std::size_t>(k) * per_user;
  for (std::size_t i = 0; i < per_user; ++i) {
    cf64 v = grid[i] * scale;
    if (ramps_.size() != 0) v *= ramps_(k, static_cast<Eigen::Index>(i % used));
    dst[i] = cf32(v);
  }
}

void uplink_emulator::user_symbol_waveform(int k, int row, double t0, cf64* dst) {
  const auto& n = layout_.layout();
  const auto used = static_cast<std::size_t>(n.used_subcarriers);
  const auto per_user = static_cast<std::size_t>(n.symbols_per_frame()) * used;
  auto in = ifft_.input();
  std::fill(in.begin(), in.end(), cf32{});
  for (std::size_t u = 0; u < used; ++u) {
    cf64 v = row < 0 ? layout_.preamble(static_cast<int>(u))
                     : symbols_[static_cast<std::size_t>(k) * per_user + static_cast<std::size_t>(row) * used + u];
    if (ramps_.size() != 0) v *= ramps_(k, static_cast<Eigen::Index>(u));
    in[static_cast<std::size_t>(n.fft_index_of(static_cast<int>(u)))] = cf32(v);
  }
  ifft_.execute();
  const auto body = ifft_.output();
  const auto fft_n = static_cast<std::size_t>(n.fft_size);
  const auto cp = static_cast<std::size_t>(n.cp_length);
  const double eps = impairments_.cfo_hz.empty() ? 0.0 : impairments_.cfo_hz[static_cast<std::size_t>(k)];
  for (std::size_t i = 0; i < fft_n + cp; ++i) {
    cf64 v(i < cp ? body[fft_n - cp + i] : body[i - cp]);
    if (eps != 0.0) {
      const double phase = 2.0 * std::numbers::pi * eps * (t0 + static_cast<double>(i)) / n.sample_rate;
      v *= std::polar(1.0, std::fmod(phase, 2.0 * std::numbers::pi));
    }
    dst[i] = v;
  }
}

void uplink_emulator::generate_time_domain(std::span<cf32* const> out, std::uint64_t frame_index) {
  const auto& n = layout_.layout();
  const int frame_len = n.frame_length();
  const int sym_len = n.symbol_length();
  const int symbols = n.symbols_per_frame();
  channel_.next_frame(channel_gen_);
  const int steps = channel_.steps_per_frame();
  int state = 0;
  compute_response();
  build_user_symbols(frame_index);
  // x_ = [history | this frame | next frame's preamble]; the history is the end of the last
  // frame (zeros before the first frame).
  if (history_ > 0) {
    // The last frame's final samples sit at [frame_len, frame_len + history): no overlap with
    // [0, history) since a frame is longer than the FIR (checked at construction).
    x_.leftCols(history_) = x_.middleCols(frame_len, history_);
  }
  std::vector<cf64>& wave = wave_;
  const double frame_t0 = static_cast<double>(frame_index) * frame_len;
  for (int k = 0; k < users_; ++k) {
    for (int s = 0; s <= symbols; ++s) {
      const bool next_preamble = s == symbols;
      user_symbol_waveform(k, next_preamble ? -1 : s, frame_t0 + static_cast<double>(s) * sym_len, wave.data());
      for (int i = 0; i < sym_len; ++i) x_(k, history_ + s * sym_len + i) = wave[static_cast<std::size_t>(i)];
    }
  }
  channel::channel_fir(channel_, options_.fir, fir_, coefficients_);
  for (int s = 0; s < symbols; ++s) {
    const int wanted = static_cast<int>(static_cast<long long>(s) * steps / symbols);
    if (wanted != state) {
      while (state < wanted) {
        channel_.next_step();
        ++state;
      }
      compute_response();
      channel::channel_fir(channel_, options_.fir, fir_, coefficients_);
    }
    if (!recorded_.empty()) recorded_[static_cast<std::size_t>(s)] = response_;
    block_.setZero();
    for (int k = 0; k < users_; ++k) {
      // toeplitz(j, i) = x_k[t − first − j], t = s·sym_len + i the output sample.
      for (int j = 0; j < span_.length; ++j) {
        const int start = history_ + s * sym_len - span_.first - j;
        toeplitz_.row(j) = x_.row(k).segment(start, sym_len);
      }
      block_.noalias() += fir_.middleRows(static_cast<Eigen::Index>(k) * antennas_, antennas_) * toeplitz_;
    }
    for (int a = 0; a < antennas_; ++a) {
      cf32* dst = out[static_cast<std::size_t>(a)] + static_cast<std::size_t>(s) * sym_len;
      for (int i = 0; i < sym_len; ++i) dst[i] = cf32(block_(a, i));
    }
  }
  for (int a = 0; a < antennas_; ++a)
    antenna_noise(a, *workers_.front(), out[static_cast<std::size_t>(a)], frame_index, false);
}

void uplink_emulator::antenna_noise(int a, worker& w, cf32* dst, std::uint64_t frame_index, bool write) {
  const auto values = 2 * static_cast<std::size_t>(layout_.layout().frame_length());
  const auto sigma = static_cast<float>(std::sqrt(n0_ / 2.0));
  // One stream per (frame, antenna): the same noise whichever thread draws it.
  w.noise_gen.reseed(derive_seed(seed_, {0x7015EULL, frame_index, static_cast<std::uint64_t>(a)}));
  float* d = reinterpret_cast<float*>(dst);
  if (write) {  // straight into the output, then scaled in place
    w.noise_gen.fill(std::span<float>(d, values));
    for (std::size_t i = 0; i < values; ++i) d[i] *= sigma;
    return;
  }
  const float* z = w.noise.data();
  w.noise_gen.fill(std::span<float>(w.noise));
  for (std::size_t i = 0; i < values; ++i) d[i] += sigma * z[i];
}

void uplink_emulator::generate_block(int block, worker& w, cf32* const* out, std::uint64_t frame_index) {
  const auto& n = layout_.layout();
  const auto used = static_cast<Eigen::Index>(n.used_subcarriers);
  const Eigen::Index half = used / 2;
  const int symbols = n.symbols_per_frame();
  const auto fft_n = static_cast<std::size_t>(n.fft_size);
  const auto cp = static_cast<std::size_t>(n.cp_length);
  const auto sym_len = static_cast<std::size_t>(n.symbol_length());
  const int first = block * antenna_block;
  const int count = std::min(antenna_block, antennas_ - first);
  const Eigen::Index columns = static_cast<Eigen::Index>(count) * users_;
  const Eigen::Index first_column = static_cast<Eigen::Index>(first) * users_;
  const auto input = [&](int s, int i) {  // IFFT input of symbol s, antenna first + i
    return w.inputs + (static_cast<std::size_t>(s) * antenna_block + static_cast<std::size_t>(i)) * fft_n;
  };
  // Subcarrier chunks of the user sum: the block's responses of one chunk (4 antennas × K
  // users × 32 subcarriers, 8 KB at K = 8) stay in L1 across the symbols that use them.
  constexpr Eigen::Index chunk = 32;
  cf32* dst[antenna_block];
  int s0 = 0;
  while (s0 < symbols) {  // runs of symbols that share a channel state
    const int slot = symbol_slot_[static_cast<std::size_t>(s0)];
    int s1 = s0 + 1;
    while (s1 < symbols && symbol_slot_[static_cast<std::size_t>(s1)] == slot) ++s1;
    const cf32* response = nullptr;  // antenna first + i, user k: column i·K + k, `used` apart
    if (static_ready_) {
      response = static_response_.data() + first_column * used;
    } else {
      // H (used × count·K) = Eᵀ (used × L) · G (L × count·K): this block's antennas.
      w.response.leftCols(columns).noalias() =
          phases_t_ * slot_taps_[static_cast<std::size_t>(slot)].middleCols(first_column, columns);
      response = w.response.data();
    }
    for (int g = 0; g < group_count_; ++g) {
      const auto& members = group_users_[static_cast<std::size_t>(g)];
      if (g > 0 && members.empty()) continue;
      const int terms = static_cast<int>(members.size());
      for (int m = 0; m < terms; ++m) {
        const int k = members[static_cast<std::size_t>(m)];
        for (int i = 0; i < count; ++i)
          w.h[static_cast<std::size_t>(i * terms + m)] = response + (static_cast<Eigen::Index>(i) * users_ + k) * used;
      }
      // Y_a(f) = Σ_k H_ak(f) X_k(f) into the IFFT inputs: used subcarrier u < half sits at
      // bin n − half + u (below DC), u ≥ half at bin 1 + u − half.
      for (Eigen::Index c = 0; c < used; c += chunk) {
        const Eigen::Index c_end = std::min(used, c + chunk);
        for (int s = s0; s < s1; ++s) {
          const std::size_t row = static_cast<std::size_t>(s) * static_cast<std::size_t>(used);
          for (int m = 0; m < terms; ++m) {
            const auto k = static_cast<std::size_t>(members[static_cast<std::size_t>(m)]);
            w.x[static_cast<std::size_t>(m)] =
                user_grid_.data() + k * static_cast<std::size_t>(symbols) * static_cast<std::size_t>(used) + row;
          }
          if (c < half) {
            const Eigen::Index to = std::min(c_end, half);
            for (int i = 0; i < count; ++i) dst[i] = input(s, i) + fft_n - static_cast<std::size_t>(half - c);
            user_sum(dst, count, w.h.data(), w.x.data(), terms, c, to - c);
          }
          if (c_end > half) {
            const Eigen::Index from = std::max(c, half);
            for (int i = 0; i < count; ++i) dst[i] = input(s, i) + 1 + (from - half);
            user_sum(dst, count, w.h.data(), w.x.data(), terms, from, c_end - from);
          }
        }
      }
      for (int s = s0; s < s1; ++s) {
        for (int i = 0; i < count; ++i) {
          // Unscaled: the 1/√n is in the user grid. Added to the noise already in the output.
          cf32* sym = out[static_cast<std::size_t>(first + i)] + static_cast<std::size_t>(s) * sym_len;
          w.ifft.execute_unscaled(input(s, i), w.body.data());
          const cf32* body = w.body.data();
          if (g == 0) {
            for (std::size_t j = 0; j < cp; ++j) sym[j] += body[fft_n - cp + j];
            for (std::size_t j = 0; j < fft_n; ++j) sym[cp + j] += body[j];
          } else {
            const double eps = impairments_.cfo_hz[static_cast<std::size_t>(members.front())];
            const double t0 = static_cast<double>(frame_index) * n.frame_length() +
                              static_cast<double>(static_cast<std::size_t>(s) * sym_len);
            for (std::size_t j = 0; j < sym_len; ++j) {
              const cf32 v = j < cp ? body[fft_n - cp + j] : body[j - cp];
              const double phase = 2.0 * std::numbers::pi * eps * (t0 + static_cast<double>(j)) / n.sample_rate;
              sym[j] += v * cf32(std::polar(1.0, std::fmod(phase, 2.0 * std::numbers::pi)));
            }
          }
        }
      }
    }
    s0 = s1;
  }
}

void uplink_emulator::run_item(std::size_t item, worker& w) {
  const auto users = static_cast<std::size_t>(job_users_);
  const auto antennas = static_cast<std::size_t>(antennas_);
  if (item < users + antennas) {
    // Counted however the item ends, so the block items never wait for ever.
    struct count_done {
      std::atomic<int>& done;
      ~count_done() { done.fetch_add(1, std::memory_order_release); }
    } guard{prerequisites_done_};
    if (item < users) {
      build_user(static_cast<int>(item), w, job_frame_);
    } else {
      const int a = static_cast<int>(item - users);
      antenna_noise(a, w, job_out_[static_cast<std::size_t>(a)], job_frame_, true);
    }
    return;
  }
  // Items are handed out in order: every user and noise item has started; wait for the last
  // ones. A block reads every user's grid and adds into outputs the noise items overwrite.
  const int prerequisites = job_users_ + antennas_;
  while (prerequisites_done_.load(std::memory_order_acquire) < prerequisites) std::this_thread::yield();
  generate_block(static_cast<int>(item - users - antennas), w, job_out_, job_frame_);
}

void uplink_emulator::generate(std::span<cf32* const> out, std::uint64_t frame_index) {
  if (options_.time_domain) {
    generate_time_domain(out, frame_index);
    return;
  }
  channel_.next_frame(channel_gen_);
  collect_states();
  // One pool job per frame: the users' grids (PRBS and mapping; a data source, which need
  // not be thread-safe, is read here on the caller instead), each antenna's noise written
  // into its output, then the antenna blocks adding the signal once every user is built.
  job_users_ = data_source_ == nullptr ? users_ : 0;
  if (job_users_ == 0) build_user_symbols(frame_index);
  prerequisites_done_.store(0, std::memory_order_relaxed);
  job_out_ = out.data();
  job_frame_ = frame_index;
  const int blocks = (antennas_ + antenna_block - 1) / antenna_block;
  const auto items = static_cast<std::size_t>(job_users_ + antennas_ + blocks);
  if (pool_ == nullptr) {
    for (std::size_t i = 0; i < items; ++i) run_item(i, *workers_.front());
    return;
  }
  // Captures `this` only: the std::function holds it without allocating.
  pool_->parallel_for(items, [this](int w, std::size_t i) { run_item(i, *workers_[static_cast<std::size_t>(w)]); });
}

}  // namespace amimo::ofdm
