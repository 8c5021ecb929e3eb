#pragma once
// The solver-offload wire format, versions 1 to 3 (README "Solver offload"). One ZeroMQ frame
// per message, all integers little-endian, matrices column-major with interleaved
// (re, im) in the request's element type.
//
// Request  = header(48) · spec text · item*      Reply = header(48) · item_result*
//   header:  u32 magic "AMSV" · u16 version · u16 type (1 request, 2 reply, 3 error) ·
//            u64 request id · u64 session id ·
//            request: u64 create seed · u32 max size · u32 item count · u32 spec length ·
//                     u8 element (1 cf32, 2 cf64) · 3 zero bytes
//            reply:   u32 item count · u32 zero · u8 element · 15 zero bytes
//            error:   u32 error code · u32 message length · 16 zero bytes, then the text
//   item:    u8 op (1 reseed, 2 set_matrix, 3 solve, 4 solve_batch) · u8 structure (0 hermitian,
//            1 general) · u16 0 · u32 rows · u32 cols · u32 count (solve_batch; else 0) ·
//            u64 seed · payload
//            solve_batch (version 2 and later): count independent systems A_m X_m = B_m, payload
//            count A (rows×rows) then count B (rows×cols); it neither uses nor changes the
//            session's loaded matrix (a per-matrix backend is run through it in order)
//   result:  u8 op · u8 flags (1 ok, 2 fallback, 4 positive definite) · u16 0 ·
//            u32 item error code · i32 iterations · u32 rows · u32 cols · u32 0 ·
//            f64 residual · f64 modelled s · f64 modelled J · payload (solve results)
//            solve_batch result: the u32 after cols is count; then count status records
//            (u8 flags: 1 matrix ok, 2 positive definite, 4 solve ok, 8 fallback · u8 0 ·
//            u16 0 · u32 code · i32 iterations · u32 0 · f64 residual · f64 solve modelled s ·
//            f64 solve modelled J · version 3: f64 matrix modelled s · f64 matrix modelled J;
//            40 bytes in version 2, where the two modelled figures are matrix and solve
//            together, 56 in version 3) and count X (rows×cols)
// A request holding a solve_batch item is written as version 3 (its layout is version 2's;
// the version says which status record its reply may use), any other message as version 1,
// so version-1 peers keep working for per-matrix traffic. A reply takes its request's
// version: a version-2 client is answered with 40-byte status records.
// The spec text is the backend name, then "\n"-separated key=value options.
// Decoding checks every field before use (sizes against limits, lengths against the
// frame, reserved bytes zero) and throws wire_error with a code; nothing is trusted.

#include <amimo/core/types.h>
#include <amimo/solver/batch_solver.h>
#include <amimo/solver/linear_solver.h>
#include <amimo/solver/solver_factory.h>

#include <cstddef>
#include <cstdint>
#include <span>
#include <stdexcept>
#include <string>
#include <variant>
#include <vector>

namespace amimo::remote {

inline constexpr std::uint32_t wire_magic = 0x56534D41U;  // bytes "AMSV"
inline constexpr std::uint16_t wire_version = 3;  ///< newest version spoken (1 and 2 are still read)
inline constexpr std::size_t header_bytes = 48;
inline constexpr std::size_t item_header_bytes = 24;
inline constexpr std::size_t result_header_bytes = 48;
inline constexpr std::size_t batch_status_bytes = 56;     ///< version 3
inline constexpr std::size_t batch_status_bytes_v2 = 40;  ///< version 2: no matrix/solve split

/// Bounds every decoder enforces (a message beyond them is refused, not allocated).
struct wire_limits {
  std::uint32_t max_items = 4096;     ///< items per message, and systems per solve_batch item
  std::uint32_t max_dim = 1024;       ///< matrix order and right-hand sides per item
  std::uint32_t max_spec = 32768;     ///< bytes of spec text (an inline profile travels in it)
  std::size_t max_message = 64U << 20U;
};

enum class element_type : std::uint8_t { cf32 = 1, cf64 = 2 };
enum class item_op : std::uint8_t { reseed = 1, set_matrix = 2, solve = 3, solve_batch = 4 };

enum class error_code : std::uint32_t {
  none = 0,
  malformed = 1,            ///< bad magic, reserved bytes, lengths that do not add up
  unsupported_version = 2,
  too_large = 3,            ///< beyond wire_limits
  bad_spec = 4,             ///< unknown backend or option
  non_finite = 5,           ///< NaN/Inf in a matrix or right-hand side (item code)
  session_limit = 6,        ///< the service holds its maximum number of sessions
  stale_request = 7,        ///< request id older than the session's last
  dimension_mismatch = 8,   ///< solve without a matrix, or rows ≠ matrix order (item code)
  internal = 9,
  busy = 10,                ///< the service's queue (this client's or the global one) is full: back off, retry
  work_limit = 11,          ///< the request's work (size × iterations × right-hand sides) exceeds the limit
  deadline = 12,            ///< item not run: the request passed its deadline (item code)
  quota = 13,               ///< this client holds its share of sessions or session memory
  shutting_down = 14,       ///< the service is stopping
};

inline constexpr std::uint32_t last_error_code = 14;

const char* to_string(error_code code) noexcept;

class wire_error : public std::runtime_error {
 public:
  wire_error(error_code code, const std::string& what) : std::runtime_error(what), code_(code) {}
  error_code code() const noexcept { return code_; }

 private:
  error_code code_;
};

struct request_item {
  item_op op = item_op::solve;
  solver::matrix_structure structure = solver::matrix_structure::hermitian;
  std::uint64_t seed = 0;  ///< reseed only
  cmat data;               ///< set_matrix: A (n×n); solve: B (n×m); reseed: empty
  // solve_batch: `count` systems of order `rows` with `cols` right-hand sides; the reals
  // (re, im, column-major) of every A then every B, in the request's element type (a32
  // for cf32, a64 for cf64; the other stays empty).
  std::uint32_t count = 0;
  std::uint32_t rows = 0;
  std::uint32_t cols = 0;
  std::vector<double> a64{};
  std::vector<float> a32{};
};

/// One system's outcome within a solve_batch result.
struct batch_item_status {
  bool matrix_ok = false;
  bool positive_definite = false;
  bool solve_ok = false;
  bool fallback = false;
  error_code code = error_code::none;
  int iterations = 0;
  double residual = 0.0;
  double modelled_seconds = 0.0;  ///< the solve's (version 2: matrix and solve together)
  double modelled_joules = 0.0;
  double matrix_seconds = 0.0;    ///< the matrix's programming or factorisation (version 3)
  double matrix_joules = 0.0;
};

struct request {
  std::uint64_t id = 0;
  std::uint64_t session = 0;
  std::uint64_t create_seed = 0;
  std::uint32_t max_size = 0;
  element_type element = element_type::cf64;
  solver::solver_spec spec;
  std::vector<request_item> items;
  /// Decoded: the version it came in (its reply's); encoding: 0 writes the version its
  /// items need (3 with a solve_batch item, else 1).
  std::uint16_t version = 0;
};

struct item_result {
  item_op op = item_op::solve;
  bool ok = false;
  bool fallback = false;
  bool positive_definite = false;
  error_code code = error_code::none;
  int iterations = 0;
  double residual = 0.0;
  double modelled_seconds = 0.0;
  double modelled_joules = 0.0;
  cmat x;  ///< solve: X (n×m); otherwise empty
  // solve_batch: per-system statuses and the reals of every X (element as the reply's).
  std::uint32_t count = 0;
  std::uint32_t rows = 0;
  std::uint32_t cols = 0;
  std::vector<batch_item_status> statuses{};
  std::vector<double> x64{};
  std::vector<float> x32{};
};

struct reply {
  std::uint64_t id = 0;
  std::uint64_t session = 0;
  element_type element = element_type::cf64;
  std::vector<item_result> items;
  /// Encoding: the request's version (0: 3 with a solve_batch result, else 1); decoded: the
  /// version it came in.
  std::uint16_t version = 0;
};

struct error_reply {
  std::uint64_t id = 0;
  std::uint64_t session = 0;
  error_code code = error_code::internal;
  std::string message;
};

using bytes = std::vector<std::byte>;

std::string encode_spec(const solver::solver_spec& spec);
/// Throws wire_error{bad_spec} for an empty name, a line without key=value, a duplicate
/// key or a control character.
solver::solver_spec decode_spec(std::string_view text);

/// Escaping of a multi-line text (an inline profile) into one option value: "\\" for a
/// backslash, "\n" for a newline, "\t" for a tab; other control characters are refused.
std::string escape_option_value(std::string_view text);
/// The inverse; throws wire_error{bad_spec} on a bad escape.
std::string unescape_option_value(std::string_view text);

/// Request ids compare as serial numbers (RFC 1982): `a` is newer than `b` when
/// 0 < a − b < 2^63 (mod 2^64), so ids wrap around and 2^64 − 1 is followed by 0, 1, …
constexpr bool request_id_newer(std::uint64_t a, std::uint64_t b) noexcept {
  const std::uint64_t d = a - b;
  return d != 0 && d < (std::uint64_t{1} << 63U);
}

bytes encode_request(const request& r);
bytes encode_reply(const reply& r);
bytes encode_error(const error_reply& e);

/// Decoders throw wire_error; values are copied out (cf32 widened to cf64, except the
/// solve_batch payloads, which stay in the message's element type).
request decode_request(std::span<const std::byte> frame, const wire_limits& limits = {});
std::variant<reply, error_reply> decode_response(std::span<const std::byte> frame, const wire_limits& limits = {});
/// As decode_response, into caller-owned objects whose storage is reused (a client decoding
/// reply after reply allocates nothing once its buffers have grown); true for a reply
/// (in `r`), false for an error reply (in `e`).
bool decode_response_into(std::span<const std::byte> frame, const wire_limits& limits, reply& r, error_reply& e);

/// Whether a batch view is densely packed column-major (systems one after another, the
/// wire's own layout): such batches are copied to and from the wire in one piece.
template <typename Real>
bool packed_column_major(const solver::matrix_batch<Real>& v) noexcept {
  return v.format == solver::batch_format::column_major && v.row_stride == 1 && v.column_stride == v.rows &&
         v.matrix_stride == static_cast<std::ptrdiff_t>(v.rows) * v.cols;
}

/// Encodes a request of an optional reseed item and one solve_batch item straight from
/// batch views (any layout) into `out`, whose storage is reused. a: count × (n×n), b:
/// count × (n×r); element cf32 narrows f64 input (and cf64 widens f32) once, here.
void encode_batch_request(bytes& out, std::uint64_t id, std::uint64_t session, std::uint64_t create_seed,
                          std::uint32_t max_size, const solver::solver_spec& spec, element_type element,
                          const std::uint64_t* reseed, solver::matrix_structure structure,
                          const solver::batch_cref& a, const solver::batch_cref& b);
/// The same with the spec already encoded (encode_spec): no allocation once `out` has room.
void encode_batch_request_text(bytes& out, std::uint64_t id, std::uint64_t session, std::uint64_t create_seed,
                               std::uint32_t max_size, std::string_view spec_text, element_type element,
                               const std::uint64_t* reseed, solver::matrix_structure structure,
                               const solver::batch_cref& a, const solver::batch_cref& b);

/// Request and session id of a frame that at least has a header-sized prefix with the
/// right magic; false otherwise (used to address error replies and route by session).
bool peek_ids(std::span<const std::byte> frame, std::uint64_t& request_id, std::uint64_t& session_id) noexcept;

}  // namespace amimo::remote
