#pragma once
// The one place amimo opens files named by a user:
//  - read_bounded_file reads an input file (configuration, profile, Matrix Market, SigMF
//    metadata, PNG) only if it is a regular file no larger than a stated cap, so a
//    directory, a FIFO, a device such as /dev/zero or a runaway file is refused with a
//    message naming the file and the problem instead of hanging or exhausting memory;
//  - atomic_file_writer writes every output file: a temporary with an unpredictable name
//    created with O_CREAT|O_EXCL|O_NOFOLLOW in the target's directory (a planted file or
//    symlink is never opened, let alone followed), written, fsync'ed, then renamed over
//    the target (a symlink at the target is replaced, never followed). Nothing
//    half-written is ever visible under the target's name, and the temporary is removed
//    whenever the write does not complete.

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace amimo {

/// Caps on input files (bytes). Documented in README "Limits".
inline constexpr std::uintmax_t max_config_file_bytes = std::uintmax_t{1} << 20U;           // YAML configs, profiles
inline constexpr std::uintmax_t max_matrix_market_file_bytes = std::uintmax_t{256} << 20U;  // .mtx
inline constexpr std::uintmax_t max_sigmf_meta_file_bytes = std::uintmax_t{16} << 20U;      // .sigmf-meta
inline constexpr std::uintmax_t max_png_file_bytes = std::uintmax_t{64} << 20U;             // PNG inputs

/// Reads the whole file at `path` if it is a regular file of at most `max_bytes` bytes.
/// `what` names the kind of file in messages ("config file", "Matrix Market file").
/// Throws amimo::io_error "cannot read WHAT 'PATH': PROBLEM" otherwise (missing, a
/// directory, not a regular file, larger than the cap, a read error). Never blocks on a
/// FIFO and never reads more than max_bytes + 1 bytes.
std::string read_bounded_file(const std::filesystem::path& path, std::uintmax_t max_bytes, std::string_view what);

/// An output file being written; see the header comment. Not thread-safe (one writer per
/// file); any number of writers may run at once in one directory.
class atomic_file_writer {
 public:
  /// Creates the temporary next to `target` with permissions `mode` (before the umask;
  /// 0600 for secrets). Throws amimo::io_error naming the target when it cannot. The first
  /// writer sets SIGXFSZ to ignored if it still has its default action (which kills the
  /// process at a file-size limit): the write then fails with an error instead.
  explicit atomic_file_writer(std::filesystem::path target, unsigned mode = 0666);
  atomic_file_writer(const atomic_file_writer&) = delete;
  atomic_file_writer& operator=(const atomic_file_writer&) = delete;
  /// Removes the temporary unless commit() succeeded. Never throws.
  ~atomic_file_writer();

  /// Appends bytes (the whole buffer, retrying short writes). Throws amimo::io_error.
  void write(const void* data, std::size_t size);
  void write(std::string_view text) { write(text.data(), text.size()); }

  /// Flushes the data to the disk (fsync) and closes the temporary; after this only
  /// commit() is allowed. Lets several files be completed before any is renamed.
  void finish();
  /// finish() if needed, then renames the temporary over the target and syncs the
  /// directory. Throws amimo::io_error (the temporary is removed, the target untouched).
  void commit();
  /// Removes the temporary now (as the destructor would). Never throws.
  void discard() noexcept;

  const std::filesystem::path& target() const noexcept { return target_; }
  const std::filesystem::path& temporary() const noexcept { return temporary_; }

 private:
  [[noreturn]] void fail(const std::string& problem);

  std::filesystem::path target_;
  std::filesystem::path temporary_;
  int fd_ = -1;
  bool committed_ = false;
};

/// Writes `content` to `path` through an atomic_file_writer.
void write_file_atomically(const std::filesystem::path& path, std::string_view content, unsigned mode = 0666);

/// One file of an output set (write_file_set_atomically); `content` must outlive the call.
struct output_file {
  std::filesystem::path path;
  std::string_view content;
  std::optional<unsigned> mode = std::nullopt;  ///< permissions of this file; none: the set's `mode`
};

/// Writes files that are one result (a run's CSV, JSON and images) as a set: every file is
/// written to its temporary and synced first; then, if no target name is a directory, every
/// existing target is hard-linked to a backup and all are renamed; a rename that fails puts
/// the backups back (and removes new files that had no predecessor). So a failure (a full
/// disk, a file-size limit, a directory in the way, a target that cannot be replaced) leaves
/// the previous run's set as it was — never new files beside an old run's — and no temporary
/// or backup behind. Throws amimo::io_error naming the file. (A target that cannot be
/// hard-linked — a file system without hard links, another user's file under
/// fs.protected_hardlinks — is replaced without a backup, as a single file would be, so a
/// later failure in the same set leaves that one new; a crash between the renames can still
/// leave a mixed set, with the backups as hidden ".name.bak-…" files beside it.)
///
/// `stale` names files of an earlier run's set that this one does not produce (an
/// interrupted run's missing files, charts of sizes not reached): in the same step, each
/// that exists (a directory there is left alone; a name also in `files` is written, not
/// removed) is moved to a backup name before the renames and deleted after them, or put
/// back if the set fails, so the directory holds either the previous set or exactly the new
/// one. One that cannot be moved aside fails the set (io_error naming it) before any rename.
void write_file_set_atomically(std::span<const output_file> files, unsigned mode = 0666,
                               std::span<const std::filesystem::path> stale = {});

/// A result's output files assembled in memory (contents owned), then written together by
/// commit() through write_file_set_atomically: a writer adds its CSV, JSON and encoded PNGs
/// and nothing reaches the disk until every file of the set is ready.
class output_file_set {
 public:
  void add(std::filesystem::path path, std::string content);
  /// Marks `path` as a file of this result that this run may not produce (a study an
  /// interrupted run did not reach): commit() removes an earlier run's file there together
  /// with writing the set, unless the set also add()s it. Nothing happens until commit().
  void remove_stale(std::filesystem::path path);
  /// remove_stale() for every entry of `directory` (not its subfolders) whose name starts
  /// with `prefix` and ends with `suffix` and that is not a directory: the charts of an
  /// earlier run made with other options ("tornado_" … "_time.png"). A missing directory
  /// has none. Throws amimo::io_error when the directory cannot be listed.
  void remove_stale_matching(const std::filesystem::path& directory, std::string_view prefix,
                             std::string_view suffix);
  /// Writes every file added and removes the stale ones, as one set
  /// (write_file_set_atomically). Throws amimo::io_error.
  void commit(unsigned mode = 0666) const;
  std::size_t size() const noexcept { return files_.size(); }

 private:
  std::vector<std::pair<std::filesystem::path, std::string>> files_;
  std::vector<std::filesystem::path> stale_;
};

namespace file_io_testing {
/// Tests only: the 64-bit values that name temporaries ("." + filename + ".tmp-" + 16 hex
/// digits, the filename shortened to keep the name within 255 bytes) and backups
/// (".bak-") come from `source` instead of the system's random generator; an empty function
/// restores it. Lets a test plant files and symlinks at every name a writer will try.
void set_temporary_name_source(std::function<std::uint64_t()> source);
/// The temporary name a writer of `target` derives from `value`.
std::filesystem::path temporary_name(const std::filesystem::path& target, std::uint64_t value);
/// How many names a writer tries before it gives up.
inline constexpr int temporary_name_attempts = 64;
}  // namespace file_io_testing

}  // namespace amimo
