#pragma once
// Integer command-line options read as a person means them: plain decimal digits. CLI11 2.x
// converts integers with strtoll/strtoull in base 0, so "--size 010" is octal 8, "0x10" is
// 16, and for an unsigned option "-1" and an out-of-range "18446744073709551616" both
// become 2^64 − 1. Attach decimal_integer<T>() to every integer option with
// `->transform(amimo::decimal_integer<T>())` (not ->check(), which hands the validator a
// copy; with a delimiter each element is checked): it refuses signs on unsigned options,
// prefixes, exponents, spaces and values outside T, and hands CLI11 the digits without
// leading zeros, so "010" is ten. Header-only; include it from targets that link CLI11 (the
// executables, lib/amimo/repro's paper options).

#include <CLI/CLI.hpp>

#include <charconv>
#include <limits>
#include <string>
#include <string_view>
#include <system_error>
#include <type_traits>

namespace amimo {

/// Why `text` is not a decimal T ("" when it is): an optional '-' (signed T only), then one
/// or more ASCII digits, nothing else, within T's range.
template <typename T>
std::string decimal_integer_problem(std::string_view text) {
  static_assert(std::is_integral_v<T> && !std::is_same_v<T, bool>);
  const std::string quoted = "'" + std::string(text) + "'";
  std::string_view digits = text;
  if (!digits.empty() && digits.front() == '-' && std::is_signed_v<T>) digits.remove_prefix(1);
  if (digits.empty() || digits.find_first_not_of("0123456789") != std::string_view::npos) {
    return quoted + (std::is_signed_v<T> ? " is not a decimal integer (digits, '-' before them at most: no '+', "
                                           "prefix, exponent or spaces)"
                                         : " is not a non-negative decimal integer (digits only: no sign, prefix, "
                                           "exponent or spaces)");
  }
  T value{};
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec == std::errc::result_out_of_range) {
    return quoted + " is out of range (" + std::to_string(std::numeric_limits<T>::min()) + ".." +
           std::to_string(std::numeric_limits<T>::max()) + ")";
  }
  if (ec != std::errc() || end != text.data() + text.size()) return quoted + " is not a decimal integer";
  return "";
}

/// The CLI11 validator described above, for an option of integer type T.
template <typename T>
CLI::Validator decimal_integer() {
  return CLI::Validator(
      [](std::string& text) -> std::string {
        std::string problem = decimal_integer_problem<T>(text);
        if (!problem.empty()) return problem;
        // Leading zeros dropped: CLI11 would read them as an octal prefix.
        const std::size_t sign = text.front() == '-' ? 1 : 0;
        const std::size_t first = text.find_first_not_of('0', sign);
        const std::string digits = first == std::string::npos ? "0" : text.substr(first);
        text = (sign != 0 && digits != "0" ? "-" : "") + digits;
        return "";
      },
      "", "decimal integer");
}

}  // namespace amimo
