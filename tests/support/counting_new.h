#pragma once
// A counting global operator new for allocation tests: include from exactly one source
// file of a test executable (these are the replacement functions themselves). Every C++
// allocation of the process, any thread, adds one to g_allocations.
#include <execinfo.h>

#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <new>

inline std::atomic<std::uint64_t> g_allocations{0};

// Where the first allocation of an armed interval came from (the call stack's return
// addresses), so a test that finds an allocation it should not can say whose it was.
// backtrace() loads its unwinder on first use (which allocates): prime it before arming.
// The frames are published by the release store of the depth (0 until they are complete),
// so a reader on another thread sees either nothing or the whole stack.
inline std::atomic<bool> g_trace_armed{false};
inline std::atomic<bool> g_traced{false};
inline void* g_trace_frames[32];
inline std::atomic<int> g_trace_depth{0};

inline void count_allocation() noexcept {
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  if (g_trace_armed.load(std::memory_order_relaxed) && !g_traced.exchange(true)) {
    g_trace_depth.store(backtrace(g_trace_frames, 32), std::memory_order_release);
  }
}

// These are the replacement allocation functions themselves: malloc/aligned_alloc pair
// with free, which GCC cannot see through the replaced operators.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
void* operator new(std::size_t size) {
  count_allocation();
  if (void* p = std::malloc(size == 0 ? 1 : size)) return p;
  throw std::bad_alloc();
}
void* operator new(std::size_t size, std::align_val_t align) {
  count_allocation();
  const auto a = static_cast<std::size_t>(align);
  if (void* p = std::aligned_alloc(a, (size + a - 1) / a * a)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete(void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete(void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }
// Every other form too (libzmq uses new (std::nothrow)): a form left to the sanitizer's
// runtime would allocate there and be freed here, which AddressSanitizer reports as an
// alloc-dealloc mismatch.
void* operator new(std::size_t size, const std::nothrow_t&) noexcept {
  count_allocation();
  return std::malloc(size == 0 ? 1 : size);
}
void* operator new(std::size_t size, std::align_val_t align, const std::nothrow_t&) noexcept {
  count_allocation();
  const auto a = static_cast<std::size_t>(align);
  return std::aligned_alloc(a, (size + a - 1) / a * a);
}
void* operator new[](std::size_t size) { return operator new(size); }
void* operator new[](std::size_t size, std::align_val_t align) { return operator new(size, align); }
void* operator new[](std::size_t size, const std::nothrow_t& tag) noexcept { return operator new(size, tag); }
void* operator new[](std::size_t size, std::align_val_t align, const std::nothrow_t& tag) noexcept {
  return operator new(size, align, tag);
}
void operator delete(void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete(void* p, std::align_val_t, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete[](void* p, std::align_val_t, const std::nothrow_t&) noexcept { std::free(p); }
#pragma GCC diagnostic pop
