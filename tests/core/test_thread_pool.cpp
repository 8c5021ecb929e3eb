#include <amimo/core/thread_pool.h>

#include <gtest/gtest.h>

#include <atomic>
#include <stdexcept>
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

}  // namespace
}  // namespace amimo
