#include <amimo/core/thread_pool.h>

#include <gtest/gtest.h>

#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <stdexcept>
#include <system_error>
#include <thread>
#include <vector>

namespace amimo {
namespace {

TEST(ThreadPool, EveryItemRunsExactlyOnceAcrossRepeatedJobs) {
  thread_pool pool(3);
  EXPECT_EQ(pool.size(), 3);
  for (int round = 0; round < 50; ++round) {
    std::vector<std::atomic<int>> hits(257);
    std::atomic<int> bad_worker{0};
    pool.parallel_for(hits.size(), [&](int worker, std::size_t item) {
      if (worker < 0 || worker >= 3) ++bad_worker;
      ++hits[item];
    });
    for (const auto& h : hits) ASSERT_EQ(h.load(), 1);
    ASSERT_EQ(bad_worker.load(), 0);
  }
}

TEST(ThreadPool, ExceptionFromAJobReachesTheCallerAndPoolStaysUsable) {
  thread_pool pool(2);
  EXPECT_THROW(pool.parallel_for(10, [](int, std::size_t item) {
    if (item == 4) throw std::runtime_error("boom");
  }), std::runtime_error);
  std::atomic<int> count{0};
  pool.parallel_for(10, [&](int, std::size_t) { ++count; });
  EXPECT_EQ(count.load(), 10);
}

TEST(ThreadPool, CallerJoinsAsTheLastWorkerIndex) {
  const std::thread::id caller = std::this_thread::get_id();
  {
    // One participant: no background thread, the caller runs every item as worker 0.
    thread_pool alone(1, /*caller_joins=*/true);
    EXPECT_EQ(alone.size(), 1);
    std::atomic<int> elsewhere{0};
    std::atomic<int> count{0};
    alone.parallel_for(100, [&](int worker, std::size_t) {
      if (worker != 0 || std::this_thread::get_id() != caller) ++elsewhere;
      ++count;
    });
    EXPECT_EQ(count.load(), 100);
    EXPECT_EQ(elsewhere.load(), 0);
  }
  thread_pool pool(3, /*caller_joins=*/true);
  EXPECT_EQ(pool.size(), 3);
  for (int round = 0; round < 50; ++round) {
    std::vector<std::atomic<int>> hits(257);
    std::atomic<int> wrong_index{0};
    pool.parallel_for(hits.size(), [&](int worker, std::size_t item) {
      // The caller is index 2 and only the caller is index 2.
      if (worker < 0 || worker >= 3 || ((worker == 2) != (std::this_thread::get_id() == caller))) ++wrong_index;
      ++hits[item];
    });
    for (const auto& h : hits) ASSERT_EQ(h.load(), 1);
    ASSERT_EQ(wrong_index.load(), 0);
  }
  EXPECT_THROW(pool.parallel_for(10, [](int, std::size_t item) {
    if (item == 7) throw std::runtime_error("boom");
  }), std::runtime_error);
}

TEST(ThreadPool, ZeroThreadsMeansOnePerCore) {
  thread_pool pool(0);
  EXPECT_EQ(pool.size(), thread_pool::hardware_threads());
}

// A thread waiting for a job runs pending items of any job instead of sleeping: here the
// only worker is held by an item that ends only when the other job has run, so waiting
// without helping would never return.
TEST(ThreadPool, WaitRunsOtherJobsItemsInsteadOfSleeping) {
  thread_pool pool(2, /*caller_joins=*/true, std::chrono::microseconds{200});
  std::atomic<bool> held{false};
  std::atomic<int> others_done{0};
  constexpr int kOthers = 20;
  const std::function<void(int, std::size_t)> hold = [&](int, std::size_t) {
    held = true;
    while (others_done.load() < kOthers) std::this_thread::yield();
  };
  std::atomic<int> on_caller{0};
  const std::function<void(int, std::size_t)> other = [&](int worker, std::size_t) {
    if (worker == 1) ++on_caller;
    ++others_done;
  };
  thread_pool::job holding;
  thread_pool::job others;
  pool.start(holding, 1, hold);
  while (!held.load()) std::this_thread::yield();  // the worker has it
  pool.start(others, kOthers, other);
  pool.wait(holding);
  EXPECT_EQ(on_caller.load(), kOthers) << "the waiting caller ran the other job's items";
  EXPECT_TRUE(others.done());
  pool.wait(others);
}

TEST(ThreadPool, HelpRunsOneItemOfAStartedJob) {
  thread_pool pool(1, /*caller_joins=*/true);  // no background thread: only help() runs items
  std::atomic<int> count{0};
  const std::function<void(int, std::size_t)> fn = [&](int worker, std::size_t) {
    EXPECT_EQ(worker, 0);
    ++count;
  };
  EXPECT_FALSE(pool.help()) << "nothing started";
  thread_pool::job j;
  pool.start(j, 3, fn);
  EXPECT_FALSE(j.done());
  EXPECT_TRUE(pool.help());
  EXPECT_EQ(count.load(), 1);
  EXPECT_TRUE(pool.help());
  EXPECT_TRUE(pool.help());
  EXPECT_FALSE(pool.help());
  EXPECT_TRUE(j.done());
  EXPECT_EQ(count.load(), 3);
  pool.wait(j);
  // A thread that is not a participant (no caller join) never runs items.
  thread_pool plain(1);
  EXPECT_FALSE(plain.help());
}

TEST(ThreadPool, NestedJobsAndAStartedJobsExceptionReachTheWaiter) {
  thread_pool pool(3, /*caller_joins=*/true, std::chrono::microseconds{50});
  for (int round = 0; round < 20; ++round) {
    std::vector<std::atomic<int>> hits(4 * 8);
    pool.parallel_for(4, [&](int, std::size_t outer) {
      pool.parallel_for(8, [&](int worker, std::size_t inner) {
        if (worker >= 0 && worker < 3) ++hits[outer * 8 + inner];
      });
    });
    for (const auto& h : hits) ASSERT_EQ(h.load(), 1);
  }
  const std::function<void(int, std::size_t)> fails = [](int, std::size_t item) {
    if (item == 2) throw std::runtime_error("boom");
  };
  thread_pool::job j;
  pool.start(j, 5, fails);
  EXPECT_THROW(pool.wait(j), std::runtime_error);
  const std::function<void(int, std::size_t)> nothing = [](int, std::size_t) {};
  pool.start(j, 5, nothing);  // reusable once waited for
  EXPECT_NO_THROW(pool.wait(j));
}

// A thread that cannot be started (here: an address-space limit far below 512 thread
// stacks) must reach the caller as an exception. The threads already started waited on the
// pool's condition variable while the constructor unwound, and the process hung (amimo-sweep
// --threads 256 under ulimit -v). In a child process, with an alarm as the hang detector;
// not under AddressSanitizer, whose shadow memory cannot live under such a limit.
#if !defined(__SANITIZE_ADDRESS__)
TEST(ThreadPool, AThreadThatCannotStartIsAnExceptionNotAHang) {
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    ::alarm(20);
    rlimit limit{};
    limit.rlim_cur = limit.rlim_max = rlim_t{256} << 20U;
    if (::setrlimit(RLIMIT_AS, &limit) != 0) ::_exit(3);
    try {
      thread_pool pool(512);
    } catch (const std::system_error&) {
      ::_exit(0);
    } catch (...) {
      ::_exit(4);
    }
    ::_exit(5);  // every thread started: the limit did not bite
  }
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ASSERT_FALSE(WIFSIGNALED(status)) << "the child hung (alarm) or died: signal " << WTERMSIG(status);
  if (WEXITSTATUS(status) == 5) GTEST_SKIP() << "512 threads fit in 256 MiB here";
  EXPECT_EQ(WEXITSTATUS(status), 0);
}
#endif

}  // namespace
}  // namespace amimo
