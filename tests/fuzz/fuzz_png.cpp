// libFuzzer target: PNG decoding (amimo-image's input). Any byte string must decode or be
// refused with an amimo::io_error; declared dimensions above the pixel cap are refused from
// the header, before anything is allocated or decoded.
#include "fuzz_file.h"

#include <amimo/core/error.h>
#include <amimo/report/png_image.h>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  constexpr std::size_t max_pixels = std::size_t{1} << 20U;
  const std::string path = amimo::fuzz::write_input("in.png", data, size);
  try {
    const amimo::report::rgb_image image = amimo::report::read_png(path, max_pixels);
    const auto pixels = static_cast<std::size_t>(image.width()) * static_cast<std::size_t>(image.height());
    if (pixels == 0 || pixels > max_pixels || image.data().size() != 3 * pixels) __builtin_trap();
  } catch (const amimo::io_error&) {
  }
  return 0;
}
