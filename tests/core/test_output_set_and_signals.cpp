// output_file_set (lib/amimo/core/file_io.h) and the stop/broken-pipe handlers
// (lib/amimo/core/stop_signals.h) the executables share.

#include <amimo/core/error.h>
#include <amimo/core/file_io.h>
#include <amimo/core/stop_signals.h>

#include <gtest/gtest.h>

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <csignal>
#include <filesystem>
#include <string>
#include <vector>

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

// The files an earlier run wrote that this set does not: named ones and the charts that
// match a pattern are removed at commit, the set's own files, other files and directories
// stay; nothing happens before commit.
TEST(OutputFileSet, RemovesTheEarlierRunsFilesAtCommit) {
  const fs::path dir = fs::temp_directory_path() / ("amimo-test-output-stale-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir / "tornado_9_time.png");  // a directory: left alone
  for (const char* name : {"r.csv", "r.md", "tornado_8_time.png", "tornado_16_time.png", "tornado_16_energy.png",
                           "notes_time.png"}) {
    write_file_atomically(dir / name, "old");
  }
  output_file_set set;
  set.add(dir / "r.csv", "new");
  set.add(dir / "tornado_8_time.png", "new png");
  set.remove_stale(dir / "r.md");
  set.remove_stale_matching(dir, "tornado_", "_time.png");
  set.remove_stale_matching(dir / "missing", "tornado_", "_time.png");  // no folder: none
  EXPECT_TRUE(fs::exists(dir / "r.md"));
  set.commit();
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(dir)) names.push_back(e.path().filename().string());
  std::sort(names.begin(), names.end());
  EXPECT_EQ(names, (std::vector<std::string>{"notes_time.png", "r.csv", "tornado_16_energy.png", "tornado_8_time.png",
                                             "tornado_9_time.png"}));
  EXPECT_EQ(read_bounded_file(dir / "tornado_8_time.png", 64, "png"), "new png");
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
