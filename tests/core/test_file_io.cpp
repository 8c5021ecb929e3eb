#include <amimo/core/error.h>
#include <amimo/core/file_io.h>

#include <gtest/gtest.h>

#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

namespace amimo {
namespace {

namespace fs = std::filesystem;

class FileIo : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = fs::temp_directory_path() / ("amimo-test-fileio-" + std::string(info->name()) + "-" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  /// The io_error message of reading `path`, or "" when it does not throw one.
  static std::string read_error(const fs::path& path, std::uintmax_t cap = 1024) {
    try {
      (void)read_bounded_file(path, cap, "config file");
    } catch (const io_error& e) {
      return e.what();
    }
    return "";
  }

  fs::path dir_;
};

TEST_F(FileIo, ReadsARegularFileUpToTheCapExactly) {
  const std::string text(1024, 'x');
  std::ofstream(dir_ / "f.yaml", std::ios::binary) << text;
  EXPECT_EQ(read_bounded_file(dir_ / "f.yaml", 1024, "config file"), text);
  std::ofstream(dir_ / "empty.yaml", std::ios::binary).flush();
  EXPECT_EQ(read_bounded_file(dir_ / "empty.yaml", 1024, "config file"), "");
}

TEST_F(FileIo, RefusesFilesAboveTheCapNamingFileAndLimit) {
  std::ofstream(dir_ / "big.yaml", std::ios::binary) << std::string(1025, 'x');
  const std::string message = read_error(dir_ / "big.yaml");
  EXPECT_NE(message.find("big.yaml"), std::string::npos) << message;
  EXPECT_NE(message.find("1025 bytes"), std::string::npos) << message;
  EXPECT_NE(message.find("1024-byte limit"), std::string::npos) << message;
}

TEST_F(FileIo, RefusesDirectoriesFifosAndDevicesWithoutBlocking) {
  EXPECT_NE(read_error(dir_).find("is a directory"), std::string::npos);
  const fs::path fifo = dir_ / "fifo";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  EXPECT_NE(read_error(fifo).find("FIFO"), std::string::npos);  // would block forever if opened
  EXPECT_NE(read_error("/dev/zero").find("character device"), std::string::npos);
  const std::string missing = read_error(dir_ / "missing.yaml");
  EXPECT_NE(missing.find("missing.yaml"), std::string::npos);
  EXPECT_NE(missing.find("No such file"), std::string::npos) << missing;
  EXPECT_NE(read_error("").find("empty"), std::string::npos);
}

TEST_F(FileIo, WriterCreatesWithTheGivenModeAndLeavesOnlyTheTarget) {
  write_file_atomically(dir_ / "secret.key", "k\n", 0600);
  struct stat info {};
  ASSERT_EQ(::stat((dir_ / "secret.key").c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 0077U, 0U);  // no group/other bits, whatever the umask
  int files = 0;
  for ([[maybe_unused]] const auto& e : fs::directory_iterator(dir_)) ++files;
  EXPECT_EQ(files, 1);
}

TEST_F(FileIo, AbandonedOrFailedWritesLeaveNothingAndKeepTheOldFile) {
  write_file_atomically(dir_ / "out.csv", "old\n");
  {
    atomic_file_writer w(dir_ / "out.csv");
    w.write("new, half-written");
    EXPECT_TRUE(fs::exists(w.temporary()));
  }  // destroyed without commit
  std::ifstream in(dir_ / "out.csv");
  std::stringstream text;
  text << in.rdbuf();
  EXPECT_EQ(text.str(), "old\n");
  int files = 0;
  for ([[maybe_unused]] const auto& e : fs::directory_iterator(dir_)) ++files;
  EXPECT_EQ(files, 1);
  // A target that is a directory: rename fails, the temporary goes, the directory stays.
  fs::create_directories(dir_ / "adir");
  EXPECT_THROW(write_file_atomically(dir_ / "adir", "x"), io_error);
  EXPECT_TRUE(fs::is_directory(dir_ / "adir"));
  files = 0;
  for ([[maybe_unused]] const auto& e : fs::directory_iterator(dir_)) ++files;
  EXPECT_EQ(files, 2);
  EXPECT_THROW(write_file_atomically(dir_ / "missing-dir" / "x.csv", "x"), io_error);
}

}  // namespace
}  // namespace amimo
