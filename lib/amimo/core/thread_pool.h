#pragma once
// A fixed set of worker threads that run one indexed job at a time. The caller blocks
// until every item is done, so each job is a clean parallel-for with a barrier.

#include <condition_variable>
#include <cstddef>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace amimo {

class thread_pool {
 public:
  /// threads <= 0 means one per hardware core. With caller_joins the thread calling
  /// parallel_for() is one of the `threads` participants (index threads − 1) and only
  /// threads − 1 background threads exist: no thread sits idle waiting, and a job
  /// dispatch wakes one thread fewer (what a latency-bound streaming loop wants).
  explicit thread_pool(int threads, bool caller_joins = false);
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
  std::vector<std::thread> workers_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::condition_variable done_;
  const std::function<void(int, std::size_t)>* job_ = nullptr;
  std::size_t items_ = 0;
  std::size_t next_item_ = 0;
  std::size_t finished_items_ = 0;
  std::size_t generation_ = 0;
  std::exception_ptr error_;
  bool stopping_ = false;
};

}  // namespace amimo
