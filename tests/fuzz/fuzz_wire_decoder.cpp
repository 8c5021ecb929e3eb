// libFuzzer target: the solver-offload decoders must refuse any byte string with a
// wire_error (or accept it), never crash, hang or over-allocate. Built with clang by
// tests/fuzz/run_fuzz.sh (-fsanitize=fuzzer,address,undefined).
#include <amimo/remote/wire_format.h>

#include <cstddef>
#include <cstdint>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::span<const std::byte> frame(reinterpret_cast<const std::byte*>(data), size);
  amimo::remote::wire_limits limits;
  limits.max_dim = 64;  // keeps accepted inputs small; the checks are the same
  try {
    const amimo::remote::request r = amimo::remote::decode_request(frame, limits);
    // Anything accepted re-encodes to the same bytes.
    if (amimo::remote::encode_request(r).size() != size) __builtin_trap();
  } catch (const amimo::remote::wire_error&) {
  }
  try {
    (void)amimo::remote::decode_response(frame, limits);
  } catch (const amimo::remote::wire_error&) {
  }
  return 0;
}
