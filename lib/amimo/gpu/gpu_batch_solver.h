#pragma once
// The "gpu" backend of the batch solver factory (built only with AMIMO_WITH_CUDA): a batch
// of Hermitian systems goes to the device in one call (cuSOLVER potrfBatched, two cuBLAS
// trsmBatched; batched_gpu_solver.h), complex FP32. Its preference is f32 column-major:
// a batch given that way, densely packed, is copied to the device as it is, any other is
// converted once on the host (batch_solver.h's rule).
//
// Statuses follow digital-f32 (create_digital_batch_solver): a system with a non-finite
// element is not ok; one whose Cholesky fails on the device (not positive definite in
// FP32) is answered by the per-matrix digital-f32 backend (LDLT), as the CPU batch backend
// does; singularity is the same pivot-ratio test on the factor's diagonal; general
// (non-Hermitian) batches go to digital-f32 entirely.

#include <amimo/solver/batch_solver.h>

#include <memory>

namespace amimo::gpu {

/// A "gpu" batch backend for systems up to max_size×max_size. Throws gpu_error
/// (batched_gpu_solver.h) naming why when there is no usable CUDA device.
std::unique_ptr<solver::batch_solver> create_gpu_batch_solver(int max_size);

}  // namespace amimo::gpu
