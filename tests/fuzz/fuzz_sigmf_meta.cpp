// libFuzzer target: SigMF metadata. Any byte string must be accepted or refused with an
// amimo::io_error / config_error naming the problem: never a crash, a stack overflow on
// nesting, a hang or a huge allocation. Built by tests/fuzz/run_fuzz.sh.
#include "fuzz_file.h"

#include <amimo/core/error.h>
#include <amimo/radio/sigmf.h>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const std::string data_file = [] {
    const std::uint8_t samples[64] = {};  // 8 cf32 samples, so sizes and channel counts are checked too
    return amimo::fuzz::write_input("rec.sigmf-data", samples, sizeof samples);
  }();
  (void)data_file;
  const std::string meta = amimo::fuzz::write_input("rec.sigmf-meta", data, size);
  try {
    const amimo::radio::sigmf_metadata m = amimo::radio::read_sigmf_metadata(meta);
    if (m.channels < 1 || m.total_samples * m.bytes_per_sample > 64) __builtin_trap();
  } catch (const amimo::io_error&) {
  } catch (const amimo::config_error&) {
  }
  return 0;
}
