#pragma once
// The stability margin of an INV circuit: the smallest real part over the eigenvalues of
// its (real, non-symmetric) circuit matrix. The circuit settles only when it is positive,
// and the settle time the cost model charges is proportional to its inverse.
//
// Small circuits (the board's 8×8 arrays) are the hot case: LP-INV programs one per
// subcarrier and frame. Eigen's EigenSolver (Householder Hessenberg reduction, then its
// generic real-Schur QR) spent 4.4–5.5 µs on one 8×8 matrix, about a fifth of the analog
// receiver's time (this routine: 2.9 µs). fast_min_real_eigenvalue() runs the classic EISPACK pair on a plain stack array instead —
// Hessenberg reduction by stabilised elementary similarity transformations (ELMHES) and the
// Francis double-shift QR on it (HQR, exceptional shifts at iterations 10 and 20) — and
// agrees with Eigen's eigenvalues to rounding (a few ulps of the matrix norm; tests compare
// the two on Gaussian and circuit-like near-symmetric matrices, and it against closed-form
// real and complex spectra). A
// matrix larger than kMaxFastSize, one with a non-finite entry or with its largest entry
// outside [1e-100, 1e100] (the QR step's sums of squares are not scaled), or a QR that does
// not converge within 30 iterations per eigenvalue goes to Eigen's solver (the caller's).

namespace amimo::analog {

inline constexpr int kMaxFastSize = 16;

/// Smallest real part of an eigenvalue of the n×n column-major matrix a (leading dimension
/// n) into `out`, by ELMHES + HQR on the stack (no allocation). False — `out` untouched —
/// when n > kMaxFastSize, an entry is not finite, the entries' scale is outside
/// [1e-100, 1e100], or the QR did not converge: the caller then asks Eigen (lp_inv keeps
/// its solvers' workspaces).
bool fast_min_real_eigenvalue(const double* a, int n, double& out) noexcept;

/// The same through Eigen::EigenSolver (the reference; allocates). NaN when it does not
/// converge.
double min_real_eigenvalue_reference(const double* a, int n);

}  // namespace amimo::analog
