// libFuzzer target: Matrix Market files. Any byte string must give a matrix or an
// amimo::config_error / io_error naming file and line: never a crash or an unbounded
// allocation (sizes are capped by max_matrix_market_size before anything is allocated).
#include "fuzz_file.h"

#include <amimo/core/error.h>
#include <amimo/core/matrix_market.h>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string path = amimo::fuzz::write_input("a.mtx", data, size);
  try {
    const amimo::cmat a = amimo::read_matrix_market(path);
    if (a.rows() != a.cols() || a.rows() > amimo::max_matrix_market_size || !a.allFinite()) __builtin_trap();
  } catch (const amimo::config_error&) {
  } catch (const amimo::io_error&) {
  }
  return 0;
}
