#include <amimo/sweep/sweep_runner.h>

#include <amimo/channel/flat_channel.h>
#include <amimo/core/rng.h>
#include <amimo/core/thread_pool.h>
#include <amimo/detect/linear_detector.h>
#include <amimo/fec/transport_block.h>
#include <amimo/modem/mapper.h>

#include <channel_models/flat_models.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>
#include <memory>
#include <optional>

namespace amimo::sweep {

metrics::interval curve_point::bler_interval() const noexcept {
  return metrics::wilson_interval(static_cast<double>(block_errors), static_cast<double>(blocks));
}

namespace {

using clock = std::chrono::steady_clock;

struct curve_id {
  detect::detector_kind detector;
  std::size_t solver_index;
};

// What one frame contributed to one curve.
struct frame_outcome {
  std::uint64_t bits = 0;         // scored (streams not erased)
  std::uint64_t symbols = 0;
  std::uint64_t erased_bits = 0;  // bits of erased streams: never scored as decisions
  std::uint64_t bit_errors = 0;
  std::uint64_t symbol_errors = 0;
  bool unresolved = false;
  solver::solver_stats stats;
  std::uint64_t blocks = 0;
  std::uint64_t block_errors = 0;
  std::uint64_t undetected_block_errors = 0;
  std::uint64_t decoder_iterations = 0;
  std::uint64_t code_blocks = 0;
};

// One user's transport block per frame (coding ldpc): encoder, decoder and buffers.
class frame_codec {
 public:
  frame_codec(const sweep_config& config, int bits_per_symbol)
      : cfg_(user_transport_block(config)), encoder_(cfg_),
        decoder_(cfg_, fec::ldpc_decoder_kind::layered_min_sum,
                 fec::ldpc_decoder_config{config.ldpc_iterations, static_cast<float>(config.ldpc_alpha), true, 4.0f}),
        users_(static_cast<std::size_t>(config.users)), bps_(static_cast<std::size_t>(bits_per_symbol)),
        payload_(users_ * static_cast<std::size_t>(cfg_.tb_bits)), coded_(static_cast<std::size_t>(cfg_.g_bits)),
        user_llr_(coded_.size()), decoded_(static_cast<std::size_t>(cfg_.tb_bits)) {}

  // Draws every user's payload from gen and writes the coded bits in transmission order:
  // user k's G bits go, in order, to its symbols t·K + k of the frame.
  void encode_frame(rng& gen, std::span<bit> tx_bits) {
    gen.fill_bits(payload_);
    const auto a = static_cast<std::size_t>(cfg_.tb_bits);
    for (std::size_t k = 0; k < users_; ++k) {
      encoder_.encode(coded_, std::span<const std::uint8_t>(payload_).subspan(k * a, a));
      scatter_gather(k, [&](std::size_t user_bit, std::size_t frame_bit) { tx_bits[frame_bit] = coded_[user_bit]; });
    }
  }

  // Decodes every user's block from the frame's LLRs and adds to out.
  void decode_frame(std::span<const float> llr, frame_outcome& out) {
    const auto a = static_cast<std::size_t>(cfg_.tb_bits);
    for (std::size_t k = 0; k < users_; ++k) {
      scatter_gather(k, [&](std::size_t user_bit, std::size_t frame_bit) { user_llr_[user_bit] = llr[frame_bit]; });
      const fec::transport_block_decode_result r = decoder_.decode(decoded_, user_llr_);
      const auto sent = std::span<const std::uint8_t>(payload_).subspan(k * a, a);
      const bool same = std::equal(decoded_.begin(), decoded_.end(), sent.begin());
      ++out.blocks;
      if (!r.tb_crc_ok || !same) ++out.block_errors;
      if (r.tb_crc_ok && !same) ++out.undetected_block_errors;
      out.decoder_iterations += static_cast<std::uint64_t>(r.total_iterations);
      out.code_blocks += static_cast<std::uint64_t>(r.blocks);
    }
  }

 private:
  template <class F>
  void scatter_gather(std::size_t user, F f) const {
    const std::size_t vectors = coded_.size() / bps_;
    for (std::size_t t = 0; t < vectors; ++t) {
      const std::size_t frame_bit = (t * users_ + user) * bps_;
      for (std::size_t b = 0; b < bps_; ++b) f(t * bps_ + b, frame_bit + b);
    }
  }

  fec::transport_block_config cfg_;
  fec::transport_block_encoder encoder_;
  fec::transport_block_decoder decoder_;
  std::size_t users_;
  std::size_t bps_;
  std::vector<std::uint8_t> payload_;  // users × A
  std::vector<std::uint8_t> coded_;    // G
  std::vector<float> user_llr_;        // G
  std::vector<std::uint8_t> decoded_;  // A
};

// Everything one worker thread owns: its channel model, mapper, a solver and detector
// per curve, and buffers sized once.
class frame_worker {
 public:
  frame_worker(const sweep_config& config, const std::vector<curve_id>& curves)
      : config_(config), mapper_(config.modulation),
        channel_(channel_models::create_flat_channel_model(
            {config.channel, config.antennas, config.users, config.rho_bs, config.rho_ue}, config.cdl)),
        h_(config.antennas, config.users), s_(config.users, config.vectors_per_channel),
        noise_(config.antennas, config.vectors_per_channel), y_(config.antennas, config.vectors_per_channel),
        s_hat_(config.users, config.vectors_per_channel),
        tx_bits_(static_cast<std::size_t>(config.users) * config.vectors_per_channel * mapper_.bits_per_symbol()),
        rx_bits_(tx_bits_.size()) {
    if (is_coded(config)) {
      codec_.emplace(config, static_cast<int>(mapper_.bits_per_symbol()));
      llr_.resize(tx_bits_.size());
      noise_variance_.resize(static_cast<std::size_t>(config.users) * config.vectors_per_channel);
    }
    for (const curve_id& curve : curves) {
      auto solver = std::make_unique<solver::accounting_solver>(solver::create_linear_solver(
          effective_solver_spec(config, curve.solver_index), config.users, config.seed));
      detectors_.push_back(std::make_unique<detect::linear_detector>(
          curve.detector, config.mode, *solver, config.antennas, config.users, config.vectors_per_channel));
      solvers_.push_back(std::move(solver));
    }
  }

  // Simulates frame `frame` at noise variance n0 for the active curves; writes one
  // outcome per curve (inactive curves are left untouched).
  void run_frame(std::uint64_t frame, double n0, const std::vector<bool>& active, frame_outcome* outcomes) {
    rng gen(derive_seed(config_.seed, {0, frame}));
    channel_->draw(h_, gen);
    if (codec_) codec_->encode_frame(gen, tx_bits_);
    else gen.fill_bits(tx_bits_);
    // Symbols in column-major order: user k of vector t takes symbol index t*K + k.
    mapper_.map(std::span<cf64>(s_.data(), static_cast<std::size_t>(s_.size())), tx_bits_);
    gen.fill_complex_normal(noise_, 1.0);
    y_.noalias() = h_ * s_;
    y_ += std::sqrt(n0) * noise_;

    for (std::size_t c = 0; c < detectors_.size(); ++c) {
      if (!active[c]) continue;
      frame_outcome& out = outcomes[c];
      solvers_[c]->reset_stats();
      solvers_[c]->reseed(derive_seed(config_.seed, {1, frame, c}));
      const detect::channel_report report = detectors_[c]->set_channel(h_, n0);
      const bool ok = detectors_[c]->detect(s_hat_, y_);
      out.unresolved = !report.resolved || !ok;
      const auto samples = std::span<const cf64>(s_hat_.data(), static_cast<std::size_t>(s_hat_.size()));
      mapper_.demap_hard(rx_bits_, samples);
      out.bit_errors = 0;
      out.symbol_errors = 0;
      out.bits = 0;
      out.symbols = 0;
      out.erased_bits = 0;
      const unsigned bps = mapper_.bits_per_symbol();
      const auto users = static_cast<std::size_t>(config_.users);
      for (std::size_t s = 0; s < samples.size(); ++s) {
        // The one scoring rule (metrics/llr_quality.h): hard decisions, erasures skipped.
        if (!ok || detectors_[c]->erased(static_cast<int>(s % users))) {
          out.erased_bits += bps;
          continue;
        }
        out.bits += bps;
        ++out.symbols;
        unsigned wrong = 0;
        for (unsigned b = 0; b < bps; ++b) wrong += tx_bits_[s * bps + b] != rx_bits_[s * bps + b] ? 1U : 0U;
        out.bit_errors += wrong;
        out.symbol_errors += wrong > 0 ? 1U : 0U;
      }
      out.stats = solvers_[c]->stats();
      out.blocks = out.block_errors = out.undetected_block_errors = out.decoder_iterations = out.code_blocks = 0;
      if (codec_) {
        // Max-log LLRs with each stream's post-detection noise variance; an erased stream
        // (or a failed detection) gets variance +∞, i.e. LLR 0: its block fails, counted.
        const std::span<const double> nv = detectors_[c]->noise_variance();
        for (std::size_t s = 0; s < samples.size(); ++s) {
          noise_variance_[s] = ok ? nv[s % users] : std::numeric_limits<double>::infinity();
        }
        mapper_.demap_soft(llr_, samples, noise_variance_);
        codec_->decode_frame(llr_, out);
      }
    }
  }

 private:
  const sweep_config& config_;
  modem::mapper mapper_;
  std::unique_ptr<channel::flat_channel_model> channel_;
  std::vector<std::unique_ptr<solver::accounting_solver>> solvers_;
  std::vector<std::unique_ptr<detect::linear_detector>> detectors_;
  cmat h_;
  cmat s_;
  cmat noise_;
  cmat y_;
  cmat s_hat_;
  std::vector<bit> tx_bits_;
  std::vector<bit> rx_bits_;
  std::optional<frame_codec> codec_;  // coding ldpc only
  std::vector<float> llr_;
  std::vector<double> noise_variance_;  // per sample
};

// Frames per round: about 32k bits, whatever the thread count (determinism).
std::uint64_t frames_per_round(std::uint64_t bits_per_frame) {
  return std::clamp<std::uint64_t>((32768 + bits_per_frame - 1) / bits_per_frame, 4, 512);
}

}  // namespace

sweep_result run_sweep(const sweep_config& config, sweep_observer& observer, sweep_control& control) {
  std::vector<curve_id> curves;
  for (const detect::detector_kind detector : config.detectors) {
    for (std::size_t s = 0; s < config.solvers.size(); ++s) curves.push_back({detector, s});
  }
  thread_pool pool(config.threads);
  std::vector<std::unique_ptr<frame_worker>> workers;
  for (int w = 0; w < pool.size(); ++w) workers.push_back(std::make_unique<frame_worker>(config, curves));

  const unsigned bps = modem::bits_per_symbol(config.modulation);
  const std::uint64_t symbols_per_frame = static_cast<std::uint64_t>(config.users) * config.vectors_per_channel;
  const std::uint64_t bits_per_frame = symbols_per_frame * bps;
  const std::uint64_t round_frames = frames_per_round(bits_per_frame);
  const bool coded = is_coded(config);
  const auto users = static_cast<std::uint64_t>(config.users);
  std::vector<frame_outcome> outcomes(round_frames * curves.size());
  // Per curve, the lowest SNR at which it was error-free at max_bits / max_blocks: it is not
  // run at that SNR or above. A threshold rather than an off switch, so a list that does not
  // ascend ("25,10,0") still runs its lower points.
  std::vector<double> error_free_from(curves.size(), std::numeric_limits<double>::infinity());
  std::vector<bool> active(curves.size());

  sweep_result result;
  for (const double snr_db : config.snr_db) {
    for (std::size_t c = 0; c < curves.size(); ++c) active[c] = snr_db < error_free_from[c];
    if (std::none_of(active.begin(), active.end(), [](bool a) { return a; })) {
      result.skipped_snr_db.push_back(snr_db);
      continue;
    }
    const double n0 = channel::noise_variance_from_snr_db(snr_db);
    point_result point;
    point.snr_db = snr_db;
    point.ebn0_db = ebn0_db_per_information_bit(config, snr_db);
    std::vector<std::size_t> point_curves;
    for (std::size_t c = 0; c < curves.size(); ++c) {
      if (!active[c]) continue;
      point_curves.push_back(c);
      curve_point cp;
      cp.detector = curves[c].detector;
      cp.solver = solver_label(config, curves[c].solver_index);
      cp.solver_index = curves[c].solver_index;
      point.curves.push_back(cp);
    }
    control.skip_point = false;
    const clock::time_point start = clock::now();
    clock::time_point last_progress = start;
    std::uint64_t frames_done = 0;
    while (true) {
      const std::uint64_t bits_done = frames_done * bits_per_frame;
      const std::uint64_t frames_left = (config.max_bits - std::min(config.max_bits, bits_done) + bits_per_frame - 1) / bits_per_frame;
      std::uint64_t frames = std::min(round_frames, frames_left);
      if (coded) frames = std::min(frames, (config.max_blocks - std::min(config.max_blocks, frames_done * users) + users - 1) / users);
      const std::uint64_t first = frames_done;
      pool.parallel_for(frames, [&](int worker, std::size_t i) {
        workers[static_cast<std::size_t>(worker)]->run_frame(first + i, n0, active, &outcomes[i * curves.size()]);
      });
      // Reduce in frame order so floating-point sums are reproducible.
      for (std::size_t i = 0; i < frames; ++i) {
        for (std::size_t p = 0; p < point_curves.size(); ++p) {
          const frame_outcome& o = outcomes[i * curves.size() + point_curves[p]];
          curve_point& cp = point.curves[p];
          cp.errors.add_frame(o.bits, o.bit_errors, o.symbols, o.symbol_errors);
          cp.erased_bits += o.erased_bits;
          cp.stats.merge(o.stats);
          if (o.unresolved) ++cp.unresolved_channels;
          cp.blocks += o.blocks;
          cp.block_errors += o.block_errors;
          cp.undetected_block_errors += o.undetected_block_errors;
          cp.decoder_iterations += o.decoder_iterations;
          cp.code_blocks += o.code_blocks;
        }
      }
      frames_done += frames;
      const clock::time_point now = clock::now();
      point.seconds = std::chrono::duration<double>(now - start).count();

      const bool enough_errors = std::all_of(point.curves.begin(), point.curves.end(), [&](const curve_point& cp) {
        return coded ? cp.block_errors >= config.min_block_errors
                     : cp.errors.bit_errors() >= config.min_errors && cp.errors.frame_errors() >= config.min_error_frames;
      });
      if (enough_errors) point.stop_reason = coded ? "min_block_errors" : "min_errors";
      else if (coded && frames_done * users >= config.max_blocks) point.stop_reason = "max_blocks";
      else if (frames_done * bits_per_frame >= config.max_bits) point.stop_reason = "max_bits";
      else if (point.seconds >= config.max_seconds) point.stop_reason = "max_seconds";
      else if (control.stop_run || control.skip_point) point.stop_reason = "interrupted";
      if (!point.stop_reason.empty()) break;
      if (now - last_progress >= std::chrono::milliseconds(500)) {
        observer.on_progress(point);
        last_progress = now;
      }
    }
    // A curve with no error (coded: no block error) at max_bits / max_blocks is done at this
    // SNR and above: higher SNRs would only cost time.
    if (point.stop_reason == "max_bits" || point.stop_reason == "max_blocks") {
      for (std::size_t p = 0; p < point_curves.size(); ++p) {
        const curve_point& cp = point.curves[p];
        double& from = error_free_from[point_curves[p]];
        if ((coded ? cp.block_errors : cp.errors.bit_errors()) == 0) from = std::min(from, snr_db);
      }
    }
    observer.on_point_done(point);
    result.points.push_back(std::move(point));
    if (control.stop_run) {
      result.interrupted = true;
      break;
    }
  }
  return result;
}

}  // namespace amimo::sweep
