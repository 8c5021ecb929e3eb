#include <amimo/core/thread_pool.h>

#include <algorithm>
#include <utility>

namespace amimo {

int thread_pool::hardware_threads() noexcept {
  return std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
}

namespace {

// Polls `done` (yielding the core each time) until it is true or `spin` has passed.
template <typename Predicate>
void spin_until(std::chrono::microseconds spin, Predicate done) {
  if (spin.count() <= 0) return;
  const auto until = std::chrono::steady_clock::now() + spin;
  while (!done() && std::chrono::steady_clock::now() < until) std::this_thread::yield();
}

// Which pool's worker the current thread is, and its index there.
struct worker_identity {
  const thread_pool* pool = nullptr;
  int index = -1;
};
thread_local worker_identity t_worker;

}  // namespace

thread_pool::thread_pool(int threads, bool caller_joins, std::chrono::microseconds spin)
    : caller_joins_(caller_joins), spin_(spin) {
  const int count = (threads > 0 ? threads : hardware_threads()) - (caller_joins ? 1 : 0);
  workers_.reserve(static_cast<std::size_t>(count));
  try {
    for (int i = 0; i < count; ++i) workers_.emplace_back([this, i] { worker_loop(i); });
  } catch (...) {
    // A thread that cannot be started (a process or memory limit): the ones already
    // running wait on changed_, so they are stopped and joined before the exception leaves
    // (unwinding past them destroyed the condition variable under its waiters: a hang).
    {
      const std::lock_guard lock(mutex_);
      stopping_ = true;
    }
    changed_.notify_all();
    for (std::thread& t : workers_) t.join();
    throw;
  }
}

thread_pool::~thread_pool() {
  {
    const std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  changed_.notify_all();
  for (std::thread& t : workers_) t.join();
}

int thread_pool::participant_index() const noexcept {
  if (t_worker.pool == this) return t_worker.index;
  return caller_joins_ ? static_cast<int>(workers_.size()) : -1;
}

void thread_pool::parallel_for(std::size_t items, const std::function<void(int, std::size_t)>& fn) {
  if (items == 0) return;
  job j;
  start(j, items, fn);
  wait(j);
}

void thread_pool::start(job& j, std::size_t items, const std::function<void(int, std::size_t)>& fn) {
  j.fn_ = &fn;
  j.items_ = items;
  j.next_item_ = 0;
  j.error_ = nullptr;
  j.next_job_ = nullptr;
  j.finished_.store(0, std::memory_order_relaxed);
  if (items == 0) return;
  {
    const std::lock_guard lock(mutex_);
    if (tail_ != nullptr) {
      tail_->next_job_ = &j;
    } else {
      head_ = &j;
    }
    tail_ = &j;
    pending_ = true;
  }
  changed_.notify_all();
}

void thread_pool::wait(job& j) {
  const int index = participant_index();
  std::unique_lock lock(mutex_);
  while (!j.done()) {
    if (index >= 0 && run_one(lock, index, &j)) continue;
    // Nothing to run: poll a while (the last items are often microseconds from done), then block.
    if (spin_.count() > 0) {
      lock.unlock();
      spin_until(spin_, [&] { return j.done() || (index >= 0 && pending_.load()); });
      lock.lock();
    }
    changed_.wait(lock, [&] { return j.done() || (index >= 0 && head_ != nullptr); });
  }
  j.fn_ = nullptr;
  if (j.error_) std::rethrow_exception(std::exchange(j.error_, nullptr));
}

bool thread_pool::help() {
  const int index = participant_index();
  if (index < 0 || !pending_.load()) return false;
  std::unique_lock lock(mutex_);
  return run_one(lock, index, nullptr);
}

void thread_pool::worker_loop(int index) {
  t_worker = {this, index};
  std::unique_lock lock(mutex_);
  while (!stopping_) {
    if (run_one(lock, index, nullptr)) continue;
    if (spin_.count() > 0) {
      lock.unlock();
      spin_until(spin_, [&] { return stopping_.load() || pending_.load(); });
      lock.lock();
    }
    changed_.wait(lock, [&] { return stopping_ || head_ != nullptr; });
  }
}

void thread_pool::unlink(job& j) noexcept {
  job* prev = nullptr;
  for (job* it = head_; it != nullptr; prev = it, it = it->next_job_) {
    if (it != &j) continue;
    (prev != nullptr ? prev->next_job_ : head_) = j.next_job_;
    if (tail_ == &j) tail_ = prev;
    j.next_job_ = nullptr;
    break;
  }
  pending_ = head_ != nullptr;
}

bool thread_pool::run_one(std::unique_lock<std::mutex>& lock, int index, job* preferred) {
  job* j = preferred != nullptr && preferred->next_item_ < preferred->items_ ? preferred : head_;
  if (j == nullptr) return false;
  const std::size_t item = j->next_item_++;
  if (j->next_item_ == j->items_) unlink(*j);  // its last item handed out
  const auto* fn = j->fn_;
  lock.unlock();
  std::exception_ptr error;
  try {
    (*fn)(index, item);
  } catch (...) {
    error = std::current_exception();
  }
  lock.lock();
  if (error && !j->error_) j->error_ = std::move(error);
  // The last item: its waiter may return (and reuse or destroy j) once this is seen.
  if (j->finished_.fetch_add(1, std::memory_order_acq_rel) + 1 == j->items_) changed_.notify_all();
  return true;
}

}  // namespace amimo
