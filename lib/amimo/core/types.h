#pragma once
// Scalar and matrix vocabulary shared by every amimo component.

#include <Eigen/Core>

#include <complex>
#include <cstdint>
#include <span>

namespace amimo {

using cf32 = std::complex<float>;
using cf64 = std::complex<double>;

/// Column-major dynamic complex matrix (double precision) used at component boundaries.
using cmat = Eigen::MatrixXcd;
using cvec = Eigen::VectorXcd;
using rmat = Eigen::MatrixXd;
using rvec = Eigen::VectorXd;

/// Read-only and writable views of matrices passed across interfaces without copies.
using cmat_cref = Eigen::Ref<const cmat>;
using cmat_ref = Eigen::Ref<cmat>;
using rmat_cref = Eigen::Ref<const rmat>;
using rmat_ref = Eigen::Ref<rmat>;

/// One bit per byte (0 or 1): simple to index, and BER counting stays exact.
using bit = std::uint8_t;

}  // namespace amimo
