#include <amimo/core/error.h>
#include <amimo/modem/modulation.h>

#include <string>

namespace amimo::modem {

modulation parse_modulation(std::string_view name) {
  if (name == "bpsk") return modulation::bpsk;
  if (name == "qpsk") return modulation::qpsk;
  if (name == "qam16") return modulation::qam16;
  if (name == "qam64") return modulation::qam64;
  if (name == "qam256") return modulation::qam256;
  throw config_error("unknown modulation '" + std::string(name) +
                     "' (expected bpsk, qpsk, qam16, qam64 or qam256)");
}

std::string_view to_string(modulation m) noexcept {
  switch (m) {
    case modulation::bpsk: return "bpsk";
    case modulation::qpsk: return "qpsk";
    case modulation::qam16: return "qam16";
    case modulation::qam64: return "qam64";
    case modulation::qam256: return "qam256";
  }
  return "unknown";
}

unsigned bits_per_symbol(modulation m) noexcept {
  switch (m) {
    case modulation::bpsk: return 1;
    case modulation::qpsk: return 2;
    case modulation::qam16: return 4;
    case modulation::qam64: return 6;
    case modulation::qam256: return 8;
  }
  return 0;
}

}  // namespace amimo::modem
