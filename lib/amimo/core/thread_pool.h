#pragma once
// A fixed set of worker threads that run one indexed job at a time. The caller blocks
// until every item is done, so each job is a clean parallel-for with a barrier.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace amimo {

/// Largest worker-thread count any executable accepts (--threads / `threads:`; 0 means one
/// per core). A bound, so that a typo cannot exhaust the process table.
inline constexpr int max_worker_threads = 256;

class thread_pool {
 public:
  /// threads <= 0 means one per hardware core. With caller_joins the thread calling
  /// parallel_for() is one of the `threads` participants (index threads − 1) and only
  /// threads − 1 background threads exist: no thread sits idle waiting, and a job
  /// dispatch wakes one thread fewer (what a latency-bound streaming loop wants).
  ///
  /// spin: how long an idle thread (a worker between jobs, the caller waiting for the
  /// last items) polls before it blocks, yielding the core on every poll. Waking a
  /// blocked thread costs tens of microseconds on a VM; a receiver that dispatches
  /// several jobs per millisecond frame spins across the gaps instead. 0: block at once.
  explicit thread_pool(int threads, bool caller_joins = false,
                       std::chrono::microseconds spin = std::chrono::microseconds{0});
  ~thread_pool();
  thread_pool(const thread_pool&) = delete;
  thread_pool& operator=(const thread_pool&) = delete;

  /// Participants: the worker indices parallel_for() passes are 0 … size() − 1.
  int size() const noexcept { return static_cast<int>(workers_.size()) + (caller_joins_ ? 1 : 0); }

  /// Calls job(worker_index, item) for item in [0, items), items spread over workers.
  /// Returns when all are done. An exception from a job is rethrown here.
  void parallel_for(std::size_t items, const std::function<void(int, std::size_t)>& job);

  static int hardware_threads() noexcept;

 private:
  void worker_loop(int index);
  void run_items(std::unique_lock<std::mutex>& lock, int index);

  bool caller_joins_ = false;
  std::chrono::microseconds spin_{0};
  std::vector<std::thread> workers_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::condition_variable done_;
  const std::function<void(int, std::size_t)>* job_ = nullptr;
  std::size_t items_ = 0;
  std::size_t next_item_ = 0;
  // Written under mutex_; atomic so spinning threads may read them without it.
  std::atomic<std::size_t> finished_items_{0};
  std::atomic<std::size_t> generation_{0};
  std::atomic<bool> stopping_{false};
  std::exception_ptr error_;
};

}  // namespace amimo
