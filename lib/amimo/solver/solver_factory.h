#pragma once
// Creates solver backends by name. One instance per worker thread: backends keep state
// (factorisations, programmed arrays, noise generators) and are not thread-safe.

#include <amimo/solver/batch_solver.h>
#include <amimo/solver/linear_solver.h>

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace amimo::solver {

/// A backend name and its options ("key" → "value"), e.g. {"analog", {{"iters", "3"}}}.
struct solver_spec {
  std::string name;
  std::map<std::string, std::string> options;
};

/// Parses one command-line entry "name[:key=value[:key=value…]]" (';' also separates
/// options; a ':' inside a value such as an endpoint continues it). Throws config_error for
/// an empty name, an option without '=', or a key given twice.
solver_spec parse_solver_entry(const std::string& entry);
/// The entry form of a spec, "name[:key=value…]" (keys in order): a label that tells apart
/// chains of one backend with different options.
std::string to_entry_string(const solver_spec& spec);

/// Backend names the factory accepts for both interfaces. Not listed: "gpu", a batch-only
/// backend (create_batch_solver, has_native_batch) in CUDA builds (AMIMO_WITH_CUDA); on a
/// build without CUDA or a machine without a device its validation and creation throw
/// config_error saying so.
std::vector<std::string> available_solvers();

/// Validates the name and options without creating anything; throws amimo::config_error
/// naming the problem (unknown backend, unknown option, bad value).
void validate_solver_spec(const solver_spec& spec);

/// Creates a backend able to take matrices up to max_size×max_size. seed feeds any
/// randomness the backend has (device variation, read noise), so runs reproduce.
/// Throws amimo::config_error for an unknown name or option.
std::unique_ptr<linear_solver> create_linear_solver(const solver_spec& spec, int max_size,
                                                    std::uint64_t seed);

/// A batch backend for the same specs: digital-f32 and digital-f64 natively (compact SIMD
/// kernels across systems, create_digital_batch_solver), remote natively (solve_batch
/// requests, remote/remote_batch_solver.h), gpu natively in CUDA builds (cuSOLVER/cuBLAS
/// batched, gpu/gpu_batch_solver.h; config_error without a device), every other backend through
/// per_matrix_batch_solver around create_linear_solver(spec, max_size, seed), unchanged.
std::unique_ptr<batch_solver> create_batch_solver(const solver_spec& spec, int max_size, std::uint64_t seed);
/// Whether create_batch_solver() gives a native batch backend for spec (not the adapter).
bool has_native_batch(const solver_spec& spec);
/// Whether spec's solves travel over the network (remote): their time is round trips more
/// than arithmetic, so callers send fewer, larger batches.
bool latency_bound(const solver_spec& spec) noexcept;

}  // namespace amimo::solver
