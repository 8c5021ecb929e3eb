#include <amimo/analog/bit_slicing.h>
#include <amimo/analog/vector_ops.h>

#include <algorithm>
#include <cmath>

namespace amimo::analog {

double slice_full_scale(int levels, int slices) noexcept {
  return 1.0 - std::pow(static_cast<double>(levels), -static_cast<double>(slices));
}

void slice_matrix(const rmat& a, int levels, int slices, std::vector<rmat>& digits, rmat& a_q) {
  digits.resize(static_cast<std::size_t>(slices));
  for (rmat& d : digits) d.resize(a.rows(), a.cols());
  a_q.resize(a.rows(), a.cols());
  const auto l = static_cast<double>(levels);
  const double top = l - 1.0;
  // Nearest signed digit at every level; the remainder (either sign, |rest| ≤ 1) goes to
  // the next slice. Runs of entries slice by slice (the same operations per entry as one
  // entry at a time, so the loops vectorise across entries).
  constexpr std::ptrdiff_t run = 64;
  const std::ptrdiff_t total = a.size();
  const double* src = a.data();
  double* q = a_q.data();
  for (std::ptrdiff_t e0 = 0; e0 < total; e0 += run) {
    const std::ptrdiff_t len = std::min(run, total - e0);
    double t[run];
    double value[run];
    for (std::ptrdiff_t e = 0; e < len; ++e) {
      t[e] = src[e0 + e] * l;
      value[e] = 0.0;
    }
    double weight = 1.0;
    for (int s = 0; s < slices; ++s) {
      weight /= l;
      double* __restrict d = digits[static_cast<std::size_t>(s)].data() + e0;
      for (std::ptrdiff_t e = 0; e < len; ++e) {
        // min/max rather than std::clamp so the loop vectorises (same values).
        const double digit = std::min(std::max(std::nearbyint(t[e]), -top), top);
        d[e] = digit;
        value[e] += digit * weight;
        t[e] = (t[e] - digit) * l;
      }
    }
    for (std::ptrdiff_t e = 0; e < len; ++e) q[e0 + e] = value[e];
  }
}

void truncate_to_digits(Eigen::Ref<const rmat> m, double scale, int levels, rmat& digits) {
  digits.resize(m.rows(), m.cols());
  const auto l = static_cast<double>(levels);
  for (Eigen::Index j = 0; j < m.cols(); ++j) {
    for (Eigen::Index i = 0; i < m.rows(); ++i) {
      digits(i, j) = std::clamp(std::nearbyint(m(i, j) / scale * l), -(l - 1.0), l - 1.0);
    }
  }
}

double quantise_input(const rvec& x, int bits, std::vector<std::int64_t>& x_q) {
  x_q.resize(static_cast<std::size_t>(x.size()));
  const double scale = x.size() > 0 ? x.cwiseAbs().maxCoeff() : 0.0;
  if (!(scale > 0.0)) {
    std::fill(x_q.begin(), x_q.end(), 0);
    return 0.0;
  }
  const double full = std::ldexp(1.0, bits) - 1.0;
  // Rounded in runs (vectorised), converted to integers one by one (AVX2 has no double →
  // int64 conversion): the same values as the scalar expression.
  constexpr Eigen::Index run = 64;
  double rounded[run];
  for (Eigen::Index j0 = 0; j0 < x.size(); j0 += run) {
    const auto len = static_cast<int>(std::min(run, x.size() - j0));
    detail::rounded_ratio(x.data() + j0, rounded, len, scale, full);
    for (int k = 0; k < len; ++k) x_q[static_cast<std::size_t>(j0 + k)] = static_cast<std::int64_t>(rounded[k]);
  }
  return scale;
}

}  // namespace amimo::analog
