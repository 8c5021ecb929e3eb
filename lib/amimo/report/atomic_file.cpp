#include <amimo/core/error.h>
#include <amimo/report/atomic_file.h>

#include <atomic>
#include <cstdio>
#include <fstream>
#include <system_error>
#include <unistd.h>

namespace amimo::report {
namespace {

std::filesystem::path temporary_sibling(const std::filesystem::path& path) {
  static std::atomic<unsigned> counter{0};
  return path.parent_path() / ("." + path.filename().string() + ".tmp-" + std::to_string(::getpid()) + "-" +
                               std::to_string(counter++));
}

}  // namespace

void write_file_atomically(const std::filesystem::path& path, std::string_view content) {
  const std::filesystem::path temp = temporary_sibling(path);
  {
    std::ofstream out(temp, std::ios::binary | std::ios::trunc);
    if (out) out.write(content.data(), static_cast<std::streamsize>(content.size()));
    out.flush();
    if (!out) {
      std::error_code ignored;
      std::filesystem::remove(temp, ignored);
      throw io_error("cannot write '" + path.string() + "'");
    }
  }
  std::error_code ec;
  std::filesystem::rename(temp, path, ec);
  if (ec) {
    std::error_code ignored;
    std::filesystem::remove(temp, ignored);
    throw io_error("cannot write '" + path.string() + "': " + ec.message());
  }
}

void ensure_writable_directory(const std::filesystem::path& directory) {
  std::error_code ec;
  std::filesystem::create_directories(directory, ec);
  if (ec || !std::filesystem::is_directory(directory)) {
    throw io_error("cannot create output directory '" + directory.string() + "'" +
                   (ec ? ": " + ec.message() : std::string(": not a directory")));
  }
  const std::filesystem::path probe = temporary_sibling(directory / "write-probe");
  {
    std::ofstream out(probe, std::ios::binary);
    if (!out) throw io_error("output directory '" + directory.string() + "' is not writable");
  }
  std::filesystem::remove(probe, ec);
}

}  // namespace amimo::report
