#pragma once
// Files appear whole or not at all, and a planted file or symlink never redirects a write:
// every output file goes through amimo::atomic_file_writer (lib/amimo/core/file_io.h),
// which creates a unique temporary with O_EXCL|O_NOFOLLOW in the target's directory,
// writes, fsyncs and renames it over the target. This header keeps the report:: names.

#include <amimo/core/file_io.h>

#include <filesystem>
#include <string_view>

namespace amimo::report {

/// Throws amimo::io_error naming the path; never leaves the temporary file behind.
using amimo::write_file_atomically;
using amimo::atomic_file_writer;
using amimo::output_file;
using amimo::write_file_set_atomically;

/// Creates the directory (and parents) if needed and checks a file can be created in it.
/// Throws amimo::io_error naming the directory otherwise. Creates nothing on failure
/// beyond directories that could be created.
void ensure_writable_directory(const std::filesystem::path& directory);

}  // namespace amimo::report
