// What a sweep writes: each analog curve names its own profile, and ber.csv / ber.json /
// ber.png change together or not at all.
#include <amimo/core/error.h>
#include <amimo/core/file_io.h>
#include <amimo/sweep/sweep_output.h>

#include "sweep_test_support.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>

namespace amimo::sweep {
namespace {

namespace fs = std::filesystem;
using testing::run_quietly;

sweep_config tiny_config() {
  sweep_config c;
  c.antennas = 8;
  c.users = 2;
  c.modulation = modem::modulation::qpsk;
  c.detectors = {detect::detector_kind::zf};
  c.snr_db = {10.0};
  c.vectors_per_channel = 16;
  c.min_errors = 100;
  c.max_bits = 1000;
  c.threads = 1;
  return c;
}

// analog_profile of each curve in ber.json, by solver label.
std::map<std::string, std::string> json_profiles(const sweep_config& c, const sweep_result& r) {
  std::map<std::string, std::string> profiles;
  const nlohmann::json doc = nlohmann::json::parse(to_json(c, "test", r));
  for (const auto& p : doc["points"]) {
    profiles[p["solver"].get<std::string>()] = p["analog_profile"].is_null() ? "" : p["analog_profile"].get<std::string>();
  }
  return profiles;
}

// The last CSV field (analog_profile) of the row whose solver column is `solver`.
std::string csv_profile(const std::string& csv, const std::string& solver) {
  std::istringstream rows(csv);
  std::string row;
  while (std::getline(rows, row)) {
    if (row.find(",zf," + solver + ",") == std::string::npos) continue;
    const std::size_t open = row.rfind(",\"");
    return open == std::string::npos ? "" : row.substr(open + 2, row.size() - open - 3);
  }
  return "not found";
}

bool starts_with(const std::string& text, const std::string& prefix) { return text.rfind(prefix, 0) == 0; }

// Two analog entries of one backend with different profiles: each curve's figures are its own
// profile's (they once all said the default profile in CSV/JSON/PNG, and the header the last
// entry's for both).
TEST(SweepOutput, EachAnalogCurveNamesItsOwnProfile) {
  sweep_config c = tiny_config();
  c.solvers = parse_solver_list("analog:profile=projected,analog:profile=paper-board,digital-f64");
  const sweep_result r = run_quietly(c);
  const auto profiles = json_profiles(c, r);
  EXPECT_TRUE(starts_with(profiles.at("analog:profile=projected"), "projected, ")) << profiles.at("analog:profile=projected");
  EXPECT_TRUE(starts_with(profiles.at("analog:profile=paper-board"), "paper-board, "))
      << profiles.at("analog:profile=paper-board");
  EXPECT_EQ(profiles.at("digital-f64"), "");
  const std::string csv = to_csv(c, r);
  EXPECT_TRUE(starts_with(csv_profile(csv, "analog:profile=projected"), "projected, ")) << csv;
  EXPECT_TRUE(starts_with(csv_profile(csv, "analog:profile=paper-board"), "paper-board, ")) << csv;
  const std::string header = parameter_header(c, "test");
  EXPECT_NE(header.find("analog:profile=projected profile: projected, "), std::string::npos) << header;
  EXPECT_NE(header.find("analog:profile=paper-board profile: paper-board, "), std::string::npos) << header;

  // The shared analog options fill in what an entry leaves out; an entry's own option wins.
  c.solvers = parse_solver_list("analog,analog:profile=paper-board");
  c.analog_options = {{"profile", "projected"}};
  const auto shared = json_profiles(c, run_quietly(c));
  EXPECT_TRUE(starts_with(shared.at("analog"), "projected, ")) << shared.at("analog");
  EXPECT_TRUE(starts_with(shared.at("analog:profile=paper-board"), "paper-board, ")) << shared.at("analog:profile=paper-board");
}

class SweepOutputFiles : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = fs::temp_directory_path() / ("amimo-test-sweep-output-" + std::string(info->name()) + "-" +
                                        std::to_string(::getpid()));
    fs::remove_all(dir_);
    config_ = tiny_config();
    config_.solvers = {{"digital-f64", {}}};
    config_.snr_db = {0.0};
    first_ = run_quietly(config_);
    sweep_config other = config_;
    other.seed = 2;  // other bits: another CSV
    second_ = run_quietly(other);
    write_outputs(dir_, config_, "first run", first_);
  }
  void TearDown() override {
    file_io_testing::set_temporary_name_source({});
    fs::remove_all(dir_);
  }

  static std::string read(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
  }
  // Regular files in the directory whose name marks a writer's temporary.
  int temporaries() const {
    int count = 0;
    for (const auto& entry : fs::directory_iterator(dir_)) {
      if (entry.is_regular_file() && entry.path().filename().string().find(".tmp-") != std::string::npos) ++count;
    }
    return count;
  }

  fs::path dir_;
  sweep_config config_;
  sweep_result first_;
  sweep_result second_;
};

// A directory where ber.png goes: its rename fails. Before anything was renamed, so the first
// run's CSV and JSON stay (they were replaced, beside no PNG of the second run).
TEST_F(SweepOutputFiles, AFailedPngLeavesThePreviousCsvAndJson) {
  const std::string csv = read(dir_ / "ber.csv");
  const std::string json = read(dir_ / "ber.json");
  ASSERT_NE(to_csv(config_, second_), csv);  // the second run would change both
  fs::remove(dir_ / "ber.png");
  fs::create_directory(dir_ / "ber.png");
  try {
    write_outputs(dir_, config_, "second run", second_);
    FAIL() << "wrote over a directory";
  } catch (const io_error& e) {
    EXPECT_NE(std::string(e.what()).find("ber.png"), std::string::npos) << e.what();
  }
  EXPECT_EQ(read(dir_ / "ber.csv"), csv);
  EXPECT_EQ(read(dir_ / "ber.json"), json);
  EXPECT_TRUE(fs::is_directory(dir_ / "ber.png"));
  EXPECT_EQ(temporaries(), 0);
}

// Every name ber.png's temporary could take is taken (directories): the PNG cannot be written
// at all, and the whole previous set, PNG included, is what the directory still holds.
TEST_F(SweepOutputFiles, AnUnwritablePngTemporaryLeavesThePreviousSet) {
  const std::string csv = read(dir_ / "ber.csv");
  const std::string json = read(dir_ / "ber.json");
  const std::string png = read(dir_ / "ber.png");
  ASSERT_FALSE(png.empty());
  constexpr std::uint64_t kBase = 0x5eed000000000000ULL;
  file_io_testing::set_temporary_name_source([n = std::uint64_t{0}]() mutable { return kBase + n++; });
  // More than all the names every writer of the call can draw, the PNG's first among them.
  for (std::uint64_t i = 0; i < 4 * file_io_testing::temporary_name_attempts; ++i) {
    fs::create_directory(file_io_testing::temporary_name(dir_ / "ber.png", kBase + i));
  }
  EXPECT_THROW(write_outputs(dir_, config_, "second run", second_), io_error);
  EXPECT_EQ(read(dir_ / "ber.csv"), csv);
  EXPECT_EQ(read(dir_ / "ber.json"), json);
  EXPECT_EQ(read(dir_ / "ber.png"), png);
  EXPECT_EQ(temporaries(), 0);
}

}  // namespace
}  // namespace amimo::sweep
