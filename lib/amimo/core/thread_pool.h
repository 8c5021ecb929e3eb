#pragma once
// A fixed set of worker threads that run indexed jobs. parallel_for() blocks until every
// item is done, so each call is a clean parallel-for with a barrier; start() and wait()
// split that in two, so that a thread can go on with other work while a job runs (the
// receiver's back end of one frame while the front end takes the next), and several jobs
// may be in progress at once (from different threads, or nested: an item may itself run a
// parallel_for). A thread that waits for a job does not sleep while any job has items left:
// it runs them (help()), its own job's first, then the oldest job's. Nothing is allocated
// per job: a job's record belongs to whoever starts it.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <exception>
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
  /// One started parallel-for: its function, items and progress. Owned by whoever starts it
  /// (a member or a local, reused freely once waited for); the pool only links it while it
  /// has items to hand out. Must not be destroyed or restarted before wait() has returned.
  class job {
   public:
    job() = default;
    job(const job&) = delete;
    job& operator=(const job&) = delete;
    /// Every item finished (wait() still needed, to see an exception).
    bool done() const noexcept { return finished_.load(std::memory_order_acquire) == items_; }

   private:
    friend class thread_pool;
    const std::function<void(int, std::size_t)>* fn_ = nullptr;
    std::size_t items_ = 0;
    std::size_t next_item_ = 0;  // under the pool's mutex
    std::atomic<std::size_t> finished_{0};
    std::exception_ptr error_;  // the first exception of an item, under the pool's mutex
    job* next_job_ = nullptr;   // the pool's list of jobs with items to hand out
  };

  /// threads <= 0 means one per hardware core. With caller_joins a thread that is not one
  /// of the pool's (the owner's thread) is one of the `threads` participants (index
  /// threads − 1) and only threads − 1 background threads exist: no thread sits idle
  /// waiting, and a job dispatch wakes one thread fewer (what a latency-bound streaming
  /// loop wants). Only one such outside thread may use a caller-joined pool at a time.
  ///
  /// spin: how long an idle thread (a worker between jobs, a thread waiting for the last
  /// items of a job) polls before it blocks, yielding the core on every poll. Waking a
  /// blocked thread costs tens of microseconds on a VM; a receiver that dispatches
  /// several jobs per millisecond frame spins across the gaps instead. 0: block at once.
  explicit thread_pool(int threads, bool caller_joins = false,
                       std::chrono::microseconds spin = std::chrono::microseconds{0});
  ~thread_pool();
  thread_pool(const thread_pool&) = delete;
  thread_pool& operator=(const thread_pool&) = delete;

  /// Participants: the worker indices jobs are passed are 0 … size() − 1.
  int size() const noexcept { return static_cast<int>(workers_.size()) + (caller_joins_ ? 1 : 0); }

  /// Calls job(worker_index, item) for item in [0, items), items spread over workers.
  /// Returns when all are done. An exception from a job is rethrown here.
  void parallel_for(std::size_t items, const std::function<void(int, std::size_t)>& job);

  /// Starts `j` (items calls of `fn`, which must outlive it) and returns at once; the
  /// workers (and helpers) take its items. Finish it with wait().
  void start(job& j, std::size_t items, const std::function<void(int, std::size_t)>& fn);
  /// A temporary would be gone before the items run (the job keeps a pointer to `fn`).
  void start(job& j, std::size_t items, std::function<void(int, std::size_t)>&& fn) = delete;
  /// Returns when every item of `j` is done, running items of any job meanwhile (help())
  /// when the calling thread is a participant; rethrows the first exception of j's items.
  void wait(job& j);
  /// Runs one item of a started job, if any is left to hand out and the calling thread is a
  /// participant (a worker, or the outside thread of a caller-joined pool). Returns whether
  /// it ran one. For a thread waiting on work of the pool that would otherwise sleep.
  bool help();

  static int hardware_threads() noexcept;

 private:
  void worker_loop(int index);
  /// The calling thread's participant index, or −1 when it may not run items.
  int participant_index() const noexcept;
  /// Runs one item, of `preferred` when it has items left, else of the oldest job; called
  /// with the lock held, returns with it held. False when no job has items to hand out.
  bool run_one(std::unique_lock<std::mutex>& lock, int index, job* preferred);
  void unlink(job& j) noexcept;

  bool caller_joins_ = false;
  std::chrono::microseconds spin_{0};
  std::vector<std::thread> workers_;
  std::mutex mutex_;
  std::condition_variable changed_;  // a job started, a job finished, or stopping
  job* head_ = nullptr;              // jobs with items to hand out, oldest first
  job* tail_ = nullptr;
  // Written under mutex_; atomic so spinning threads may read them without it.
  std::atomic<bool> pending_{false};  // head_ != nullptr
  std::atomic<bool> stopping_{false};
};

}  // namespace amimo
