#include <amimo/core/error.h>
#include <amimo/report/atomic_file.h>

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <unistd.h>

namespace amimo::report {
namespace {

std::filesystem::path fresh_dir(const std::string& name) {
  const auto dir = std::filesystem::temp_directory_path() / ("amimo-test-" + name + "-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  return dir;
}

TEST(AtomicFile, WritesContentAndLeavesNoTemporaryFiles) {
  const auto dir = fresh_dir("atomic");
  ensure_writable_directory(dir / "nested");
  write_file_atomically(dir / "nested" / "a.txt", "first");
  write_file_atomically(dir / "nested" / "a.txt", "second");
  std::ifstream in(dir / "nested" / "a.txt");
  std::stringstream text;
  text << in.rdbuf();
  EXPECT_EQ(text.str(), "second");
  int files = 0;
  for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator(dir / "nested")) ++files;
  EXPECT_EQ(files, 1);
  std::filesystem::remove_all(dir);
}

TEST(AtomicFile, UnwritableTargetsThrowIoErrorNamingThePath) {
  const auto dir = fresh_dir("blocked");
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "plainfile") << "x";
  try {
    ensure_writable_directory(dir / "plainfile" / "sub");
    FAIL() << "expected io_error";
  } catch (const io_error& e) {
    EXPECT_NE(std::string(e.what()).find("plainfile"), std::string::npos);
  }
  EXPECT_THROW(write_file_atomically(dir / "missing" / "x.csv", "data"), io_error);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace amimo::report
