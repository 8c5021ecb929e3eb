#pragma once
// Modulation schemes amimo supports and their names on the command line.

#include <string_view>

namespace amimo::modem {

enum class modulation { bpsk, qpsk, qam16, qam64, qam256 };

/// Parses "bpsk", "qpsk", "qam16", "qam64" or "qam256"; throws amimo::config_error otherwise.
modulation parse_modulation(std::string_view name);
std::string_view to_string(modulation m) noexcept;
unsigned bits_per_symbol(modulation m) noexcept;

}  // namespace amimo::modem
