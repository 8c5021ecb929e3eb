#include <amimo/remote/wire_format.h>

#include <bit>
#include <cmath>
#include <cstring>
#include <type_traits>

namespace amimo::remote {
namespace {

static_assert(std::endian::native == std::endian::little, "the wire format is little-endian; add byte swaps");

class writer {
 public:
  explicit writer(std::size_t reserve) { out_.reserve(reserve); }
  template <typename T>
  void put(T v) {
    static_assert(std::is_trivially_copyable_v<T>);
    const std::size_t at = out_.size();
    out_.resize(at + sizeof(T));
    std::memcpy(out_.data() + at, &v, sizeof(T));
  }
  void zeros(std::size_t n) { out_.resize(out_.size() + n, std::byte{0}); }
  void text(std::string_view s) {
    const std::size_t at = out_.size();
    out_.resize(at + s.size());
    if (!s.empty()) std::memcpy(out_.data() + at, s.data(), s.size());
  }
  void matrix(const cmat& m, element_type element) {
    for (Eigen::Index j = 0; j < m.cols(); ++j) {
      for (Eigen::Index i = 0; i < m.rows(); ++i) {
        if (element == element_type::cf32) {
          put(static_cast<float>(m(i, j).real()));
          put(static_cast<float>(m(i, j).imag()));
        } else {
          put(m(i, j).real());
          put(m(i, j).imag());
        }
      }
    }
  }
  bytes take() { return std::move(out_); }

 private:
  bytes out_;
};

class reader {
 public:
  explicit reader(std::span<const std::byte> in) : in_(in) {}
  template <typename T>
  T get() {
    need(sizeof(T));
    T v;
    std::memcpy(&v, in_.data() + at_, sizeof(T));
    at_ += sizeof(T);
    return v;
  }
  void zeros(std::size_t n, const char* what) {
    need(n);
    for (std::size_t k = 0; k < n; ++k) {
      if (in_[at_ + k] != std::byte{0}) throw wire_error(error_code::malformed, std::string("reserved bytes not zero in ") + what);
    }
    at_ += n;
  }
  std::string text(std::size_t n) {
    need(n);
    std::string s(reinterpret_cast<const char*>(in_.data() + at_), n);
    at_ += n;
    return s;
  }
  void matrix(cmat& m, std::uint32_t rows, std::uint32_t cols, element_type element) {
    const std::size_t scalar = element == element_type::cf32 ? sizeof(float) : sizeof(double);
    need(static_cast<std::size_t>(rows) * cols * 2 * scalar);
    m.resize(rows, cols);
    for (Eigen::Index j = 0; j < m.cols(); ++j) {
      for (Eigen::Index i = 0; i < m.rows(); ++i) {
        if (element == element_type::cf32) {
          const float re = get<float>();
          const float im = get<float>();
          m(i, j) = cf64(re, im);
        } else {
          const double re = get<double>();
          const double im = get<double>();
          m(i, j) = cf64(re, im);
        }
      }
    }
  }
  std::size_t left() const noexcept { return in_.size() - at_; }

 private:
  void need(std::size_t n) const {
    if (n > in_.size() - at_) throw wire_error(error_code::malformed, "message truncated");
  }
  std::span<const std::byte> in_;
  std::size_t at_ = 0;
};

// The 24-byte prefix every message starts with.
void put_prefix(writer& out, std::uint16_t type, std::uint64_t id, std::uint64_t session) {
  out.put(wire_magic);
  out.put(wire_version);
  out.put(type);
  out.put(id);
  out.put(session);
}

std::size_t scalar_bytes(element_type e) { return e == element_type::cf32 ? sizeof(float) : sizeof(double); }

element_type read_element(std::uint8_t v) {
  if (v != static_cast<std::uint8_t>(element_type::cf32) && v != static_cast<std::uint8_t>(element_type::cf64)) {
    throw wire_error(error_code::malformed, "unknown element type " + std::to_string(v));
  }
  return static_cast<element_type>(v);
}

// Common header prefix; returns the message type.
std::uint16_t read_prefix(reader& in, std::uint64_t& id, std::uint64_t& session) {
  if (in.get<std::uint32_t>() != wire_magic) throw wire_error(error_code::malformed, "bad magic (not an amimo solver message)");
  const auto version = in.get<std::uint16_t>();
  if (version != wire_version) {
    throw wire_error(error_code::unsupported_version, "wire version " + std::to_string(version) + " (this build speaks 1)");
  }
  const auto type = in.get<std::uint16_t>();
  id = in.get<std::uint64_t>();
  session = in.get<std::uint64_t>();
  return type;
}

void check_size(std::size_t size, const wire_limits& limits) {
  if (size < header_bytes) throw wire_error(error_code::malformed, "message shorter than its header");
  if (size > limits.max_message) throw wire_error(error_code::too_large, "message larger than the limit");
}

void check_dims(std::uint32_t rows, std::uint32_t cols, const wire_limits& limits) {
  if (rows > limits.max_dim || cols > limits.max_dim) {
    throw wire_error(error_code::too_large, "item " + std::to_string(rows) + "x" + std::to_string(cols) +
                                                " exceeds the limit " + std::to_string(limits.max_dim));
  }
}

}  // namespace

const char* to_string(error_code code) noexcept {
  switch (code) {
    case error_code::none: return "ok";
    case error_code::malformed: return "malformed message";
    case error_code::unsupported_version: return "unsupported version";
    case error_code::too_large: return "too large";
    case error_code::bad_spec: return "bad backend spec";
    case error_code::non_finite: return "non-finite input";
    case error_code::session_limit: return "session limit";
    case error_code::stale_request: return "stale request";
    case error_code::dimension_mismatch: return "dimension mismatch";
    case error_code::internal: return "internal error";
    case error_code::busy: return "busy";
    case error_code::work_limit: return "work limit";
    case error_code::deadline: return "deadline";
    case error_code::quota: return "client quota";
    case error_code::shutting_down: return "shutting down";
  }
  return "unknown error";
}

std::string encode_spec(const solver::solver_spec& spec) {
  std::string text = spec.name;
  for (const auto& [key, value] : spec.options) text += "\n" + key + "=" + value;
  return text;
}

solver::solver_spec decode_spec(std::string_view text) {
  solver::solver_spec spec;
  std::size_t start = 0;
  bool first = true;
  while (start <= text.size()) {
    const std::size_t end = std::min(text.find('\n', start), text.size());
    const std::string_view line = text.substr(start, end - start);
    if (first) {
      spec.name = std::string(line);
      first = false;
    } else {
      const std::size_t eq = line.find('=');
      if (eq == std::string_view::npos || eq == 0) throw wire_error(error_code::bad_spec, "spec option without key=value");
      const auto [at, inserted] = spec.options.emplace(std::string(line.substr(0, eq)), std::string(line.substr(eq + 1)));
      if (!inserted) throw wire_error(error_code::bad_spec, "duplicate spec option '" + at->first + "'");
    }
    start = end + 1;
  }
  if (spec.name.empty()) throw wire_error(error_code::bad_spec, "empty backend name");
  for (const char ch : text) {
    if (static_cast<unsigned char>(ch) < 0x20 && ch != '\n') throw wire_error(error_code::bad_spec, "control character in spec");
  }
  return spec;
}

std::string escape_option_value(std::string_view text) {
  std::string out;
  out.reserve(text.size() + text.size() / 16);
  for (const char ch : text) {
    if (ch == '\\') {
      out += "\\\\";
    } else if (ch == '\n') {
      out += "\\n";
    } else if (ch == '\t') {
      out += "\\t";
    } else if (ch == '\r') {
      // dropped: CRLF files read as LF
    } else if (static_cast<unsigned char>(ch) < 0x20) {
      throw wire_error(error_code::bad_spec, "control character in an option value");
    } else {
      out += ch;
    }
  }
  return out;
}

std::string unescape_option_value(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t k = 0; k < text.size(); ++k) {
    if (text[k] != '\\') {
      out += text[k];
      continue;
    }
    if (++k == text.size()) throw wire_error(error_code::bad_spec, "option value ends in a lone backslash");
    switch (text[k]) {
      case '\\': out += '\\'; break;
      case 'n': out += '\n'; break;
      case 't': out += '\t'; break;
      default: throw wire_error(error_code::bad_spec, "unknown escape in an option value");
    }
  }
  return out;
}

bytes encode_request(const request& r) {
  const std::string spec = encode_spec(r.spec);
  std::size_t size = header_bytes + spec.size();
  for (const request_item& item : r.items) {
    size += item_header_bytes + static_cast<std::size_t>(item.data.size()) * 2 * scalar_bytes(r.element);
  }
  writer out(size);
  put_prefix(out, 1, r.id, r.session);
  out.put(r.create_seed);
  out.put(r.max_size);
  out.put(static_cast<std::uint32_t>(r.items.size()));
  out.put(static_cast<std::uint32_t>(spec.size()));
  out.put(static_cast<std::uint8_t>(r.element));
  out.zeros(3);
  out.text(spec);
  for (const request_item& item : r.items) {
    out.put(static_cast<std::uint8_t>(item.op));
    out.put(static_cast<std::uint8_t>(item.structure == solver::matrix_structure::hermitian ? 0 : 1));
    out.zeros(2);
    out.put(static_cast<std::uint32_t>(item.data.rows()));
    out.put(static_cast<std::uint32_t>(item.data.cols()));
    out.zeros(4);
    out.put(item.seed);
    out.matrix(item.data, r.element);
  }
  return out.take();
}

request decode_request(std::span<const std::byte> frame, const wire_limits& limits) {
  check_size(frame.size(), limits);
  reader in(frame);
  request r;
  if (read_prefix(in, r.id, r.session) != 1) throw wire_error(error_code::malformed, "not a request");
  r.create_seed = in.get<std::uint64_t>();
  r.max_size = in.get<std::uint32_t>();
  const auto count = in.get<std::uint32_t>();
  const auto spec_length = in.get<std::uint32_t>();
  r.element = read_element(in.get<std::uint8_t>());
  in.zeros(3, "header");
  if (r.max_size == 0 || r.max_size > limits.max_dim) throw wire_error(error_code::too_large, "max size out of range");
  if (count > limits.max_items) throw wire_error(error_code::too_large, "too many items");
  if (spec_length > limits.max_spec) throw wire_error(error_code::too_large, "spec text too long");
  r.spec = decode_spec(in.text(spec_length));
  // Every item's size is checked against what is left before anything is allocated.
  r.items.resize(count);
  for (request_item& item : r.items) {
    const auto op = in.get<std::uint8_t>();
    if (op < 1 || op > 3) throw wire_error(error_code::malformed, "unknown item op " + std::to_string(op));
    item.op = static_cast<item_op>(op);
    const auto structure = in.get<std::uint8_t>();
    if (structure > 1) throw wire_error(error_code::malformed, "unknown matrix structure");
    item.structure = structure == 0 ? solver::matrix_structure::hermitian : solver::matrix_structure::general;
    in.zeros(2, "item");
    const auto rows = in.get<std::uint32_t>();
    const auto cols = in.get<std::uint32_t>();
    in.zeros(4, "item");
    item.seed = in.get<std::uint64_t>();
    check_dims(rows, cols, limits);
    if (item.op == item_op::reseed && (rows != 0 || cols != 0)) throw wire_error(error_code::malformed, "reseed carries data");
    if (item.op == item_op::set_matrix && (rows != cols || rows == 0)) {
      throw wire_error(error_code::malformed, "set_matrix needs a non-empty square matrix");
    }
    if (item.op == item_op::solve && (rows == 0 || cols == 0)) throw wire_error(error_code::malformed, "solve needs a non-empty B");
    const std::size_t payload = static_cast<std::size_t>(rows) * cols * 2 * scalar_bytes(r.element);
    if (payload > in.left()) throw wire_error(error_code::malformed, "item payload longer than the message");
    in.matrix(item.data, rows, cols, r.element);
  }
  if (in.left() != 0) throw wire_error(error_code::malformed, "trailing bytes after the last item");
  return r;
}

bytes encode_reply(const reply& r) {
  std::size_t size = header_bytes;
  for (const item_result& item : r.items) {
    size += result_header_bytes + static_cast<std::size_t>(item.x.size()) * 2 * scalar_bytes(r.element);
  }
  writer out(size);
  put_prefix(out, 2, r.id, r.session);
  out.put(static_cast<std::uint32_t>(r.items.size()));
  out.zeros(4);
  out.put(static_cast<std::uint8_t>(r.element));
  out.zeros(15);
  for (const item_result& item : r.items) {
    out.put(static_cast<std::uint8_t>(item.op));
    out.put(static_cast<std::uint8_t>((item.ok ? 1 : 0) | (item.fallback ? 2 : 0) | (item.positive_definite ? 4 : 0)));
    out.zeros(2);
    out.put(static_cast<std::uint32_t>(item.code));
    out.put(static_cast<std::int32_t>(item.iterations));
    out.put(static_cast<std::uint32_t>(item.x.rows()));
    out.put(static_cast<std::uint32_t>(item.x.cols()));
    out.zeros(4);
    out.put(item.residual);
    out.put(item.modelled_seconds);
    out.put(item.modelled_joules);
    out.matrix(item.x, r.element);
  }
  return out.take();
}

bytes encode_error(const error_reply& e) {
  writer out(header_bytes + e.message.size());
  put_prefix(out, 3, e.id, e.session);
  out.put(static_cast<std::uint32_t>(e.code));
  out.put(static_cast<std::uint32_t>(e.message.size()));
  out.zeros(16);
  out.text(e.message);
  return out.take();
}

std::variant<reply, error_reply> decode_response(std::span<const std::byte> frame, const wire_limits& limits) {
  check_size(frame.size(), limits);
  reader in(frame);
  std::uint64_t id = 0;
  std::uint64_t session = 0;
  const std::uint16_t type = read_prefix(in, id, session);
  if (type == 3) {
    error_reply e;
    e.id = id;
    e.session = session;
    const auto code = in.get<std::uint32_t>();
    if (code > last_error_code) throw wire_error(error_code::malformed, "unknown error code");
    e.code = static_cast<error_code>(code);
    const auto length = in.get<std::uint32_t>();
    in.zeros(16, "header");
    if (length > limits.max_spec || length != in.left()) throw wire_error(error_code::malformed, "error text length");
    e.message = in.text(length);
    return e;
  }
  if (type != 2) throw wire_error(error_code::malformed, "not a reply");
  reply r;
  r.id = id;
  r.session = session;
  const auto count = in.get<std::uint32_t>();
  in.zeros(4, "header");
  r.element = read_element(in.get<std::uint8_t>());
  in.zeros(15, "header");
  if (count > limits.max_items) throw wire_error(error_code::too_large, "too many items");
  r.items.resize(count);
  for (item_result& item : r.items) {
    const auto op = in.get<std::uint8_t>();
    if (op < 1 || op > 3) throw wire_error(error_code::malformed, "unknown item op");
    item.op = static_cast<item_op>(op);
    const auto flags = in.get<std::uint8_t>();
    if (flags > 7) throw wire_error(error_code::malformed, "unknown result flags");
    item.ok = (flags & 1U) != 0;
    item.fallback = (flags & 2U) != 0;
    item.positive_definite = (flags & 4U) != 0;
    in.zeros(2, "result");
    const auto code = in.get<std::uint32_t>();
    if (code > last_error_code) throw wire_error(error_code::malformed, "unknown item code");
    item.code = static_cast<error_code>(code);
    item.iterations = in.get<std::int32_t>();
    const auto rows = in.get<std::uint32_t>();
    const auto cols = in.get<std::uint32_t>();
    in.zeros(4, "result");
    item.residual = in.get<double>();
    item.modelled_seconds = in.get<double>();
    item.modelled_joules = in.get<double>();
    check_dims(rows, cols, limits);
    const std::size_t payload = static_cast<std::size_t>(rows) * cols * 2 * scalar_bytes(r.element);
    if (payload > in.left()) throw wire_error(error_code::malformed, "result payload longer than the message");
    in.matrix(item.x, rows, cols, r.element);
  }
  if (in.left() != 0) throw wire_error(error_code::malformed, "trailing bytes after the last result");
  return r;
}

bool peek_ids(std::span<const std::byte> frame, std::uint64_t& request_id, std::uint64_t& session_id) noexcept {
  if (frame.size() < header_bytes) return false;
  std::uint32_t magic = 0;
  std::memcpy(&magic, frame.data(), sizeof magic);
  if (magic != wire_magic) return false;
  std::memcpy(&request_id, frame.data() + 8, sizeof request_id);
  std::memcpy(&session_id, frame.data() + 16, sizeof session_id);
  return true;
}

}  // namespace amimo::remote
