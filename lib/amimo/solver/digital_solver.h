#pragma once
// Digital backends on Eigen: Cholesky (LLT) for Hermitian positive-definite matrices
// (hand-written loops up to 32×32, where Eigen's blocked LLT is mostly set-up cost),
// LDLT when Cholesky fails, partial-pivot LU for general matrices. digital-f32 runs the
// factorisation and the solve in single precision (FP32 baseline), digital-f64 in double.

#include <amimo/solver/linear_solver.h>

#include <memory>

namespace amimo::solver {

enum class digital_precision { f32, f64 };

/// A matrix is declared singular when its smallest pivot magnitude falls below the
/// largest times the working precision's machine epsilon (pivot-ratio test; no
/// allocation, unlike Eigen's rcond()).
std::unique_ptr<linear_solver> create_digital_solver(digital_precision precision, int max_size);

}  // namespace amimo::solver
