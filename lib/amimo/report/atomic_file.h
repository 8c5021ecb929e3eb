#pragma once
// Files appear whole or not at all: content goes to a temporary file in the target's
// directory, which is renamed over the target only once it was written completely.

#include <filesystem>
#include <string_view>

namespace amimo::report {

/// Throws amimo::io_error naming the path; never leaves the temporary file behind.
void write_file_atomically(const std::filesystem::path& path, std::string_view content);

/// Creates the directory (and parents) if needed and checks a file can be created in it.
/// Throws amimo::io_error naming the directory otherwise. Creates nothing on failure
/// beyond directories that could be created.
void ensure_writable_directory(const std::filesystem::path& directory);

}  // namespace amimo::report
