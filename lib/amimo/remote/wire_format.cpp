#include <amimo/remote/wire_format.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>
#include <type_traits>

namespace amimo::remote {
namespace {

static_assert(std::endian::native == std::endian::little, "the wire format is little-endian; add byte swaps");

class writer {
 public:
  explicit writer(std::size_t reserve) : out_(own_) { out_.reserve(reserve); }
  // Writes into `target` (cleared; its capacity is kept).
  writer(bytes& target, std::size_t reserve) : out_(target) {
    out_.clear();
    out_.reserve(reserve);
  }
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
  // The reals of system m of a batch view (column-major, re then im), in `element`.
  template <typename Real>
  void system(const solver::matrix_batch<Real>& v, int m, element_type element) {
    const std::size_t at = out_.size();
    const std::size_t scalar = element == element_type::cf32 ? sizeof(float) : sizeof(double);
    out_.resize(at + static_cast<std::size_t>(v.rows) * static_cast<std::size_t>(v.cols) * 2 * scalar);
    std::byte* p = out_.data() + at;
    for (int j = 0; j < v.cols; ++j) {
      for (int i = 0; i < v.rows; ++i) {
        const std::ptrdiff_t r = v.real_index(m, i, j);
        if (element == element_type::cf32) {
          const float pair[2] = {static_cast<float>(v.data[r]), static_cast<float>(v.data[r + v.imag_offset()])};
          std::memcpy(p, pair, sizeof pair);
          p += sizeof pair;
        } else {
          const double pair[2] = {static_cast<double>(v.data[r]), static_cast<double>(v.data[r + v.imag_offset()])};
          std::memcpy(p, pair, sizeof pair);
          p += sizeof pair;
        }
      }
    }
  }
  void raw(const void* data, std::size_t n) {
    const std::size_t at = out_.size();
    out_.resize(at + n);
    if (n != 0) std::memcpy(out_.data() + at, data, n);
  }
  template <typename T>
  void reals(const std::vector<T>& v) {
    const std::size_t at = out_.size();
    out_.resize(at + v.size() * sizeof(T));
    if (!v.empty()) std::memcpy(out_.data() + at, v.data(), v.size() * sizeof(T));
  }
  bytes take() { return std::move(out_); }

 private:
  bytes own_;
  bytes& out_;
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
  // n plain reals (the caller has checked n against what is left).
  template <typename T>
  void reals(std::vector<T>& out, std::size_t n) {
    need(n * sizeof(T));
    out.resize(n);
    if (n != 0) std::memcpy(out.data(), in_.data() + at_, n * sizeof(T));
    at_ += n * sizeof(T);
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
void put_prefix(writer& out, std::uint16_t type, std::uint64_t id, std::uint64_t session, std::uint16_t version = 1) {
  out.put(wire_magic);
  out.put(version);
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
std::uint16_t read_prefix(reader& in, std::uint64_t& id, std::uint64_t& session, std::uint16_t& version) {
  if (in.get<std::uint32_t>() != wire_magic) throw wire_error(error_code::malformed, "bad magic (not an amimo solver message)");
  version = in.get<std::uint16_t>();
  if (version < 1 || version > wire_version) {
    throw wire_error(error_code::unsupported_version, "wire version " + std::to_string(version) + " (this build speaks 1 to 3)");
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

namespace {

bool any_batch(const std::vector<request_item>& items) {
  return std::any_of(items.begin(), items.end(), [](const request_item& i) { return i.op == item_op::solve_batch; });
}
bool any_batch(const std::vector<item_result>& items) {
  return std::any_of(items.begin(), items.end(), [](const item_result& i) { return i.op == item_op::solve_batch; });
}

void put_request_header(writer& out, std::uint64_t id, std::uint64_t session, std::uint64_t create_seed,
                        std::uint32_t max_size, std::size_t items, std::string_view spec, element_type element,
                        std::uint16_t version) {
  put_prefix(out, 1, id, session, version);
  out.put(create_seed);
  out.put(max_size);
  out.put(static_cast<std::uint32_t>(items));
  out.put(static_cast<std::uint32_t>(spec.size()));
  out.put(static_cast<std::uint8_t>(element));
  out.zeros(3);
  out.text(spec);
}

void put_item_header(writer& out, item_op op, solver::matrix_structure structure, std::uint32_t rows, std::uint32_t cols,
                     std::uint32_t count, std::uint64_t seed) {
  out.put(static_cast<std::uint8_t>(op));
  out.put(static_cast<std::uint8_t>(structure == solver::matrix_structure::hermitian ? 0 : 1));
  out.zeros(2);
  out.put(rows);
  out.put(cols);
  out.put(count);
  out.put(seed);
}

// Reals of a solve_batch payload: count·n·(n + r) complex values.
std::size_t batch_reals(std::uint32_t count, std::uint32_t rows, std::uint32_t cols) {
  return static_cast<std::size_t>(count) * rows * (static_cast<std::size_t>(rows) + cols) * 2;
}

}  // namespace

bytes encode_request(const request& r) {
  const std::string spec = encode_spec(r.spec);
  std::size_t size = header_bytes + spec.size();
  for (const request_item& item : r.items) {
    size += item_header_bytes + static_cast<std::size_t>(item.data.size()) * 2 * scalar_bytes(r.element) +
            (item.a64.size() + item.a32.size()) * scalar_bytes(r.element);
  }
  writer out(size);
  put_request_header(out, r.id, r.session, r.create_seed, r.max_size, r.items.size(), spec, r.element,
                     r.version != 0 ? r.version : any_batch(r.items) ? wire_version : std::uint16_t{1});
  for (const request_item& item : r.items) {
    if (item.op == item_op::solve_batch) {
      put_item_header(out, item.op, item.structure, item.rows, item.cols, item.count, item.seed);
      if (r.element == element_type::cf32) {
        out.reals(item.a32);
      } else {
        out.reals(item.a64);
      }
      continue;
    }
    put_item_header(out, item.op, item.structure, static_cast<std::uint32_t>(item.data.rows()),
                    static_cast<std::uint32_t>(item.data.cols()), 0, item.seed);
    out.matrix(item.data, r.element);
  }
  return out.take();
}

void encode_batch_request(bytes& target, std::uint64_t id, std::uint64_t session, std::uint64_t create_seed,
                          std::uint32_t max_size, const solver::solver_spec& spec, element_type element,
                          const std::uint64_t* reseed, solver::matrix_structure structure, const solver::batch_cref& a,
                          const solver::batch_cref& b) {
  encode_batch_request_text(target, id, session, create_seed, max_size, encode_spec(spec), element, reseed, structure,
                            a, b);
}

void encode_batch_request_text(bytes& target, std::uint64_t id, std::uint64_t session, std::uint64_t create_seed,
                               std::uint32_t max_size, std::string_view text, element_type element,
                               const std::uint64_t* reseed, solver::matrix_structure structure,
                               const solver::batch_cref& a, const solver::batch_cref& b) {
  // (std::visit here rather than solver::shape_of: the fuzz target links this file alone.)
  const auto shape = [](const solver::batch_cref& v) {
    return std::visit([](const auto& m) { return solver::batch_shape{m.count, m.rows, m.cols}; }, v);
  };
  const solver::batch_shape sa = shape(a), sb = shape(b);
  const std::size_t size = header_bytes + text.size() + 2 * item_header_bytes +
                           batch_reals(static_cast<std::uint32_t>(sa.count), static_cast<std::uint32_t>(sa.rows),
                                       static_cast<std::uint32_t>(sb.cols)) *
                               scalar_bytes(element);
  writer out(target, size);
  put_request_header(out, id, session, create_seed, max_size, reseed != nullptr ? 2 : 1, text, element, wire_version);
  if (reseed != nullptr) put_item_header(out, item_op::reseed, structure, 0, 0, 0, *reseed);
  put_item_header(out, item_op::solve_batch, structure, static_cast<std::uint32_t>(sa.rows),
                  static_cast<std::uint32_t>(sb.cols), static_cast<std::uint32_t>(sa.count), 0);
  for (const solver::batch_cref* v : {&a, &b}) {
    std::visit(
        [&](const auto& view) {
          using real = typename std::remove_cvref_t<decltype(view)>::real_type;
          const bool same = (element == element_type::cf32) == std::is_same_v<real, float>;
          if (same && packed_column_major(view)) {
            out.raw(view.data, static_cast<std::size_t>(view.count) * view.rows * view.cols * 2 * sizeof(real));
          } else {
            for (int m = 0; m < view.count; ++m) out.system(view, m, element);
          }
        },
        *v);
  }
}

request decode_request(std::span<const std::byte> frame, const wire_limits& limits) {
  check_size(frame.size(), limits);
  reader in(frame);
  request r;
  std::uint16_t version = 0;
  if (read_prefix(in, r.id, r.session, version) != 1) throw wire_error(error_code::malformed, "not a request");
  r.version = version;
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
  if (static_cast<std::size_t>(count) * item_header_bytes > in.left()) {
    throw wire_error(error_code::malformed, "more items than the message holds");
  }
  r.items.resize(count);
  for (request_item& item : r.items) {
    const auto op = in.get<std::uint8_t>();
    if (op < 1 || op > 4 || (op == 4 && version < 2)) {
      throw wire_error(error_code::malformed, "unknown item op " + std::to_string(op) + " in a version " +
                                                  std::to_string(version) + " message");
    }
    item.op = static_cast<item_op>(op);
    const auto structure = in.get<std::uint8_t>();
    if (structure > 1) throw wire_error(error_code::malformed, "unknown matrix structure");
    item.structure = structure == 0 ? solver::matrix_structure::hermitian : solver::matrix_structure::general;
    in.zeros(2, "item");
    const auto rows = in.get<std::uint32_t>();
    const auto cols = in.get<std::uint32_t>();
    if (item.op == item_op::solve_batch) {
      item.count = in.get<std::uint32_t>();
    } else {
      in.zeros(4, "item");
    }
    item.seed = in.get<std::uint64_t>();
    check_dims(rows, cols, limits);
    if (item.op == item_op::reseed && (rows != 0 || cols != 0)) throw wire_error(error_code::malformed, "reseed carries data");
    if (item.op == item_op::set_matrix && (rows != cols || rows == 0)) {
      throw wire_error(error_code::malformed, "set_matrix needs a non-empty square matrix");
    }
    if (item.op == item_op::solve && (rows == 0 || cols == 0)) throw wire_error(error_code::malformed, "solve needs a non-empty B");
    if (item.op == item_op::solve_batch) {
      if (rows == 0 || cols == 0 || item.count == 0 || item.seed != 0) {
        throw wire_error(error_code::malformed, "solve_batch needs systems of non-zero order and right-hand sides, and seed 0");
      }
      if (item.count > limits.max_items) {
        throw wire_error(error_code::too_large, "solve_batch of " + std::to_string(item.count) + " systems exceeds the limit " +
                                                    std::to_string(limits.max_items));
      }
      item.rows = rows;
      item.cols = cols;
      const std::size_t reals = batch_reals(item.count, rows, cols);
      if (reals > in.left() / scalar_bytes(r.element)) throw wire_error(error_code::malformed, "batch payload longer than the message");
      if (r.element == element_type::cf32) {
        in.reals(item.a32, reals);
      } else {
        in.reals(item.a64, reals);
      }
      continue;
    }
    const std::size_t payload = static_cast<std::size_t>(rows) * cols * 2 * scalar_bytes(r.element);
    if (payload > in.left()) throw wire_error(error_code::malformed, "item payload longer than the message");
    in.matrix(item.data, rows, cols, r.element);
  }
  if (in.left() != 0) throw wire_error(error_code::malformed, "trailing bytes after the last item");
  return r;
}

bytes encode_reply(const reply& r) {
  const std::uint16_t version = r.version != 0 ? r.version : any_batch(r.items) ? wire_version : std::uint16_t{1};
  const std::size_t status_bytes = version >= 3 ? batch_status_bytes : batch_status_bytes_v2;
  std::size_t size = header_bytes;
  for (const item_result& item : r.items) {
    size += result_header_bytes + static_cast<std::size_t>(item.x.size()) * 2 * scalar_bytes(r.element) +
            item.statuses.size() * status_bytes + (item.x64.size() + item.x32.size()) * scalar_bytes(r.element);
  }
  writer out(size);
  put_prefix(out, 2, r.id, r.session, version);
  out.put(static_cast<std::uint32_t>(r.items.size()));
  out.zeros(4);
  out.put(static_cast<std::uint8_t>(r.element));
  out.zeros(15);
  for (const item_result& item : r.items) {
    const bool batch = item.op == item_op::solve_batch;
    out.put(static_cast<std::uint8_t>(item.op));
    out.put(static_cast<std::uint8_t>((item.ok ? 1 : 0) | (item.fallback ? 2 : 0) | (item.positive_definite ? 4 : 0)));
    out.zeros(2);
    out.put(static_cast<std::uint32_t>(item.code));
    out.put(static_cast<std::int32_t>(item.iterations));
    out.put(batch ? item.rows : static_cast<std::uint32_t>(item.x.rows()));
    out.put(batch ? item.cols : static_cast<std::uint32_t>(item.x.cols()));
    out.put(batch ? item.count : std::uint32_t{0});
    out.put(item.residual);
    out.put(item.modelled_seconds);
    out.put(item.modelled_joules);
    if (!batch) {
      out.matrix(item.x, r.element);
      continue;
    }
    for (const batch_item_status& st : item.statuses) {
      out.put(static_cast<std::uint8_t>((st.matrix_ok ? 1 : 0) | (st.positive_definite ? 2 : 0) | (st.solve_ok ? 4 : 0) |
                                        (st.fallback ? 8 : 0)));
      out.zeros(3);
      out.put(static_cast<std::uint32_t>(st.code));
      out.put(static_cast<std::int32_t>(st.iterations));
      out.zeros(4);
      out.put(st.residual);
      if (version >= 3) {
        out.put(st.modelled_seconds);
        out.put(st.modelled_joules);
        out.put(st.matrix_seconds);
        out.put(st.matrix_joules);
      } else {
        out.put(st.modelled_seconds + st.matrix_seconds);
        out.put(st.modelled_joules + st.matrix_joules);
      }
    }
    if (r.element == element_type::cf32) {
      out.reals(item.x32);
    } else {
      out.reals(item.x64);
    }
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

namespace {

error_code read_code(reader& in, const char* what) {
  const auto code = in.get<std::uint32_t>();
  if (code > last_error_code) throw wire_error(error_code::malformed, std::string("unknown ") + what);
  return static_cast<error_code>(code);
}

}  // namespace

bool decode_response_into(std::span<const std::byte> frame, const wire_limits& limits, reply& r, error_reply& e) {
  check_size(frame.size(), limits);
  reader in(frame);
  std::uint64_t id = 0;
  std::uint64_t session = 0;
  std::uint16_t version = 0;
  const std::uint16_t type = read_prefix(in, id, session, version);
  if (type == 3) {
    e.id = id;
    e.session = session;
    e.code = read_code(in, "error code");
    const auto length = in.get<std::uint32_t>();
    in.zeros(16, "header");
    if (length > limits.max_spec || length != in.left()) throw wire_error(error_code::malformed, "error text length");
    e.message = in.text(length);
    return false;
  }
  if (type != 2) throw wire_error(error_code::malformed, "not a reply");
  r.id = id;
  r.session = session;
  r.version = version;
  const auto count = in.get<std::uint32_t>();
  in.zeros(4, "header");
  r.element = read_element(in.get<std::uint8_t>());
  in.zeros(15, "header");
  if (count > limits.max_items) throw wire_error(error_code::too_large, "too many items");
  if (static_cast<std::size_t>(count) * result_header_bytes > in.left()) {
    throw wire_error(error_code::malformed, "more results than the message holds");
  }
  r.items.resize(count);
  for (item_result& item : r.items) {
    const auto op = in.get<std::uint8_t>();
    if (op < 1 || op > 4 || (op == 4 && version < 2)) throw wire_error(error_code::malformed, "unknown item op");
    item.op = static_cast<item_op>(op);
    const auto flags = in.get<std::uint8_t>();
    if (flags > 7) throw wire_error(error_code::malformed, "unknown result flags");
    item.ok = (flags & 1U) != 0;
    item.fallback = (flags & 2U) != 0;
    item.positive_definite = (flags & 4U) != 0;
    in.zeros(2, "result");
    item.code = read_code(in, "item code");
    item.iterations = in.get<std::int32_t>();
    const auto rows = in.get<std::uint32_t>();
    const auto cols = in.get<std::uint32_t>();
    const bool batch = item.op == item_op::solve_batch;
    const std::uint32_t systems = batch ? in.get<std::uint32_t>() : 0;
    if (!batch) in.zeros(4, "result");
    item.residual = in.get<double>();
    item.modelled_seconds = in.get<double>();
    item.modelled_joules = in.get<double>();
    check_dims(rows, cols, limits);
    if (!batch) {
      item.count = item.rows = item.cols = 0;
      item.statuses.clear();
      item.x64.clear();
      item.x32.clear();
      const std::size_t payload = static_cast<std::size_t>(rows) * cols * 2 * scalar_bytes(r.element);
      if (payload > in.left()) throw wire_error(error_code::malformed, "result payload longer than the message");
      in.matrix(item.x, rows, cols, r.element);
      continue;
    }
    if (systems > limits.max_items) throw wire_error(error_code::too_large, "too many systems in a batch result");
    const std::size_t reals = static_cast<std::size_t>(systems) * rows * cols * 2;
    const std::size_t status_bytes = version >= 3 ? batch_status_bytes : batch_status_bytes_v2;
    if (static_cast<std::size_t>(systems) * status_bytes > in.left() ||
        reals > (in.left() - static_cast<std::size_t>(systems) * status_bytes) / scalar_bytes(r.element)) {
      throw wire_error(error_code::malformed, "batch result longer than the message");
    }
    item.x.resize(0, 0);
    item.count = systems;
    item.rows = rows;
    item.cols = cols;
    item.statuses.resize(systems);
    for (batch_item_status& st : item.statuses) {
      const auto f = in.get<std::uint8_t>();
      if (f > 15) throw wire_error(error_code::malformed, "unknown batch status flags");
      st.matrix_ok = (f & 1U) != 0;
      st.positive_definite = (f & 2U) != 0;
      st.solve_ok = (f & 4U) != 0;
      st.fallback = (f & 8U) != 0;
      in.zeros(3, "batch status");
      st.code = read_code(in, "system code");
      st.iterations = in.get<std::int32_t>();
      in.zeros(4, "batch status");
      st.residual = in.get<double>();
      st.modelled_seconds = in.get<double>();
      st.modelled_joules = in.get<double>();
      st.matrix_seconds = version >= 3 ? in.get<double>() : 0.0;
      st.matrix_joules = version >= 3 ? in.get<double>() : 0.0;
    }
    if (r.element == element_type::cf32) {
      in.reals(item.x32, reals);
      item.x64.clear();
    } else {
      in.reals(item.x64, reals);
      item.x32.clear();
    }
  }
  if (in.left() != 0) throw wire_error(error_code::malformed, "trailing bytes after the last result");
  return true;
}

std::variant<reply, error_reply> decode_response(std::span<const std::byte> frame, const wire_limits& limits) {
  reply r;
  error_reply e;
  if (decode_response_into(frame, limits, r, e)) return r;
  return e;
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
