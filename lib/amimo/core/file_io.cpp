#include <amimo/core/error.h>
#include <amimo/core/file_io.h>

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <mutex>
#include <random>
#include <system_error>
#include <utility>
#include <vector>

namespace amimo {
namespace {

std::string system_message(int error) { return std::error_code(error, std::generic_category()).message(); }

std::string quoted(const std::filesystem::path& path) { return "'" + path.string() + "'"; }

const char* kind_of(mode_t mode) noexcept {
  if (S_ISDIR(mode)) return "it is a directory";
  if (S_ISFIFO(mode)) return "it is a FIFO (named pipe), not a regular file";
  if (S_ISCHR(mode)) return "it is a character device, not a regular file";
  if (S_ISBLK(mode)) return "it is a block device, not a regular file";
  if (S_ISSOCK(mode)) return "it is a socket, not a regular file";
  return "it is not a regular file";
}

/// Closes a descriptor on scope exit.
struct fd_guard {
  int fd = -1;
  fd_guard(const fd_guard&) = delete;
  fd_guard& operator=(const fd_guard&) = delete;
  explicit fd_guard(int f) noexcept : fd(f) {}
  ~fd_guard() {
    if (fd >= 0) ::close(fd);
  }
};

std::mutex g_name_mutex;
std::function<std::uint64_t()> g_name_source;  // tests only

std::uint64_t next_name_value() {
  {
    const std::lock_guard lock(g_name_mutex);
    if (g_name_source) return g_name_source();
  }
  thread_local std::mt19937_64 generator = [] {
    std::random_device device;
    std::seed_seq seed{device(), device(), device(), device()};
    return std::mt19937_64(seed);
  }();
  return generator();
}

// A file-size limit (RLIMIT_FSIZE) sends SIGXFSZ, whose default action kills the process
// and leaves the temporaries half-written; ignored (once, and only while it still has its
// default action, so a program's own handler stays), the write fails with EFBIG and is
// reported and cleaned up like any other.
void ignore_file_size_signal() noexcept {
  static std::once_flag once;
  std::call_once(once, [] {
    struct sigaction current {};
    if (::sigaction(SIGXFSZ, nullptr, &current) == 0 && current.sa_handler == SIG_DFL &&
        (current.sa_flags & SA_SIGINFO) == 0) {
      struct sigaction ignore {};
      ignore.sa_handler = SIG_IGN;
      sigemptyset(&ignore.sa_mask);
      (void)::sigaction(SIGXFSZ, &ignore, nullptr);
    }
  });
}

// A name next to `target` for a hidden companion file ("." + stem + tag + 16 hex digits),
// kept within NAME_MAX: a long (legal) target name is shortened in the companion's name
// instead of making the companion impossible to create.
std::filesystem::path companion_name(const std::filesystem::path& target, const char* tag, std::uint64_t value) {
  char suffix[48];
  std::snprintf(suffix, sizeof suffix, "%s%016llx", tag, static_cast<unsigned long long>(value));
  constexpr std::size_t name_max = 255;
  std::string stem = target.filename().string();
  const std::size_t room = name_max - 1 - std::char_traits<char>::length(suffix);
  if (stem.size() > room) stem.resize(room);
  return target.parent_path() / ("." + stem + suffix);
}

}  // namespace

std::string read_bounded_file(const std::filesystem::path& path, std::uintmax_t max_bytes, std::string_view what) {
  const std::string prefix = "cannot read " + std::string(what) + " " + quoted(path) + ": ";
  if (path.empty()) throw io_error("cannot read " + std::string(what) + ": the path is empty");
  // stat before open: opening some devices has side effects, and a FIFO would block.
  struct stat info {};
  if (::stat(path.c_str(), &info) != 0) throw io_error(prefix + system_message(errno));
  if (!S_ISREG(info.st_mode)) throw io_error(prefix + kind_of(info.st_mode));
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
  if (fd < 0) throw io_error(prefix + system_message(errno));
  const fd_guard guard(fd);
  // The file may have been swapped between stat and open: check what was opened.
  if (::fstat(fd, &info) != 0) throw io_error(prefix + system_message(errno));
  if (!S_ISREG(info.st_mode)) throw io_error(prefix + kind_of(info.st_mode));
  const auto too_large = [&](std::uintmax_t size) {
    return io_error(prefix + "it is " + std::to_string(size) + " bytes, more than the " + std::to_string(max_bytes) +
                    "-byte limit for a " + std::string(what));
  };
  const auto declared = static_cast<std::uintmax_t>(info.st_size);
  if (declared > max_bytes) throw too_large(declared);
  std::string text;
  text.resize(static_cast<std::size_t>(declared) + 1);  // one more byte shows growth
  std::size_t used = 0;
  for (;;) {
    if (used == text.size()) {
      if (used > max_bytes) throw too_large(used);
      text.resize(std::min<std::size_t>(text.size() * 2 + 4096, static_cast<std::size_t>(max_bytes) + 1));
    }
    const ssize_t got = ::read(fd, text.data() + used, text.size() - used);
    if (got < 0) {
      if (errno == EINTR) continue;
      throw io_error(prefix + system_message(errno));
    }
    if (got == 0) break;
    used += static_cast<std::size_t>(got);
  }
  if (used > max_bytes) throw too_large(used);
  text.resize(used);
  return text;
}

// ---------------------------------------------------------------------------------------

atomic_file_writer::atomic_file_writer(std::filesystem::path target, unsigned mode) : target_(std::move(target)) {
  if (target_.empty() || !target_.has_filename()) {
    throw io_error("cannot write " + quoted(target_) + ": not a file name");
  }
  ignore_file_size_signal();
  int error = 0;
  for (int attempt = 0; attempt < file_io_testing::temporary_name_attempts; ++attempt) {
    std::filesystem::path candidate = file_io_testing::temporary_name(target_, next_name_value());
    // O_EXCL: never an existing file; O_NOFOLLOW: never through a symlink (with O_EXCL a
    // symlink at the name already fails with EEXIST; both are said, neither is relied on alone).
    const int fd = ::open(candidate.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY,
                          static_cast<mode_t>(mode));
    if (fd >= 0) {
      fd_ = fd;
      temporary_ = std::move(candidate);
      return;
    }
    error = errno;
    if (error != EEXIST && error != ELOOP && error != EINTR) break;
  }
  throw io_error("cannot write " + quoted(target_) + ": cannot create a temporary file in " +
                 quoted(target_.parent_path().empty() ? std::filesystem::path(".") : target_.parent_path()) + ": " +
                 system_message(error));
}

atomic_file_writer::~atomic_file_writer() {
  if (!committed_) discard();
}

void atomic_file_writer::discard() noexcept {
  if (fd_ >= 0) {
    ::close(fd_);
    fd_ = -1;
  }
  if (!committed_ && !temporary_.empty()) {
    ::unlink(temporary_.c_str());
    temporary_.clear();
  }
}

void atomic_file_writer::fail(const std::string& problem) {
  discard();
  throw io_error("cannot write " + quoted(target_) + ": " + problem);
}

void atomic_file_writer::write(const void* data, std::size_t size) {
  if (fd_ < 0) fail("write after finish, commit or a failure");
  const auto* bytes = static_cast<const char*>(data);
  while (size > 0) {
    const ssize_t put = ::write(fd_, bytes, size);
    if (put < 0) {
      if (errno == EINTR) continue;
      fail(system_message(errno));
    }
    bytes += put;
    size -= static_cast<std::size_t>(put);
  }
}

void atomic_file_writer::finish() {
  if (temporary_.empty()) fail("finish after commit or a failure");
  if (fd_ < 0) return;  // finished already
  if (::fsync(fd_) != 0) fail(system_message(errno));
  const int fd = std::exchange(fd_, -1);
  if (::close(fd) != 0) fail(system_message(errno));
}

void atomic_file_writer::commit() {
  finish();
  if (::rename(temporary_.c_str(), target_.c_str()) != 0) fail("rename failed: " + system_message(errno));
  committed_ = true;
  temporary_.clear();
  // The rename itself is durable only once the directory is synced (best effort).
  const std::filesystem::path dir = target_.parent_path().empty() ? std::filesystem::path(".") : target_.parent_path();
  const int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    (void)::fsync(dfd);
    ::close(dfd);
  }
}

void write_file_atomically(const std::filesystem::path& path, std::string_view content, unsigned mode) {
  atomic_file_writer out(path, mode);
  out.write(content);
  out.commit();
}

void write_file_set_atomically(std::span<const output_file> files, unsigned mode,
                               std::span<const std::filesystem::path> stale) {
  // A writer not committed removes its temporary, so any throw below leaves no temporary.
  std::vector<std::unique_ptr<atomic_file_writer>> writers;
  writers.reserve(files.size());
  for (const output_file& f : files) {
    writers.push_back(std::make_unique<atomic_file_writer>(f.path, f.mode.value_or(mode)));
    writers.back()->write(f.content);
    writers.back()->finish();
  }
  // Checked before the first rename: a directory at a later target would strike after the
  // earlier files were renamed.
  for (const auto& w : writers) {
    std::error_code ec;
    if (std::filesystem::is_directory(std::filesystem::symlink_status(w->target(), ec))) {
      throw io_error("cannot write " + quoted(w->target()) + ": a directory is in the way");
    }
  }
  // The renames as one step: every existing target is first hard-linked to a backup name;
  // a rename that fails puts the backups back and removes the new files that had no
  // predecessor, so the previous set stands whole. A target that cannot be linked (a file
  // system without hard links, fs.protected_hardlinks and another user's file in our own
  // directory) can often still be replaced by rename, so it is written without a backup, as
  // a single file would be: only a later failure in the same set then leaves it new.
  struct slot {
    std::filesystem::path backup;  // empty: no backup (no previous file, or not linkable)
    bool existed = false;
  };
  std::vector<slot> slots(writers.size());
  const auto remove_backups = [&] {
    for (const slot& sl : slots) {
      if (!sl.backup.empty()) (void)::unlink(sl.backup.c_str());
    }
  };
  for (std::size_t i = 0; i < writers.size(); ++i) {
    const std::filesystem::path& target = writers[i]->target();
    struct stat st {};
    if (::lstat(target.c_str(), &st) != 0) {
      if (errno == ENOENT) continue;
      const int error = errno;
      remove_backups();
      throw io_error("cannot write " + quoted(target) + ": " + system_message(error));
    }
    slots[i].existed = true;
    for (int attempt = 0; attempt < file_io_testing::temporary_name_attempts; ++attempt) {
      std::filesystem::path candidate = companion_name(target, ".bak-", next_name_value());
      if (::link(target.c_str(), candidate.c_str()) == 0) {
        slots[i].backup = std::move(candidate);
        break;
      }
      if (errno != EEXIST && errno != EINTR) break;  // not linkable: no backup
    }
  }
  // An earlier run's files this set does not produce are moved aside (to a backup name,
  // never over an existing file) before the first rename, and deleted only once every
  // rename succeeded; a failure puts them back.
  struct moved {
    std::filesystem::path from;
    std::filesystem::path backup;
  };
  std::vector<moved> moved_aside;
  const auto put_back_moved = [&] {
    for (const moved& m : moved_aside) (void)::rename(m.backup.c_str(), m.from.c_str());
    moved_aside.clear();
  };
  for (const std::filesystem::path& path : stale) {
    const bool written = std::any_of(writers.begin(), writers.end(), [&](const auto& w) {
      return w->target().lexically_normal() == path.lexically_normal();
    });
    if (written || std::any_of(moved_aside.begin(), moved_aside.end(),
                               [&](const moved& m) { return m.from.lexically_normal() == path.lexically_normal(); })) {
      continue;
    }
    struct stat st {};
    if (::lstat(path.c_str(), &st) != 0 && errno == ENOENT) continue;
    if (S_ISDIR(st.st_mode)) continue;  // not a file of a set
    int error = 0;
    bool done = false;
    for (int attempt = 0; attempt < file_io_testing::temporary_name_attempts && !done; ++attempt) {
      std::filesystem::path candidate = companion_name(path, ".bak-", next_name_value());
      if (::renameat2(AT_FDCWD, path.c_str(), AT_FDCWD, candidate.c_str(), RENAME_NOREPLACE) == 0) {
        moved_aside.push_back({path, std::move(candidate)});
        done = true;
        break;
      }
      error = errno;
      if (error == ENOENT) {  // gone meanwhile: nothing to remove
        done = true;
        break;
      }
      if (error != EEXIST && error != EINTR) break;
    }
    if (!done) {
      put_back_moved();
      remove_backups();
      throw io_error("cannot remove " + quoted(path) + " (a file of an earlier run that this one does not write): " +
                     system_message(error));
    }
  }
  for (std::size_t i = 0; i < writers.size(); ++i) {
    try {
      writers[i]->commit();
    } catch (const io_error&) {
      for (std::size_t k = 0; k < i; ++k) {
        const std::filesystem::path& target = writers[k]->target();
        if (!slots[k].backup.empty()) {
          (void)::rename(slots[k].backup.c_str(), target.c_str());
          slots[k].backup.clear();
        } else if (!slots[k].existed) {
          (void)::unlink(target.c_str());
        }
      }
      put_back_moved();
      remove_backups();
      throw;
    }
  }
  remove_backups();
  for (const moved& m : moved_aside) (void)::unlink(m.backup.c_str());
}

void output_file_set::add(std::filesystem::path path, std::string content) {
  files_.emplace_back(std::move(path), std::move(content));
}

void output_file_set::remove_stale(std::filesystem::path path) { stale_.push_back(std::move(path)); }

void output_file_set::remove_stale_matching(const std::filesystem::path& directory, std::string_view prefix,
                                            std::string_view suffix) {
  std::error_code ec;
  std::filesystem::directory_iterator it(directory, ec);
  if (ec) {
    if (ec == std::errc::no_such_file_or_directory) return;
    throw io_error("cannot list " + quoted(directory) + ": " + ec.message());
  }
  for (; it != std::filesystem::directory_iterator(); it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (name.size() < prefix.size() + suffix.size() || name.compare(0, prefix.size(), prefix) != 0 ||
        name.compare(name.size() - suffix.size(), suffix.size(), suffix) != 0) {
      continue;
    }
    std::error_code type_error;
    if (it->is_directory(type_error)) continue;
    stale_.push_back(it->path());
  }
  if (ec) throw io_error("cannot list " + quoted(directory) + ": " + ec.message());
}

void output_file_set::commit(unsigned mode) const {
  std::vector<output_file> files;
  files.reserve(files_.size());
  for (const auto& [path, content] : files_) files.push_back({path, content});
  write_file_set_atomically(files, mode, stale_);
}

namespace file_io_testing {

void set_temporary_name_source(std::function<std::uint64_t()> source) {
  const std::lock_guard lock(g_name_mutex);
  g_name_source = std::move(source);
}

std::filesystem::path temporary_name(const std::filesystem::path& target, std::uint64_t value) {
  return companion_name(target, ".tmp-", value);
}

}  // namespace file_io_testing
}  // namespace amimo
