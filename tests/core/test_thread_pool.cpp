#include <amimo/core/thread_pool.h>

#include <gtest/gtest.h>

#include <atomic>
#include <stdexcept>
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

TEST(ThreadPool, ZeroThreadsMeansOnePerCore) {
  thread_pool pool(0);
  EXPECT_EQ(pool.size(), thread_pool::hardware_threads());
}

}  // namespace
}  // namespace amimo
