#include <amimo/ofdm/uplink_emulator.h>

#include <amimo/core/error.h>

#include <algorithm>
#include <cmath>
#include <numbers>
#include <string>

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
      noise_gen_(derive_seed(seed, {0x7015EULL})),
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
  taps_.resize(entries, taps);
  response_.resize(entries, static_cast<Eigen::Index>(used));
  symbols_.resize(static_cast<std::size_t>(users_) * n.symbols_per_frame() * used);
  bits_.resize(layout.bits_per_user());
  data_tmp_.resize(static_cast<std::size_t>(n.data_symbols) * used);
  if (options_.time_domain) {
    if (options_.fir.half_width < 1 || options_.fir.half_width > 256) {
      throw config_error("time-domain channel: FIR half-width must be in 1..256");
    }
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
  noise_.assign(2 * static_cast<std::size_t>(n.frame_length()), 0.0);
  groups_.assign(static_cast<std::size_t>(users_), 0);
  for (int k = 0; k < users_; ++k) {
    if (!impairments_.cfo_hz.empty() && impairments_.cfo_hz[static_cast<std::size_t>(k)] != 0.0)
      groups_[static_cast<std::size_t>(k)] = group_count_++;
  }
}

Eigen::Map<const cmat> uplink_emulator::last_response(int u) const noexcept {
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

void uplink_emulator::compute_response() {
  for (Eigen::Index l = 0; l < taps_.cols(); ++l) {
    const cmat_cref g = channel_.tap_gain(static_cast<int>(l));
    taps_.col(l) = Eigen::Map<const cvec>(g.data(), taps_.rows());
  }
  response_.noalias() = taps_ * phases_;
  if (ramps_.size() == 0) return;
  for (Eigen::Index u = 0; u < response_.cols(); ++u) {
    for (int k = 0; k < users_; ++k)
      response_.col(u).segment(static_cast<Eigen::Index>(k) * antennas_, antennas_) *= ramps_(k, u);
  }
}

void uplink_emulator::build_user_symbols(std::uint64_t frame_index) {
  const auto& n = layout_.layout();
  const auto used = static_cast<std::size_t>(n.used_subcarriers);
  const auto per_user = static_cast<std::size_t>(n.symbols_per_frame()) * used;
  for (int k = 0; k < users_; ++k) {
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
      data_source_->data_bits(bits_, k, frame_index);
    } else {
      layout_.data_bits(bits_, seed_, k, frame_index);
    }
    layout_.mapper().map(data_tmp_, bits_);
    for (int d = 0; d < n.data_symbols; ++d) {  // data symbols around the pilot groups
      const auto from = data_tmp_.begin() + static_cast<std::ptrdiff_t>(static_cast<std::size_t>(d) * used);
      std::copy(from, from + static_cast<std::ptrdiff_t>(used),
                grid + static_cast<std::size_t>(n.data_symbol_index(d)) * used);
    }
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
  add_noise(out);
}

void uplink_emulator::add_noise(std::span<cf32* const> out) {
  const int frame_len = layout_.layout().frame_length();
  const auto sigma = static_cast<float>(std::sqrt(n0_ / 2.0));
  // fill_normal draws exactly the values of per-sample normal() calls (re, im, re, …), in bulk.
  for (int a = 0; a < antennas_; ++a) {
    cf32* dst = out[static_cast<std::size_t>(a)];
    noise_gen_.fill_normal(noise_);
    for (int i = 0; i < frame_len; ++i) {
      const auto re = noise_[2 * static_cast<std::size_t>(i)];
      const auto im = noise_[2 * static_cast<std::size_t>(i) + 1];
      dst[i] += cf32(sigma * static_cast<float>(re), sigma * static_cast<float>(im));
    }
  }
}

void uplink_emulator::generate(std::span<cf32* const> out, std::uint64_t frame_index) {
  if (options_.time_domain) {
    generate_time_domain(out, frame_index);
    return;
  }
  const auto& n = layout_.layout();
  const auto used = static_cast<std::size_t>(n.used_subcarriers);
  const int frame_len = n.frame_length();

  channel_.next_frame(channel_gen_);
  const int steps = channel_.steps_per_frame();
  const int symbols = n.symbols_per_frame();
  int state = 0;
  compute_response();
  build_user_symbols(frame_index);

  const auto per_user = static_cast<std::size_t>(symbols) * used;
  const auto fft_n = static_cast<std::size_t>(n.fft_size);
  const auto cp = static_cast<std::size_t>(n.cp_length);
  const auto sym_len = static_cast<std::size_t>(n.symbol_length());
  for (int a = 0; a < antennas_; ++a) {
    cf32* dst = out[static_cast<std::size_t>(a)];
    std::fill(dst, dst + frame_len, cf32{});
  }
  for (int s = 0; s < symbols; ++s) {
    // Symbol s uses channel state ⌊s·steps/S⌋ (continuous: states only move forward).
    const int wanted = static_cast<int>(static_cast<long long>(s) * steps / symbols);
    if (wanted != state) {
      while (state < wanted) {
        channel_.next_step();
        ++state;
      }
      compute_response();
    }
    if (!recorded_.empty()) recorded_[static_cast<std::size_t>(s)] = response_;
    for (int g = 0; g < group_count_; ++g) {
      int cfo_user = -1;
      for (int k = 0; k < users_; ++k)
        if (g > 0 && groups_[static_cast<std::size_t>(k)] == g) cfo_user = k;
      for (int a = 0; a < antennas_; ++a) {
        cf32* dst = out[static_cast<std::size_t>(a)];
        auto in = ifft_.input();
        std::fill(in.begin(), in.end(), cf32{});
        for (std::size_t u = 0; u < used; ++u) {
          const cf64* h = response_.col(static_cast<Eigen::Index>(u)).data();
          cf64 acc{};
          for (int k = 0; k < users_; ++k) {
            if (groups_[static_cast<std::size_t>(k)] != g) continue;
            acc += h[static_cast<std::size_t>(k * antennas_ + a)] *
                   symbols_[static_cast<std::size_t>(k) * per_user + static_cast<std::size_t>(s) * used + u];
          }
          in[static_cast<std::size_t>(n.fft_index_of(static_cast<int>(u)))] = cf32(acc);
        }
        ifft_.execute();
        const auto body = ifft_.output();
        cf32* sym = dst + static_cast<std::size_t>(s) * sym_len;
        if (cfo_user < 0) {
          for (std::size_t i = 0; i < cp; ++i) sym[i] += body[fft_n - cp + i];
          for (std::size_t i = 0; i < fft_n; ++i) sym[cp + i] += body[i];
        } else {
          const double eps = impairments_.cfo_hz[static_cast<std::size_t>(cfo_user)];
          const double t0 = static_cast<double>(frame_index) * frame_len +
                            static_cast<double>(static_cast<std::size_t>(s) * sym_len);
          for (std::size_t i = 0; i < sym_len; ++i) {
            const cf32 v = i < cp ? body[fft_n - cp + i] : body[i - cp];
            const double phase = 2.0 * std::numbers::pi * eps * (t0 + static_cast<double>(i)) / n.sample_rate;
            sym[i] += v * cf32(std::polar(1.0, std::fmod(phase, 2.0 * std::numbers::pi)));
          }
        }
      }
    }
  }
  add_noise(out);  // AWGN, CN(0, N0) per sample
}

}  // namespace amimo::ofdm
