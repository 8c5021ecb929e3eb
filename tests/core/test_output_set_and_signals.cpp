// output_file_set (lib/amimo/core/file_io.h) and the stop/broken-pipe handlers
// (lib/amimo/core/stop_signals.h) the executables share.

#include <amimo/core/error.h>
#include <amimo/core/file_io.h>
#include <amimo/core/stop_signals.h>

#include <gtest/gtest.h>

#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <csignal>
#include <filesystem>
#include <string>

namespace amimo {
namespace {

namespace fs = std::filesystem;

// The contents are owned by the set (the caller's strings may go), and a directory in the
// way of one file leaves none of them written.
TEST(OutputFileSet, OwnsItsContentsAndWritesAllOrNothing) {
  const fs::path dir = fs::temp_directory_path() / ("amimo-test-output-set-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir / "new" / "r.png");
  output_file_set set;
  {
    std::string csv = "a,b\n";
    set.add(dir / "r.csv", csv);
    csv = "overwritten";
    set.add(dir / "r.json", std::string("{}\n"));
  }
  EXPECT_EQ(set.size(), 2U);
  set.commit();
  EXPECT_EQ(read_bounded_file(dir / "r.csv", 64, "csv"), "a,b\n");
  EXPECT_EQ(read_bounded_file(dir / "r.json", 64, "json"), "{}\n");

  output_file_set blocked;
  blocked.add(dir / "new" / "r.csv", "x\n");
  blocked.add(dir / "new" / "r.png", "png");
  EXPECT_THROW(blocked.commit(), io_error);
  int files = 0;
  for ([[maybe_unused]] const auto& e : fs::directory_iterator(dir / "new")) ++files;
  EXPECT_EQ(files, 1);  // the directory in the way, nothing else
  fs::remove_all(dir);
}

// One flag for SIGINT and SIGTERM, the same on every call; SIGPIPE no longer kills.
TEST(StopSignals, StopHandlersSetOneFlagAndBrokenPipesAreIgnored) {
  const std::atomic<bool>& stop = install_stop_handlers();
  EXPECT_FALSE(stop.load());
  ASSERT_EQ(std::raise(SIGTERM), 0);
  EXPECT_TRUE(stop.load());
  EXPECT_EQ(&install_stop_handlers(), &stop);
  ASSERT_EQ(std::raise(SIGINT), 0);
  EXPECT_TRUE(stop.load());
  ignore_broken_pipe();
  ASSERT_EQ(std::raise(SIGPIPE), 0);  // default action: the test process dies here
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  ::close(fds[0]);
  errno = 0;
  EXPECT_EQ(::write(fds[1], "x", 1), -1);
  EXPECT_EQ(errno, EPIPE);
  ::close(fds[1]);
}

}  // namespace
}  // namespace amimo
