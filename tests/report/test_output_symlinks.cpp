// Planted symlinks in a shared output directory must never redirect a write. For every
// output writer (the generic one behind CSV/JSON/markdown/port files, PNG, Matrix Market,
// SigMF data + metadata, the writable-directory probe) the test fixes the sequence of
// temporary names the writer draws, plants a symlink at every one of them it will try
// (and at the old predictable names, and at the target itself), each pointing at a victim
// file or at a path that must not come into existence, runs the writer, and checks: every
// victim is byte-for-byte untouched, no dangling target was created, every planted link
// is still a link, and the target is a regular file holding the complete content.
#include <amimo/core/error.h>
#include <amimo/core/file_io.h>
#include <amimo/core/matrix_market.h>
#include <amimo/radio/sigmf.h>
#include <amimo/report/atomic_file.h>
#include <amimo/report/png_image.h>

#include <gtest/gtest.h>

#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <functional>
#include <optional>
#include <map>
#include <sstream>
#include <string>
#include <vector>

namespace amimo {
namespace {

namespace fs = std::filesystem;

constexpr std::uint64_t kBase = 0xA11CE00000000000ULL;

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

class OutputSymlinks : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    root_ = fs::temp_directory_path() / ("amimo-test-symlinks-" + std::string(info->name()) + "-" +
                                         std::to_string(::getpid()));
    fs::remove_all(root_);
    out_ = root_ / "shared-out";
    victims_ = root_ / "victims";
    fs::create_directories(out_);
    fs::create_directories(victims_);
  }
  void TearDown() override {
    file_io_testing::set_temporary_name_source({});
    fs::remove_all(root_);
  }

  /// Every writer draws names kBase + 0, 1, …, planted - 1 (all taken by symlinks), then
  /// kBase + planted (free); the next writer starts again at kBase.
  void fix_names(int planted) {
    file_io_testing::set_temporary_name_source(
        [n = std::uint64_t{0}, period = static_cast<std::uint64_t>(planted) + 1]() mutable {
          return kBase + n++ % period;
        });
  }

  /// A symlink at `link` to a new victim file (every other one dangling instead).
  void plant(const fs::path& link) {
    const std::size_t i = victims_list_.size();
    const fs::path victim = victims_ / ("victim-" + std::to_string(i));
    if (i % 2 == 0) {
      const std::string content = "victim " + std::to_string(i) + " must stay as it is\n";
      std::ofstream(victim, std::ios::binary) << content;
      victims_list_.push_back({victim, content});
    } else {
      victims_list_.push_back({victim, std::nullopt});  // dangling: must not be created
    }
    fs::create_symlink(victim, link);
    links_.push_back(link);
  }

  /// Symlinks at the `planted` temporary names a writer of `target` tries, at the old
  /// predictable names, and at the target itself.
  void plant_for(const fs::path& target, int planted) {
    for (int i = 0; i < planted; ++i) {
      plant(file_io_testing::temporary_name(target, kBase + static_cast<std::uint64_t>(i)));
    }
    plant(fs::path(target.string() + ".tmp"));
    plant(target.parent_path() / ("." + target.filename().string() + ".tmp-" + std::to_string(::getpid()) + "-0"));
    plant(target);
  }

  void expect_victims_untouched() const {
    for (const auto& [victim, content] : victims_list_) {
      if (content) {
        EXPECT_EQ(slurp(victim), *content) << victim;
      } else {
        EXPECT_FALSE(fs::exists(fs::symlink_status(victim))) << victim << " was created through a symlink";
      }
    }
    for (const fs::path& link : links_) {
      const bool is_target = std::find(targets_.begin(), targets_.end(), link) != targets_.end();
      if (!is_target) {
        EXPECT_TRUE(fs::is_symlink(link)) << link << " was replaced";
      }
    }
  }

  void expect_complete(const fs::path& target, const std::string& content) {
    EXPECT_FALSE(fs::is_symlink(target)) << target;
    EXPECT_TRUE(fs::is_regular_file(fs::symlink_status(target))) << target;
    EXPECT_EQ(slurp(target), content) << target;
  }

  /// Files in out_ that are neither planted links nor targets (leftover temporaries).
  int stray_files() const {
    int stray = 0;
    for (const auto& e : fs::directory_iterator(out_)) {
      const bool planted = std::find(links_.begin(), links_.end(), e.path()) != links_.end();
      if (!planted) ++stray;
    }
    return stray;
  }

  fs::path root_, out_, victims_;
  std::vector<std::pair<fs::path, std::optional<std::string>>> victims_list_;
  std::vector<fs::path> links_;
  std::vector<fs::path> targets_;
};

constexpr int kPlanted = 12;

TEST_F(OutputSymlinks, GenericWriterCsvJsonMarkdownPortFiles) {
  std::string content;
  for (int i = 0; i < 20000; ++i) content += "row," + std::to_string(i) + "\n";  // > one page
  targets_ = {out_ / "ber.csv", out_ / "ber.json", out_ / "paper_reproduction.md", out_ / "solverd.port"};
  for (const auto& t : targets_) plant_for(t, kPlanted);
  fix_names(kPlanted);
  for (const auto& t : targets_) report::write_file_atomically(t, content + t.filename().string());
  expect_victims_untouched();
  for (const auto& t : targets_) expect_complete(t, content + t.filename().string());
  EXPECT_EQ(stray_files(), 0);
}

TEST_F(OutputSymlinks, PngWriter) {
  report::rgb_image image(37, 23, {10, 20, 30});
  image.set_pixel(5, 7, {200, 100, 50});
  const fs::path target = out_ / "ber.png";
  targets_ = {target};
  plant_for(target, kPlanted);
  fix_names(kPlanted);
  report::write_png(target, image);
  expect_victims_untouched();
  EXPECT_FALSE(fs::is_symlink(target));
  const report::rgb_image back = report::read_png(target);
  ASSERT_EQ(back.width(), 37);
  ASSERT_EQ(back.height(), 23);
  EXPECT_EQ(back.data(), image.data());
  EXPECT_EQ(stray_files(), 0);
}

TEST_F(OutputSymlinks, MatrixMarketWriter) {
  cmat a(3, 3);
  a << cf64(1, 0), cf64(2, 0), cf64(0, 0), cf64(0, 0), cf64(4, 0.5), cf64(0, 0), cf64(7, 0), cf64(0, 0), cf64(9, 0);
  const fs::path target = out_ / "a.mtx";
  targets_ = {target};
  plant_for(target, kPlanted);
  fix_names(kPlanted);
  write_matrix_market(target.string(), a);
  expect_victims_untouched();
  EXPECT_FALSE(fs::is_symlink(target));
  EXPECT_EQ(read_matrix_market(target.string()), a);
  EXPECT_EQ(stray_files(), 0);
}

TEST_F(OutputSymlinks, SigmfDataAndMetadata) {
  const fs::path base = out_ / "rec";
  const fs::path data = out_ / "rec.sigmf-data";
  const fs::path meta = out_ / "rec.sigmf-meta";
  targets_ = {data, meta};
  plant_for(data, kPlanted);
  plant_for(meta, kPlanted);
  fix_names(kPlanted);
  radio::sigmf_options options;
  options.datetime = "2025-01-01T00:00:00Z";
  auto sink = radio::create_sigmf_sink(base.string(), {2, 1e6, 0.0}, options);
  std::vector<cf32> c0(70000), c1(70000);  // beyond the sink's 1 MiB buffer
  for (std::size_t i = 0; i < c0.size(); ++i) {
    c0[i] = cf32(static_cast<float>(i), 1.0F);
    c1[i] = cf32(-static_cast<float>(i), 2.0F);
  }
  const cf32* channels[] = {c0.data(), c1.data()};
  sink->write(channels, c0.size());
  sink->close();
  expect_victims_untouched();
  EXPECT_FALSE(fs::is_symlink(data));
  EXPECT_FALSE(fs::is_symlink(meta));
  EXPECT_EQ(fs::file_size(data), c0.size() * 2 * sizeof(cf32));  // complete
  const radio::sigmf_metadata m = radio::read_sigmf_metadata(base.string());
  EXPECT_EQ(m.channels, 2);
  EXPECT_EQ(m.total_samples, c0.size());
  EXPECT_EQ(stray_files(), 0);
}

TEST_F(OutputSymlinks, WritableDirectoryProbe) {
  const fs::path probe_target = out_ / "write-probe";
  plant_for(probe_target, kPlanted);
  fs::remove(probe_target);  // the probe's target is never written; its links are the temporaries
  links_.pop_back();
  fix_names(kPlanted);
  report::ensure_writable_directory(out_);
  expect_victims_untouched();
  EXPECT_EQ(stray_files(), 0);
}

TEST_F(OutputSymlinks, EveryNameTakenFailsCleanly) {
  const fs::path target = out_ / "ber.csv";
  targets_ = {};
  plant_for(target, file_io_testing::temporary_name_attempts);
  fix_names(file_io_testing::temporary_name_attempts);
  try {
    report::write_file_atomically(target, "data");
    FAIL() << "expected io_error";
  } catch (const io_error& e) {
    EXPECT_NE(std::string(e.what()).find("ber.csv"), std::string::npos) << e.what();
  }
  expect_victims_untouched();  // the target link is untouched too
  EXPECT_TRUE(fs::is_symlink(target));
  EXPECT_EQ(stray_files(), 0);
}

}  // namespace
}  // namespace amimo
