#pragma once
// What amimo-solverd accepts from the wire (README "Running amimo-solverd on a shared
// network"). A client names a backend from a closed list and options from a closed list;
// nothing it sends names a file on the server. Analog profiles are chosen by name (the
// built-in ones, plus those the operator loaded with --profile-dir at startup) or sent
// inline as YAML text of bounded size. Each request's work is estimated before it runs
// and refused beyond the service's limit.

#include <amimo/analog/analog_profile.h>
#include <amimo/remote/wire_format.h>
#include <amimo/solver/linear_solver.h>
#include <amimo/solver/solver_factory.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>

namespace amimo::remote {

/// Largest inline profile (`profile-yaml=` option, after unescaping), bytes.
inline constexpr std::size_t max_inline_profile_bytes = 16 * 1024;
/// Profiles a --profile-dir may hold at most.
inline constexpr std::size_t max_profile_dir_entries = 256;

/// Profiles offered by name: the built-in ones and those of the operator's --profile-dir.
struct profile_registry {
  std::map<std::string, std::string> yaml;  ///< name → YAML text (already validated)
};

/// Built-ins, plus every DIR/NAME.yaml (regular files, at most analog::max_profile_bytes
/// each, at most max_profile_dir_entries, names of [A-Za-z0-9._-], no clash with a
/// built-in). Each is parsed and validated now. Throws io_error / config_error.
profile_registry load_profile_registry(const std::string& profile_dir);

/// A wire spec checked against the closed lists, ready to create without touching files.
struct resolved_spec {
  std::string backend;                          ///< digital-f64 | digital-f32 | analog | analog-lp
  std::optional<analog::analog_profile> profile;  ///< analog backends
};

/// Throws wire_error{bad_spec} naming the problem: unknown backend or option, a profile
/// name not offered, an inline profile too large or invalid, a bad option value. The
/// message quotes only what the client sent, never anything read on the server.
resolved_spec resolve_wire_spec(const solver::solver_spec& spec, const profile_registry& profiles);

/// The client-side check of a remote backend spec (the factory's "remote" entry): the same
/// closed lists, with the built-in profiles; a profile name that is not built in is left
/// to the service (it may offer it from its --profile-dir). Throws config_error.
void validate_client_spec(const solver::solver_spec& spec);

/// Called by an analog backend between refinement iterations; throws to cut the solve.
using iteration_check = std::function<void()>;

/// Creates the backend (no file access). `check` (may be empty) runs between iterations.
std::unique_ptr<solver::linear_solver> create_backend(const resolved_spec& spec, int max_size, std::uint64_t seed,
                                                      iteration_check check);

/// The batch form of a session's backend for solve_batch items: the digital batch kernels
/// (create_digital_batch_solver) for digital-f32/f64, else `backend` itself (borrowed: the
/// same state and random stream as the session's per-matrix items) through
/// per_matrix_batch_solver.
std::unique_ptr<solver::batch_solver> create_batch_backend(const resolved_spec& spec, solver::linear_solver& backend,
                                                           int max_size);

/// Modelled work of a request in multiply-adds (the unit of --max-work): set_matrix
/// ~ n³ (plus S·n² programming for analog), solve ~ n²·m per iteration, × S·chunks for
/// the analog HP-MVM (n the real order, m right-hand sides); a solve_batch item counts as
/// its `count` set_matrix + solve pairs, so --max-work bounds the whole request.
double request_work(const resolved_spec& spec, const request& r);

/// Bytes of the encoded reply to r (every item answered with its full output): the
/// session caches it for a retry, so it is charged to the session's memory first.
std::size_t reply_bytes(const request& r);

/// Modelled bytes a session holds for backends of order max_size (state, factors, the
/// cached reply); used for the per-client and global session-memory bounds.
std::size_t session_bytes(const resolved_spec& spec, std::uint32_t max_size);

}  // namespace amimo::remote
