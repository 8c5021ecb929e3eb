#include <amimo/core/error.h>
#include <amimo/core/file_io.h>
#include <amimo/core/matrix_market.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <sstream>
#include <string_view>
#include <system_error>
#include <vector>

namespace amimo {
namespace {

enum class mm_format { coordinate, array };
enum class mm_field { real, integer, complex };
enum class mm_symmetry { general, symmetric, hermitian, skew };

std::string lower(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](char c) { return static_cast<char>(std::tolower(static_cast<unsigned char>(c))); });
  return out;
}

std::vector<std::string_view> split(std::string_view line) {
  std::vector<std::string_view> tokens;
  std::size_t pos = 0;
  while (pos < line.size()) {
    while (pos < line.size() && (line[pos] == ' ' || line[pos] == '\t')) ++pos;
    const std::size_t start = pos;
    while (pos < line.size() && line[pos] != ' ' && line[pos] != '\t') ++pos;
    if (pos > start) tokens.push_back(line.substr(start, pos - start));
  }
  return tokens;
}

/// Reads a Matrix Market file line by line, keeping the line number for messages.
class mm_reader {
 public:
  mm_reader(std::istream& in, const std::string& path) : in_(in), path_(path) {}

  /// Next raw line; false at end of file. Throws io_error when reading fails.
  bool next_raw() {
    if (!std::getline(in_, line_)) {
      if (in_.bad()) throw io_error("cannot read Matrix Market file '" + path_ + "' (read error)");
      return false;
    }
    ++line_number_;
    if (!line_.empty() && line_.back() == '\r') line_.pop_back();
    return true;
  }

  /// Next line that is neither blank nor a % comment, split into tokens; false at end of file.
  bool next_data(std::vector<std::string_view>& tokens) {
    while (next_raw()) {
      tokens = split(line_);
      if (tokens.empty() || tokens.front().front() == '%') continue;
      return true;
    }
    return false;
  }

  const std::string& line() const noexcept { return line_; }
  long long line_number() const noexcept { return line_number_; }

  [[noreturn]] void fail(const std::string& what) const {
    throw config_error("Matrix Market file '" + path_ + "', line " + std::to_string(std::max(line_number_, 1LL)) +
                       ": " + what);
  }

  long long parse_integer(std::string_view token, const char* what) const {
    if (!token.empty() && token.front() == '+') token.remove_prefix(1);
    long long value = 0;
    const auto [end, ec] = std::from_chars(token.data(), token.data() + token.size(), value);
    if (ec == std::errc::result_out_of_range) fail(std::string(what) + " '" + std::string(token) + "' is out of range");
    if (ec != std::errc() || end != token.data() + token.size()) {
      fail(std::string(what) + " '" + std::string(token) + "' is not an integer");
    }
    return value;
  }

  double parse_value(std::string_view token, mm_field field) const {
    if (field == mm_field::integer) return static_cast<double>(parse_integer(token, "integer value"));
    std::string_view digits = token;
    if (!digits.empty() && digits.front() == '+') digits.remove_prefix(1);
    double value = 0.0;
    const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
    if (ec == std::errc::result_out_of_range && end == digits.data() + digits.size()) {
      // Underflow reads as (nearly) zero and is fine; overflow is not a finite number.
      value = std::strtod(std::string(digits).c_str(), nullptr);
    } else if (ec != std::errc() || end != digits.data() + digits.size()) {
      fail("value '" + std::string(token) + "' is not a number");
    }
    if (!std::isfinite(value)) fail("value '" + std::string(token) + "' is not a finite number");
    return value;
  }

 private:
  std::istream& in_;
  const std::string& path_;
  std::string line_;
  long long line_number_ = 0;
};

struct mm_header {
  mm_format format = mm_format::coordinate;
  mm_field field = mm_field::real;
  mm_symmetry symmetry = mm_symmetry::general;
};

mm_header parse_banner(mm_reader& reader) {
  if (!reader.next_raw()) reader.fail("empty file: expected a '%%MatrixMarket' banner");
  const std::vector<std::string_view> tokens = split(reader.line());
  if (tokens.empty() || lower(tokens[0]) != "%%matrixmarket") {
    reader.fail("the first line must be a '%%MatrixMarket matrix <format> <field> <symmetry>' banner");
  }
  if (tokens.size() != 5) {
    reader.fail("the banner must have 4 words after %%MatrixMarket (matrix <format> <field> <symmetry>), found " +
                std::to_string(tokens.size() - 1));
  }
  if (lower(tokens[1]) != "matrix")
    reader.fail("unsupported object '" + std::string(tokens[1]) + "' (expected matrix)");
  mm_header h;
  const std::string format = lower(tokens[2]);
  if (format == "coordinate") {
    h.format = mm_format::coordinate;
  } else if (format == "array") {
    h.format = mm_format::array;
  } else {
    reader.fail("unknown format '" + std::string(tokens[2]) + "' (expected coordinate or array)");
  }
  const std::string field = lower(tokens[3]);
  if (field == "real" || field == "double") {
    h.field = mm_field::real;
  } else if (field == "integer") {
    h.field = mm_field::integer;
  } else if (field == "complex") {
    h.field = mm_field::complex;
  } else if (field == "pattern") {
    reader.fail("field 'pattern' is not supported: the file holds no values (expected real, integer or complex)");
  } else {
    reader.fail("unknown field '" + std::string(tokens[3]) + "' (expected real, integer or complex)");
  }
  const std::string symmetry = lower(tokens[4]);
  if (symmetry == "general") {
    h.symmetry = mm_symmetry::general;
  } else if (symmetry == "symmetric") {
    h.symmetry = mm_symmetry::symmetric;
  } else if (symmetry == "hermitian") {
    h.symmetry = mm_symmetry::hermitian;
  } else if (symmetry == "skew-symmetric") {
    h.symmetry = mm_symmetry::skew;
  } else {
    reader.fail("unknown symmetry '" + std::string(tokens[4]) +
                "' (expected general, symmetric, hermitian or skew-symmetric)");
  }
  return h;
}

/// Number of stored entries a full n×n matrix of this symmetry has.
long long stored_entries(long long n, mm_symmetry symmetry) {
  switch (symmetry) {
    case mm_symmetry::general:
      return n * n;
    case mm_symmetry::symmetric:
    case mm_symmetry::hermitian:
      return n * (n + 1) / 2;
    case mm_symmetry::skew:
      return n * (n - 1) / 2;
  }
  return n * n;
}

const char* symmetry_name(mm_symmetry symmetry) {
  switch (symmetry) {
    case mm_symmetry::general:
      return "general";
    case mm_symmetry::symmetric:
      return "symmetric";
    case mm_symmetry::hermitian:
      return "hermitian";
    case mm_symmetry::skew:
      return "skew-symmetric";
  }
  return "general";
}

/// Stores entry (i, j) of the lower triangle and its mirror image.
void store(cmat& a, Eigen::Index i, Eigen::Index j, cf64 value, mm_symmetry symmetry) {
  a(i, j) = value;
  if (i == j) return;
  switch (symmetry) {
    case mm_symmetry::general:
      break;
    case mm_symmetry::symmetric:
      a(j, i) = value;
      break;
    case mm_symmetry::hermitian:
      a(j, i) = std::conj(value);
      break;
    case mm_symmetry::skew:
      a(j, i) = -value;
      break;
  }
}

cmat parse(std::istream& in, const std::string& path, int max_size) {
  mm_reader reader(in, path);
  const mm_header h = parse_banner(reader);

  std::vector<std::string_view> tokens;
  if (!reader.next_data(tokens)) reader.fail("end of file before the size line");
  const std::size_t size_tokens = h.format == mm_format::coordinate ? 3 : 2;
  if (tokens.size() != size_tokens) {
    reader.fail(h.format == mm_format::coordinate
                    ? "the size line of a coordinate file must be '<rows> <columns> <entries>'"
                    : "the size line of an array file must be '<rows> <columns>'");
  }
  const long long rows = reader.parse_integer(tokens[0], "row count");
  const long long cols = reader.parse_integer(tokens[1], "column count");
  if (rows < 1 || cols < 1) reader.fail("the matrix must have at least one row and one column");
  if (rows != cols) {
    reader.fail("the matrix is " + std::to_string(rows) + " x " + std::to_string(cols) +
                "; a linear solve needs a square matrix");
  }
  // Checked here, on the size line: nothing of the matrix's size is allocated before.
  if (rows > max_size) {
    reader.fail("the matrix is " + std::to_string(rows) + " x " + std::to_string(cols) + ", larger than the " +
                std::to_string(max_size) + " x " + std::to_string(max_size) + " accepted here");
  }
  const long long n = rows;
  const long long capacity = stored_entries(n, h.symmetry);
  long long expected = capacity;
  if (h.format == mm_format::coordinate) {
    expected = reader.parse_integer(tokens[2], "entry count");
    if (expected < 0) reader.fail("the entry count must not be negative");
    if (expected > capacity) {
      reader.fail("too many entries: " + std::to_string(expected) + " declared, but a " + std::to_string(n) + " x " +
                  std::to_string(n) + " " + symmetry_name(h.symmetry) + " file stores at most " +
                  std::to_string(capacity));
    }
  }
  const auto dim = static_cast<Eigen::Index>(n);
  cmat a = cmat::Zero(dim, dim);
  const bool complex = h.field == mm_field::complex;
  const std::size_t value_tokens = complex ? 2 : 1;
  std::vector<bool> seen;
  if (h.format == mm_format::coordinate) seen.assign(static_cast<std::size_t>(n * n), false);

  // Array files list the stored triangle column by column: (row, col) of the k-th value.
  // (A real "hermitian" file is read as the symmetric matrix it is.)
  long long array_row = h.symmetry == mm_symmetry::skew ? 1 : 0;
  long long array_col = 0;

  for (long long k = 0; k < expected; ++k) {
    if (!reader.next_data(tokens)) {
      reader.fail("too few entries: " + std::to_string(expected) + " declared, the file ends after " +
                  std::to_string(k));
    }
    long long i = 0, j = 0;
    std::size_t first_value = 0;
    if (h.format == mm_format::coordinate) {
      if (tokens.size() != 2 + value_tokens) {
        reader.fail(std::string("a ") + (complex ? "complex" : "real") + " coordinate entry must be '<row> <column> " +
                    (complex ? "<real> <imaginary>'" : "<value>'") + ", found " + std::to_string(tokens.size()) +
                    " fields");
      }
      i = reader.parse_integer(tokens[0], "row index");
      j = reader.parse_integer(tokens[1], "column index");
      if (i < 1 || i > n || j < 1 || j > n) {
        reader.fail("index (" + std::to_string(i) + ", " + std::to_string(j) + ") is outside the " + std::to_string(n) +
                    " x " + std::to_string(n) + " matrix (indices are 1-based)");
      }
      --i;
      --j;
      if (h.symmetry != mm_symmetry::general && i < j) {
        reader.fail("entry (" + std::to_string(i + 1) + ", " + std::to_string(j + 1) + ") is above the diagonal; a " +
                    symmetry_name(h.symmetry) + " file stores the lower triangle only");
      }
      if (h.symmetry == mm_symmetry::skew && i == j) {
        reader.fail("entry (" + std::to_string(i + 1) + ", " + std::to_string(j + 1) +
                    ") is on the diagonal; a skew-symmetric file stores the strict lower triangle only");
      }
      const auto index = static_cast<std::size_t>(j * n + i);
      if (seen[index]) {
        reader.fail("duplicate entry (" + std::to_string(i + 1) + ", " + std::to_string(j + 1) + ")");
      }
      seen[index] = true;
      first_value = 2;
    } else {
      if (tokens.size() != value_tokens) {
        reader.fail(std::string("an array entry must be ") + (complex ? "'<real> <imaginary>'" : "one value") +
                    ", found " + std::to_string(tokens.size()) + " fields");
      }
      i = array_row;
      j = array_col;
      if (++array_row == n) {
        ++array_col;
        array_row = h.symmetry == mm_symmetry::general ? 0 : array_col + (h.symmetry == mm_symmetry::skew ? 1 : 0);
      }
    }
    const double re = reader.parse_value(tokens[first_value], h.field);
    const double im = complex ? reader.parse_value(tokens[first_value + 1], h.field) : 0.0;
    if (h.symmetry == mm_symmetry::hermitian && i == j && im != 0.0) {
      reader.fail("diagonal entry (" + std::to_string(i + 1) + ", " + std::to_string(j + 1) +
                  ") of a Hermitian matrix must be real");
    }
    store(a, static_cast<Eigen::Index>(i), static_cast<Eigen::Index>(j), cf64(re, im), h.symmetry);
  }
  if (reader.next_data(tokens)) {
    reader.fail("too many entries: the size line declares " + std::to_string(expected));
  }
  return a;
}

void append_number(std::string& out, double value) {
  char buffer[64];
  const auto [end, ec] = std::to_chars(buffer, buffer + sizeof buffer, value);
  out.append(buffer, ec == std::errc() ? end : buffer);
}

}  // namespace

cmat read_matrix_market(const std::string& path, int max_size) {
  // Bounded: a regular file of at most max_matrix_market_file_bytes (a directory, FIFO or
  // device is refused before anything is read).
  std::istringstream in(read_bounded_file(path, max_matrix_market_file_bytes, "Matrix Market file"));
  return parse(in, path, std::clamp(max_size, 1, max_matrix_market_size));
}

void write_matrix_market(const std::string& path, cmat_cref a) {
  bool complex = false;
  long long entries = 0;
  for (Eigen::Index j = 0; j < a.cols(); ++j) {
    for (Eigen::Index i = 0; i < a.rows(); ++i) {
      const cf64 v = a(i, j);
      if (!std::isfinite(v.real()) || !std::isfinite(v.imag())) {
        throw config_error("cannot write '" + path + "': entry (" + std::to_string(i + 1) + ", " +
                           std::to_string(j + 1) + ") is not a finite number");
      }
      if (v.imag() != 0.0) complex = true;
      if (v != cf64(0.0, 0.0)) ++entries;
    }
  }
  std::string text = std::string("%%MatrixMarket matrix coordinate ") + (complex ? "complex" : "real") +
                     " general\n% written by amimo\n";
  text += std::to_string(a.rows()) + " " + std::to_string(a.cols()) + " " + std::to_string(entries) + "\n";
  for (Eigen::Index j = 0; j < a.cols(); ++j) {
    for (Eigen::Index i = 0; i < a.rows(); ++i) {
      const cf64 v = a(i, j);
      if (v == cf64(0.0, 0.0)) continue;
      text += std::to_string(i + 1) + " " + std::to_string(j + 1) + " ";
      append_number(text, v.real());
      if (complex) {
        text += ' ';
        append_number(text, v.imag());
      }
      text += '\n';
    }
  }

  write_file_atomically(path, text);
}

}  // namespace amimo
