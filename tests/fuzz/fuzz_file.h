#pragma once
// Fuzz targets whose code under test reads a file by path: the input is written to a file
// in a private temporary directory (created once per process, removed at its exit),
// overwritten per input.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>

namespace amimo::fuzz {

/// The directory, removed with its files when the process exits normally (every test run
/// left one behind).
inline const std::string& scratch_directory() {
  struct scratch {
    std::string path;
    scratch() {
      const char* base = std::getenv("TMPDIR");
      path = std::string(base != nullptr && *base != '\0' ? base : "/tmp") + "/amimo-fuzz-XXXXXX";
      if (mkdtemp(path.data()) == nullptr) std::abort();
    }
    ~scratch() {
      std::error_code ignored;
      std::filesystem::remove_all(path, ignored);
    }
    scratch(const scratch&) = delete;
    scratch& operator=(const scratch&) = delete;
  };
  static const scratch dir;
  return dir.path;
}

/// Writes data to scratch_directory()/name and returns the path.
inline std::string write_input(const std::string& name, const std::uint8_t* data, std::size_t size) {
  const std::string path = scratch_directory() + "/" + name;
  std::FILE* f = std::fopen(path.c_str(), "wb");
  if (f == nullptr) std::abort();
  if (size != 0 && std::fwrite(data, 1, size, f) != size) std::abort();
  std::fclose(f);
  return path;
}

}  // namespace amimo::fuzz
