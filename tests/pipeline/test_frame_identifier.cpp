// The frame identifier's expected-frame check and its bit counter: sign_errors against a
// per-bit count written out here; the 45% rule over unerased symbols only, decided by LLRs
// built from the PRBS with chosen errors (erased symbols carry all-wrong LLRs, so counting
// them would change the verdict).
#include <amimo/core/rng.h>
#include <amimo/detect/linear_detector.h>
#include <amimo/ofdm/frame.h>
#include <amimo/pipeline/frame_identifier.h>

#include <gtest/gtest.h>

#include <limits>
#include <vector>

namespace amimo::pipeline {
namespace {

TEST(FrameIdentifier, SignErrorsCountsDisagreeingSignsForEveryLength) {
  rng gen(21);
  std::vector<float> llr(1000);
  std::vector<bit> ref(1000);
  for (std::size_t i = 0; i < llr.size(); ++i) {
    llr[i] = static_cast<float>(gen.normal());
    ref[i] = static_cast<bit>(gen.uniform() < 0.5 ? 1 : 0);
  }
  llr[7] = 0.0F;  // zero: not negative, so a decision for bit 0
  for (const std::size_t n : {0UL, 1UL, 7UL, 8UL, 9UL, 31UL, 257UL, 1000UL}) {
    std::uint64_t want = 0;
    for (std::size_t i = 0; i < n; ++i) {
      const bool decided_one = llr[i] < 0.0F;
      if (decided_one != (ref[i] == 1)) ++want;
    }
    EXPECT_EQ(sign_errors(llr.data(), ref.data(), n), want) << n;
  }
}

// LLRs of every user for the PRBS of `frame`: symbol i of user k wrong in all its bits when
// erased[i] or when i < wrong_symbols (the first unerased ones counted), else right.
struct frame_llrs {
  std::vector<float> llr;
  std::vector<double> variance;
};

frame_llrs make_llrs(const ofdm::frame_layout& layout, std::uint64_t seed, std::uint64_t frame,
                     const std::vector<bool>& erased, std::size_t wrong_symbols) {
  const std::size_t bpu = layout.bits_per_user();
  const std::size_t bps = layout.bits_per_symbol();
  const std::size_t per_user = bpu / bps;
  frame_llrs out;
  out.llr.resize(static_cast<std::size_t>(layout.users()) * bpu);
  out.variance.assign(static_cast<std::size_t>(layout.users()) * per_user, 0.1);
  std::vector<bit> bits(bpu);
  for (int k = 0; k < layout.users(); ++k) {
    layout.data_bits(bits, seed, k, frame);
    std::size_t counted = 0;
    for (std::size_t i = 0; i < per_user; ++i) {
      bool wrong = erased[i];
      if (!erased[i]) wrong = counted++ < wrong_symbols;
      if (erased[i]) out.variance[static_cast<std::size_t>(k) * per_user + i] = detect::linear_detector::kErased;
      for (std::size_t b = 0; b < bps; ++b) {
        const bool one = bits[i * bps + b] != 0;
        out.llr[static_cast<std::size_t>(k) * bpu + i * bps + b] = (one != wrong) ? -2.0F : 2.0F;
      }
    }
  }
  return out;
}

TEST(FrameIdentifier, ExpectedFrameJudgedOnUnerasedSymbolsOnlyAtFortyFivePercent) {
  ofdm::numerology n;
  n.data_symbols = 2;
  const ofdm::frame_layout layout(n, 3, modem::modulation::qam16);
  const std::size_t per_user = layout.bits_per_user() / layout.bits_per_symbol();  // 600
  const std::uint64_t seed = 5;
  // 60% of the symbols erased (scattered runs), all of them wrong: only skipping them matches.
  std::vector<bool> erased(per_user, false);
  for (std::size_t i = 0; i < per_user; ++i) erased[i] = (i % 10) < 6;
  const std::size_t unerased = per_user - per_user * 6 / 10;  // 240
  struct row {
    std::size_t wrong;
    bool match;
  };
  // 45% of 240 symbols = 108 (every bit of a wrong symbol is wrong): at most that matches.
  for (const row r : {row{0, true}, row{108, true}, row{109, false}, row{unerased, false}}) {
    frame_identifier id(layout, seed, 0, 1);
    for (std::size_t k = 0; k < 3; ++k) id.prepare(k);
    const auto f = make_llrs(layout, seed, 0, erased, r.wrong);
    const auto res = id.identify(f.llr, f.variance);
    EXPECT_EQ(res.matched, r.match) << r.wrong << " wrong symbols";
    if (res.matched) {
      EXPECT_EQ(res.index, 0U);
    }
  }
}

}  // namespace
}  // namespace amimo::pipeline
