#include <amimo/analog/circuit_spectrum.h>

#include <Eigen/Eigenvalues>

#include <algorithm>
#include <cmath>
#include <limits>
#include <utility>

namespace amimo::analog {

namespace {

constexpr int kDim = kMaxFastSize + 1;  // 1-based indices, as in EISPACK
constexpr double kEps = std::numeric_limits<double>::epsilon();

// Upper Hessenberg form by stabilised elementary similarity transformations (ELMHES):
// pivot on the largest entry below the subdiagonal of column m − 1, eliminate below it.
void hessenberg(double (&a)[kDim][kDim], int n) noexcept {
  for (int m = 2; m < n; ++m) {
    double x = 0.0;
    int i = m;
    for (int j = m; j <= n; ++j) {
      if (std::abs(a[j][m - 1]) > std::abs(x)) {
        x = a[j][m - 1];
        i = j;
      }
    }
    if (i != m) {
      for (int j = m - 1; j <= n; ++j) std::swap(a[i][j], a[m][j]);
      for (int j = 1; j <= n; ++j) std::swap(a[j][i], a[j][m]);
    }
    if (x != 0.0) {
      const double inv_x = 1.0 / x;
      for (i = m + 1; i <= n; ++i) {
        double y = a[i][m - 1];
        if (y != 0.0) {
          y *= inv_x;
          for (int j = m; j <= n; ++j) a[i][j] -= y * a[m][j];
          for (int j = 1; j <= n; ++j) a[j][m] += y * a[j][i];
        }
      }
    }
  }
  for (int i = 3; i <= n; ++i) {
    for (int j = 1; j <= i - 2; ++j) a[i][j] = 0.0;  // the multipliers: not part of H
  }
}

// Francis double-shift QR on the Hessenberg matrix (HQR); eigenvalues' real parts into wr.
// False when an eigenvalue needs more than 30 iterations.
bool hessenberg_qr(double (&a)[kDim][kDim], int n, double (&wr)[kDim]) noexcept {
  double anorm = 0.0;
  for (int i = 1; i <= n; ++i) {
    for (int j = std::max(i - 1, 1); j <= n; ++j) anorm += std::abs(a[i][j]);
  }
  int nn = n;
  double t = 0.0;
  double p = 0.0;
  double q = 0.0;
  double r = 0.0;
  double x = 0.0;
  double y = 0.0;
  double z = 0.0;
  double w = 0.0;
  while (nn >= 1) {
    int its = 0;
    int l = 0;
    do {
      for (l = nn; l >= 2; --l) {
        double s = std::abs(a[l - 1][l - 1]) + std::abs(a[l][l]);
        if (s == 0.0) s = anorm;
        if (std::abs(a[l][l - 1]) <= kEps * s) {
          a[l][l - 1] = 0.0;
          break;
        }
      }
      x = a[nn][nn];
      if (l == nn) {  // one root found
        wr[nn--] = x + t;
      } else {
        y = a[nn - 1][nn - 1];
        w = a[nn][nn - 1] * a[nn - 1][nn];
        if (l == nn - 1) {  // two roots found
          p = 0.5 * (y - x);
          q = p * p + w;
          z = std::sqrt(std::abs(q));
          x += t;
          if (q >= 0.0) {  // a real pair
            z = p + std::copysign(z, p);
            wr[nn - 1] = wr[nn] = x + z;
            if (z != 0.0) wr[nn] = x - w / z;
          } else {  // a complex pair
            wr[nn - 1] = wr[nn] = x + p;
          }
          nn -= 2;
        } else {  // no root yet
          if (its == 30) return false;
          if (its == 10 || its == 20) {  // exceptional shift
            t += x;
            for (int i = 1; i <= nn; ++i) a[i][i] -= x;
            const double s = std::abs(a[nn][nn - 1]) + std::abs(a[nn - 1][nn - 2]);
            y = x = 0.75 * s;
            w = -0.4375 * s * s;
          }
          ++its;
          int m = nn - 2;
          for (; m >= l; --m) {  // two consecutive small subdiagonal elements
            z = a[m][m];
            r = x - z;
            double s = y - z;
            p = (r * s - w) / a[m + 1][m] + a[m][m + 1];
            q = a[m + 1][m + 1] - z - r - s;
            r = a[m + 2][m + 1];
            s = std::abs(p) + std::abs(q) + std::abs(r);
            p /= s;
            q /= s;
            r /= s;
            if (m == l) break;
            const double u = std::abs(a[m][m - 1]) * (std::abs(q) + std::abs(r));
            const double v = std::abs(p) * (std::abs(a[m - 1][m - 1]) + std::abs(z) + std::abs(a[m + 1][m + 1]));
            if (u <= kEps * v) break;
          }
          for (int i = m + 2; i <= nn; ++i) {
            a[i][i - 2] = 0.0;
            if (i != m + 2) a[i][i - 3] = 0.0;
          }
          for (int k = m; k <= nn - 1; ++k) {  // double QR step on rows l..nn, columns m..nn
            // (EISPACK scales p, q, r by |p| + |q| + |r| here against overflow; the
            // circuits' entries are O(1), so the bulge is used as it is: one division and a
            // square root fewer on the sweep's serial path.)
            if (k != m) {
              p = a[k][k - 1];
              q = a[k + 1][k - 1];
              r = 0.0;
              if (k != nn - 1) r = a[k + 2][k - 1];
            }
            const double s = std::copysign(std::sqrt(p * p + q * q + r * r), p);
            if (s != 0.0) {
              if (k == m) {
                if (l != m) a[k][k - 1] = -a[k][k - 1];
              } else {
                a[k][k - 1] = -s;
              }
              p += s;
              const double inv_s = 1.0 / s;
              const double inv_p = 1.0 / p;
              x = p * inv_s;
              y = q * inv_s;
              z = r * inv_s;
              q *= inv_p;
              r *= inv_p;
              for (int j = k; j <= nn; ++j) {  // row modification
                p = a[k][j] + q * a[k + 1][j];
                if (k != nn - 1) {
                  p += r * a[k + 2][j];
                  a[k + 2][j] -= p * z;
                }
                a[k + 1][j] -= p * y;
                a[k][j] -= p * x;
              }
              const int mmin = nn < k + 3 ? nn : k + 3;
              for (int i = l; i <= mmin; ++i) {  // column modification
                p = x * a[i][k] + y * a[i][k + 1];
                if (k != nn - 1) {
                  p += z * a[i][k + 2];
                  a[i][k + 2] -= p * r;
                }
                a[i][k + 1] -= p * q;
                a[i][k] -= p;
              }
            }
          }
        }
      }
    } while (l < nn - 1);
  }
  return true;
}

}  // namespace

double min_real_eigenvalue_reference(const double* a, int n) {
  const Eigen::Map<const Eigen::MatrixXd> m(a, n, n);
  Eigen::EigenSolver<Eigen::MatrixXd> eig(m, false);
  if (eig.info() != Eigen::Success) return std::numeric_limits<double>::quiet_NaN();
  return eig.eigenvalues().real().minCoeff();
}

bool fast_min_real_eigenvalue(const double* a, int n, double& out) noexcept {
  if (n < 1 || n > kMaxFastSize) return false;
  double h[kDim][kDim];
  double largest = 0.0;
  for (int j = 0; j < n; ++j) {
    for (int i = 0; i < n; ++i) {
      const double v = a[static_cast<std::ptrdiff_t>(j) * n + i];
      if (!std::isfinite(v)) return false;
      largest = std::max(largest, std::abs(v));
      h[i + 1][j + 1] = v;
    }
  }
  // The QR step forms p² + q² + r² unscaled (see hessenberg_qr): entries far from 1 could
  // underflow or overflow there, so such a matrix goes to Eigen (an all-zero one has λ = 0).
  if (largest == 0.0) {
    out = 0.0;
    return true;
  }
  if (largest < 1e-100 || largest > 1e100) return false;
  hessenberg(h, n);
  double wr[kDim];
  if (!hessenberg_qr(h, n, wr)) return false;
  double lowest = INFINITY;
  for (int i = 1; i <= n; ++i) {
    if (!std::isfinite(wr[i])) return false;
    lowest = std::min(lowest, wr[i]);
  }
  out = lowest;
  return true;
}

}  // namespace amimo::analog
