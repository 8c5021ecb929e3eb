#include <amimo/core/heap_tuning.h>

#if defined(__GLIBC__)
#include <malloc.h>
#endif

namespace amimo {

bool keep_freed_memory_for_reuse() noexcept {
#if defined(__GLIBC__)
  // Setting either threshold also stops glibc adjusting the mmap threshold by itself.
  const int mmap_ok = mallopt(M_MMAP_THRESHOLD, static_cast<int>(kMmapBytes));
  const int trim_ok = mallopt(M_TRIM_THRESHOLD, static_cast<int>(kTrimBytes));
  return mmap_ok == 1 && trim_ok == 1;
#else
  return false;
#endif
}

}  // namespace amimo
