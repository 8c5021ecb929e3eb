#include <amimo/core/error.h>
#include <amimo/report/atomic_file.h>

#include <string>
#include <system_error>

namespace amimo::report {

void ensure_writable_directory(const std::filesystem::path& directory) {
  std::error_code ec;
  std::filesystem::create_directories(directory, ec);
  if (ec || !std::filesystem::is_directory(directory)) {
    throw io_error("cannot create output directory '" + directory.string() + "'" +
                   (ec ? ": " + ec.message() : std::string(": not a directory")));
  }
  try {
    // The probe is created exactly as an output file would be, then removed.
    atomic_file_writer probe(directory / "write-probe");
    probe.discard();
  } catch (const io_error&) {
    throw io_error("output directory '" + directory.string() + "' is not writable");
  }
}

}  // namespace amimo::report
