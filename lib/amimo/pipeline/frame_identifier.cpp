#include <amimo/pipeline/frame_identifier.h>

#include <amimo/detect/linear_detector.h>

#include <algorithm>

namespace amimo::pipeline {
namespace {

// A wrong PRBS frame gives a bit error fraction of 0.5 (std 0.5/√bits); the right one the BER.
constexpr double kPrefixMatch = 0.42;
constexpr double kFullMatch = 0.45;
constexpr std::size_t kPrefixBits = 1024;

}  // namespace

std::uint64_t sign_errors(const float* llr, const bit* ref, std::size_t n) noexcept {
  // 32-bit counts per chunk (the loop vectorises to 8 lanes), summed in 64 bits.
  constexpr std::size_t kChunk = std::size_t{1} << 20U;
  std::uint64_t errors = 0;
  for (std::size_t c0 = 0; c0 < n; c0 += kChunk) {
    const std::size_t end = std::min(n, c0 + kChunk);
    std::uint32_t chunk = 0;
    for (std::size_t i = c0; i < end; ++i) {
      chunk += static_cast<std::uint32_t>(llr[i] < 0.0F) ^ static_cast<std::uint32_t>(ref[i] != 0);
    }
    errors += chunk;
  }
  return errors;
}

frame_identifier::frame_identifier(const ofdm::frame_layout& layout, std::uint64_t seed, std::size_t known_bits,
                                   int frame_search)
    : layout_(layout),
      seed_(seed),
      known_(known_bits == 0 ? layout.bits_per_user() : std::min(known_bits, layout.bits_per_user())),
      frame_search_(frame_search) {
  reference_.assign(static_cast<std::size_t>(layout.users()), std::vector<bit>(layout.bits_per_user()));
  candidate_.assign(std::min(kPrefixBits, known_), 0);
}

void frame_identifier::prepare(std::size_t k) noexcept {
  layout_.data_bits(reference_[k], seed_, static_cast<int>(k), expected_);
}

frame_identifier::result frame_identifier::identify(std::span<const float> llr, std::span<const double> variance) {
  const auto users = reference_.size();
  const std::size_t bpu = layout_.bits_per_user();
  const std::size_t bps = layout_.bits_per_symbol();
  const std::size_t per_user = bpu / bps;
  const std::size_t known_symbols = known_ / bps;
  // The expected frame: hard decisions (LLR signs) of unerased symbols over the known bits.
  std::uint64_t errors = 0;
  std::uint64_t bits = 0;
  for (std::size_t k = 0; k < users; ++k) {
    const float* l = llr.data() + k * bpu;
    const double* v = variance.data() + k * per_user;
    const bit* ref = reference_[k].data();
    // Runs of unerased symbols, one (vectorised) sign_errors call per run: erasures are
    // rare, so usually one run per user.
    std::size_t i = 0;
    while (i < known_symbols) {
      if (!(v[i] < detect::linear_detector::kErased)) {
        ++i;
        continue;
      }
      std::size_t end = i + 1;
      while (end < known_symbols && v[end] < detect::linear_detector::kErased) ++end;
      errors += sign_errors(l + i * bps, ref + i * bps, (end - i) * bps);
      bits += (end - i) * bps;
      i = end;
    }
  }
  result r;
  r.index = expected_;
  r.matched = bits > 0 && static_cast<double>(errors) / static_cast<double>(bits) <= kFullMatch;
  if (!r.matched) {
    const std::size_t prefix = candidate_.size();
    const std::uint64_t first = index_known_ ? expected_ + 1 : 0;
    // Bounded work whatever the user count: at most 2^18 (candidate, user) prefix checks.
    const std::uint64_t candidates =
        std::min<std::uint64_t>(static_cast<std::uint64_t>(frame_search_), (std::uint64_t{1} << 18U) / users);
    const std::uint64_t last = first + std::max<std::uint64_t>(candidates, 1);
    for (std::uint64_t cand = first; cand < last && !r.matched; ++cand) {
      if (cand == expected_) continue;
      std::uint64_t e = 0;
      for (std::size_t k = 0; k < users; ++k) {
        layout_.data_bits(candidate_, seed_, static_cast<int>(k), cand);
        e += sign_errors(llr.data() + k * bpu, candidate_.data(), prefix);
      }
      if (static_cast<double>(e) / static_cast<double>(prefix * users) > kPrefixMatch) continue;
      std::uint64_t full = 0;
      for (std::size_t k = 0; k < users; ++k) {
        layout_.data_bits(reference_[k], seed_, static_cast<int>(k), cand);
        full += sign_errors(llr.data() + k * bpu, reference_[k].data(), known_);
      }
      if (static_cast<double>(full) / static_cast<double>(known_ * users) <= kFullMatch) {
        r.matched = true;
        r.index = cand;
      }
    }
  }
  if (!r.matched) {
    ++expected_;
    return r;
  }
  if (index_known_ && r.index > expected_) r.missed = r.index - expected_;
  expected_ = r.index + 1;
  index_known_ = true;
  return r;
}

}  // namespace amimo::pipeline
