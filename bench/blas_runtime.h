#pragma once
// Which BLAS the Armadillo baselines run on, found at run time: the library mapped into
// this process whose name mentions "blas" (Debian's libblas.so.3 is an alternatives link,
// so the file name alone may not tell), and, when OpenBLAS's own entry points resolve
// through dlsym, its configuration string. OpenBLAS is set to one thread so the baseline
// is per core like amimo's kernels; the printed line says so.

#include <dlfcn.h>

#include <fstream>
#include <string>

namespace amimo::bench {

struct blas_runtime {
  std::string library;      ///< path of the mapped *blas* library (or "unknown")
  std::string description;  ///< "OpenBLAS <config>, 1 thread (set)" or "reference/unknown BLAS"
  bool openblas = false;
};

/// Call after the baseline has run once (the BLAS is then mapped).
inline blas_runtime detect_blas_and_use_one_thread() {
  blas_runtime info;
  info.library = "unknown (no *blas* library mapped)";
  std::ifstream maps("/proc/self/maps");
  std::string line;
  while (std::getline(maps, line)) {
    const auto slash = line.find('/');
    if (slash != std::string::npos && line.find("blas", slash) != std::string::npos) {
      info.library = line.substr(slash);
      break;
    }
  }
  using config_fn = char* (*)();
  using threads_fn = void (*)(int);
  using get_threads_fn = int (*)();
  const auto config = reinterpret_cast<config_fn>(dlsym(RTLD_DEFAULT, "openblas_get_config"));
  const auto set_threads = reinterpret_cast<threads_fn>(dlsym(RTLD_DEFAULT, "openblas_set_num_threads"));
  const auto get_threads = reinterpret_cast<get_threads_fn>(dlsym(RTLD_DEFAULT, "openblas_get_num_threads"));
  if (config != nullptr) {
    info.openblas = true;
    if (set_threads != nullptr) set_threads(1);
    const int threads = get_threads != nullptr ? get_threads() : -1;
    info.description = std::string("OpenBLAS (") + config() + "), " +
                       (threads > 0 ? std::to_string(threads) : std::string("?")) + " thread(s) (set to 1 for a per-core comparison)";
  } else {
    info.description = "not OpenBLAS (no openblas_get_config symbol): reference or other BLAS, single-threaded";
  }
  return info;
}

}  // namespace amimo::bench
