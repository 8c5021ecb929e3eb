// libFuzzer target: the YAML configurations of amimo-sweep and amimo-ue/amimo-bs. The
// first byte picks the parser (even: sweep, odd: link); the rest is the YAML text. Any
// text must be accepted or refused with an amimo::config_error, or with an amimo::io_error
// where it names a file that cannot be read (an analog profile's YAML: read through the
// bounded reader, which refuses devices, FIFOs and oversized files). Any other exception
// escaping (a YAML conversion error, std::out_of_range...) is a bug and aborts the run.
#include <amimo/core/error.h>
#include <amimo/pipeline/link_config.h>
#include <amimo/sweep/sweep_config.h>

#include <cstddef>
#include <cstdint>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::string_view text(reinterpret_cast<const char*>(data) + 1, size - 1);
  try {
    if (data[0] % 2 == 0) {
      const amimo::sweep::sweep_config c = amimo::sweep::parse_sweep_yaml(text);
      amimo::sweep::validate(c);
    } else {
      (void)amimo::pipeline::parse_link_config(text, {});
    }
  } catch (const amimo::config_error&) {
  } catch (const amimo::io_error&) {
  }
  return 0;
}
