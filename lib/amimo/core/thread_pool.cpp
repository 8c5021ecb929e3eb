#include <amimo/core/thread_pool.h>

#include <algorithm>

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

}  // namespace

thread_pool::thread_pool(int threads, bool caller_joins, std::chrono::microseconds spin)
    : caller_joins_(caller_joins), spin_(spin) {
  const int count = (threads > 0 ? threads : hardware_threads()) - (caller_joins ? 1 : 0);
  workers_.reserve(static_cast<std::size_t>(count));
  for (int i = 0; i < count; ++i) workers_.emplace_back([this, i] { worker_loop(i); });
}

thread_pool::~thread_pool() {
  {
    const std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  for (std::thread& t : workers_) t.join();
}

void thread_pool::parallel_for(std::size_t items, const std::function<void(int, std::size_t)>& job) {
  if (items == 0) return;
  std::unique_lock lock(mutex_);
  job_ = &job;
  items_ = items;
  next_item_ = 0;
  finished_items_ = 0;
  error_ = nullptr;
  ++generation_;
  wake_.notify_all();
  if (caller_joins_) run_items(lock, static_cast<int>(workers_.size()));
  if (finished_items_ != items_ && spin_.count() > 0) {
    lock.unlock();
    spin_until(spin_, [&] { return finished_items_.load() == items; });
    lock.lock();
  }
  done_.wait(lock, [this] { return finished_items_ == items_; });
  job_ = nullptr;
  if (error_) std::rethrow_exception(error_);
}

void thread_pool::worker_loop(int index) {
  std::size_t seen_generation = 0;
  std::unique_lock lock(mutex_);
  while (true) {
    if (spin_.count() > 0 && !stopping_ && generation_ == seen_generation) {
      lock.unlock();
      spin_until(spin_, [&] { return stopping_.load() || generation_.load() != seen_generation; });
      lock.lock();
    }
    wake_.wait(lock, [&] { return stopping_ || (generation_ != seen_generation && next_item_ < items_); });
    if (stopping_) return;
    run_items(lock, index);
    seen_generation = generation_;
  }
}

// Takes items until none is left; called with the lock held, returns with it held.
void thread_pool::run_items(std::unique_lock<std::mutex>& lock, int index) {
  while (job_ != nullptr && next_item_ < items_) {
    const std::size_t item = next_item_++;
    const auto* job = job_;
    lock.unlock();
    try {
      (*job)(index, item);
    } catch (...) {
      lock.lock();
      if (!error_) error_ = std::current_exception();
      lock.unlock();
    }
    lock.lock();
    if (++finished_items_ == items_) done_.notify_all();
  }
}

}  // namespace amimo
