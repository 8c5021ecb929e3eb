#pragma once
// Run-time choice of the SIMD target of the batched kernels (compact_kernels.h and the
// batch detector). The kernel files are compiled once per target with Highway's
// foreach_target.h — whatever the build's -march — and the best target this CPU (and its
// operating system) supports is used, so a portable x86-64 build runs AVX2 on an AVX2
// machine and AVX-512 where present:
//   "AVX3"    AVX-512F, 16 f32 / 8 f64 lanes
//   "AVX2"    AVX2 + FMA, 8 f32 / 4 f64 lanes
//   "EMU128"  one plain scalar lane (the reference every target must agree with)
// (names as Highway's hwy::TargetName). Every target computes the same IEEE operations per
// lane, so the results do not depend on the target.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace amimo::simd {

/// Targets compiled into the kernels, best first.
std::vector<std::string> compiled_targets();
/// The compiled targets this machine can run, best first.
std::vector<std::string> runnable_targets();
/// The target kernels created now use: the best runnable one, or the one use_target() set.
std::string current_target();
/// Highway's bit for current_target() (HWY_AVX2, …), for the per-target dispatch tables.
std::int64_t current_target_bit();
/// f32 lanes of the current target (systems per compact group).
int current_f32_lanes();

/// Makes kernels created from now on (create_digital_batch_solver, batch_detector) use
/// `name`; "" restores the best runnable target. Process-wide, for tests and benchmarks;
/// objects already created keep their target. Throws amimo::config_error for a target not
/// compiled in or not runnable here.
void use_target(std::string_view name);

}  // namespace amimo::simd
