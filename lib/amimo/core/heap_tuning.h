#pragma once
// Allocator settings for processes that serve steady traffic (amimo-solverd).
//
// A service's per-request buffers — ZeroMQ's receive buffers, the decoded request, the
// reply — are allocated on one thread and freed on another. With glibc's defaults the arena
// tops then pass the 128 KiB trim threshold after most requests and are handed back to the
// kernel, and blocks over the (dynamic) mmap threshold get their own mapping: every request
// faults its pages in again. On the project's 2-core VM, where a page fault and a context
// switch cost tens of microseconds, that halved amimo-bs's real-time factor against a remote
// service and made the remote batch benchmark bimodal (README "Solver offload").
//
// keep_freed_memory_for_reuse() fixes glibc's thresholds instead: heap tops are trimmed only
// above kTrimBytes and blocks up to kMmapBytes (glibc's largest) come from the heap, so freed
// memory is reused. The price is memory the process keeps after a burst: at most about
// kTrimBytes of free top per arena (the service's queue and session bounds cap the burst).

#include <cstddef>

namespace amimo {

inline constexpr std::size_t kTrimBytes = std::size_t{64} << 20U;
inline constexpr std::size_t kMmapBytes = std::size_t{32} << 20U;

/// Process-wide and idempotent. True when both thresholds were set; false where the C
/// library is not glibc or refused (nothing changes then).
bool keep_freed_memory_for_reuse() noexcept;

}  // namespace amimo
