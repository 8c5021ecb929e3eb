// libFuzzer target: amimo-solverd's request handling up to the backend — decode the frame,
// check its spec against the closed lists (backend, options, profile names, inline profile
// text with its cap and escapes), estimate its work and session memory. Any input must be
// refused with a wire_error or accepted; never a crash, hang, over-allocation, or a file
// opened (the built-in registry is the only profile source). Built by run_fuzz_solverd.sh.
#include <amimo/remote/service_policy.h>
#include <amimo/remote/wire_format.h>

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace amimo::remote;
  static const profile_registry profiles = load_profile_registry("");
  const std::span<const std::byte> frame(reinterpret_cast<const std::byte*>(data), size);
  wire_limits limits;
  limits.max_dim = 64;
  try {
    const request r = decode_request(frame, limits);
    const resolved_spec spec = resolve_wire_spec(r.spec, profiles);
    const double work = request_work(spec, r);
    if (!(work >= 0.0) || !std::isfinite(work)) __builtin_trap();
    if (session_bytes(spec, r.max_size) == 0) __builtin_trap();
    if ((spec.backend == "analog" || spec.backend == "analog-lp") != spec.profile.has_value()) __builtin_trap();
  } catch (const wire_error&) {
  }
  // The spec text alone (the whole input as option lines) and the inline-profile escapes.
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  try {
    (void)resolve_wire_spec(decode_spec(text), profiles);
  } catch (const wire_error&) {
  }
  try {
    std::string plain = unescape_option_value(text);
    const std::string round = unescape_option_value(escape_option_value(plain));
    std::erase(plain, '\r');  // escaping drops CR (CRLF files read as LF)
    if (round != plain) __builtin_trap();
  } catch (const wire_error&) {
  }
  return 0;
}
