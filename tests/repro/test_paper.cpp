// The paper reproduction end to end in quick mode: every file is written and parses, the
// relative error falls with the iterations to near FP32 level, the merged BER curves behave
// as the paper says (3 iterations inside digital-f32's interval at low SNR, LP-INV alone
// with a floor), the H100 row is the roofline computed by hand, and the report has every
// section. One quick run (a few seconds) serves all tests.
#include <amimo/repro/paper_repro.h>
#include <amimo/repro/paper_studies.h>

#include <CLI/CLI.hpp>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <unistd.h>

namespace amimo::repro {
namespace {

namespace fs = std::filesystem;

std::string read_text(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

nlohmann::json read_json(const fs::path& p) {
  return nlohmann::json::parse(read_text(p));
}

class PaperQuick : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new fs::path(fs::temp_directory_path() / ("amimo_paper_" + std::to_string(::getpid())));
    fs::remove_all(*dir_);
    paper_options o;
    o.out = dir_->string();
    o.seed = 1;
    o.threads = 2;
    o.effort = paper_effort::quick;
    o.command_line = "test_paper";
    ::testing::internal::CaptureStdout();
    status_ = run_paper(o);
    stdout_ = new std::string(::testing::internal::GetCapturedStdout());
  }
  static void TearDownTestSuite() {
    std::error_code ec;
    fs::remove_all(*dir_, ec);
    delete dir_;
    dir_ = nullptr;
    delete stdout_;
    stdout_ = nullptr;
  }
  static fs::path* dir_;
  static int status_;
  static std::string* stdout_;  // what run_paper printed
};
fs::path* PaperQuick::dir_ = nullptr;
int PaperQuick::status_ = -1;
std::string* PaperQuick::stdout_ = nullptr;

TEST_F(PaperQuick, WritesEveryFile) {
  ASSERT_EQ(status_, 0);
  for (const char* name : {"paper_reproduction.md", "relerr.csv", "relerr_summary.csv", "relerr.json", "ber.csv",
                           "ber_match.csv", "ber.json", "perf.csv", "perf_ratios.csv", "perf.json"}) {
    EXPECT_TRUE(fs::is_regular_file(*dir_ / name)) << name;
    EXPECT_GT(fs::file_size(*dir_ / name), 100U) << name;
  }
  for (const char* name : {"relerr_ideal.png", "relerr_paper-board.png", "relerr_projected.png",
                           "relerr_feedback-board.png", "relerr_feedback-projected.png", "ber_16x4.png",
                           "ber_128x8.png", "paper-board/ber_16x4.png", "paper-board/ber_128x8.png", "perf.png"}) {
    const std::string png = read_text(*dir_ / name);
    ASSERT_GT(png.size(), 1000U) << name;
    EXPECT_EQ(png.substr(0, 8), std::string("\x89PNG\r\n\x1a\n", 8)) << name;
  }
  // No temporary files left behind.
  for (const auto& entry : fs::directory_iterator(*dir_)) {
    EXPECT_EQ(entry.path().filename().string().find(".tmp"), std::string::npos) << entry.path();
  }
}

TEST_F(PaperQuick, RelativeErrorFallsToFp32LevelWithIterations) {
  ASSERT_EQ(status_, 0);
  const nlohmann::json doc = read_json(*dir_ / "relerr.json");
  ASSERT_EQ(doc["settings"]["iterations"].get<int>(), 10);
  int checked = 0;
  for (const auto& c : doc["curves"]) {
    const std::string profile = c["profile"].get<std::string>();
    const std::vector<double> median = c["median_rel_error"].get<std::vector<double>>();
    const std::vector<double> p10 = c["p10"].get<std::vector<double>>();
    const std::vector<double> p90 = c["p90"].get<std::vector<double>>();
    ASSERT_EQ(median.size(), 10U);
    for (std::size_t k = 0; k < median.size(); ++k) {
      EXPECT_LE(p10[k], median[k]);
      EXPECT_LE(median[k], p90[k]);
    }
    // Monotone over the first iterations, by at least a bit each with the feedback mapping;
    // the paper mapping (A0 = D0/L) contracts slowly where the condition number is high.
    const bool paper_mapping = c["lp_mapping"] == "paper";
    if (paper_mapping) {
      EXPECT_LT(median[2], median[0]) << profile << " " << c["kind"] << " cond " << c["cond"];
    } else {
      for (std::size_t k = 0; k + 1 < 3; ++k) EXPECT_LT(median[k + 1], 0.5 * median[k]) << profile << " k=" << k + 1;
    }
    // LP-INV alone is one step of the same circuit from x = 0: the first iterate's error.
    const double lp = c["lp_median_rel_error"].get<double>();
    EXPECT_GT(lp, median[0] / 1.5);
    EXPECT_LT(lp, median[0] * 1.5);
    // Within a 3-bit start: far from FP32 after one step.
    EXPECT_GT(median[0], 1e-3);
    if ((profile == "ideal" || profile == "feedback-board") && c["kind"] == "dominant") {
      EXPECT_LT(median[9], 1e-5) << profile << " cond " << c["cond"];
      const double f32 = c["f32_median_rel_error"].get<double>();
      EXPECT_GT(f32, 1e-8);  // FP32 solves are not exact
      EXPECT_LT(f32, 1e-6);
      // The summary's FP32 iteration is the first k with median <= 2 x digital-f32.
      const int k_fp32 = c["first_k_fp32_level"].get<int>();
      ASSERT_GE(k_fp32, 1);
      EXPECT_LE(median[static_cast<std::size_t>(k_fp32 - 1)], 2.0 * f32);
      if (k_fp32 > 1) {
        EXPECT_GT(median[static_cast<std::size_t>(k_fp32 - 2)], 2.0 * f32);
      }
      // The slope: bits gained per iteration before the floor, recomputed here from k = 1..2.
      const double bits = c["bits_per_iteration"].get<double>();
      EXPECT_GT(bits, 1.0);
      EXPECT_LT(bits, 12.0);
      ++checked;
    }
  }
  EXPECT_GE(checked, 4);
  // Both mappings ran on the same systems, each curve labelled with its mapping.
  int paper = 0, feedback = 0;
  for (const auto& c : doc["curves"]) (c["lp_mapping"] == "paper" ? paper : feedback) += 1;
  EXPECT_GE(paper, 8);     // paper-board, projected × 4 families
  EXPECT_GE(feedback, 8);  // feedback-board, feedback-projected
  // The paper mapping on the well-conditioned family gains 2–3+ bits per iteration, far
  // less than the feedback mapping's.
  for (const auto& c : doc["curves"]) {
    if (c["profile"] == "paper-board" && c["kind"] == "dominant" && c["cond"] == 1.5) {
      EXPECT_GT(c["bits_per_iteration"].get<double>(), 1.8);
      EXPECT_LT(c["bits_per_iteration"].get<double>(), 3.6);
    }
  }
  // The CSV holds the same medians as the JSON (10 rows per curve plus the header).
  const std::string csv = read_text(*dir_ / "relerr.csv");
  EXPECT_EQ(static_cast<std::size_t>(std::count(csv.begin(), csv.end(), '\n')), 1 + 10 * doc["curves"].size());
}

const nlohmann::json* find_curve(const nlohmann::json& shape, const std::string& label) {
  for (const auto& c : shape["curves"]) {
    if (c["curve"] == label) return &c;
  }
  return nullptr;
}

const nlohmann::json* find_point(const nlohmann::json& curve, double snr) {
  for (const auto& p : curve["points"]) {
    if (p["snr_db"].get<double>() == snr) return &p;
  }
  return nullptr;
}

TEST_F(PaperQuick, BerCurvesMatchDigitalAfterThreeIterationsAndLpInvHasAFloor) {
  ASSERT_EQ(status_, 0);
  const nlohmann::json doc = read_json(*dir_ / "ber.json");
  ASSERT_EQ(doc["settings"]["profile"], "feedback-board");
  ASSERT_EQ(doc["settings"]["lp_mapping"], "feedback");
  // The paper mapping's run, beside it: same shapes, labelled.
  const nlohmann::json paper = read_json(*dir_ / "paper-board" / "ber.json");
  EXPECT_EQ(paper["settings"]["lp_mapping"], "paper");
  EXPECT_EQ(paper["shapes"].size(), 2U);
  ASSERT_EQ(doc["shapes"].size(), 2U);
  for (const auto& shape : doc["shapes"]) {
    const std::string name = shape["shape"].get<std::string>();
    const auto* digital = find_curve(shape, "digital-f32");
    const auto* analog1 = find_curve(shape, "analog 1 it");
    const auto* analog3 = find_curve(shape, "analog 3 it");
    const auto* lp = find_curve(shape, "analog-lp");
    ASSERT_TRUE(digital && analog1 && analog3 && lp) << name;
    const std::vector<double> snrs = shape["snr_db"].get<std::vector<double>>();
    // digital-f32, analog 1 it and analog-lp ran in one sweep: the same frames at a point.
    const auto* d0 = find_point(*digital, snrs[0]);
    const auto* a0 = find_point(*analog1, snrs[0]);
    const auto* l0 = find_point(*lp, snrs[0]);
    ASSERT_TRUE(d0 && a0 && l0) << name;
    EXPECT_EQ((*d0)["bits"], (*a0)["bits"]);
    EXPECT_EQ((*d0)["bits"], (*l0)["bits"]);
    // Low-SNR points: analog with 3 iterations inside digital-f32's 95% interval.
    for (std::size_t i = 0; i < 2; ++i) {
      const auto* d = find_point(*digital, snrs[i]);
      const auto* a = find_point(*analog3, snrs[i]);
      ASSERT_TRUE(d && a) << name << " " << snrs[i];
      ASSERT_GT((*d)["bit_errors"].get<double>(), 0.0);
      const double ber = (*a)["ber"].get<double>();
      EXPECT_DOUBLE_EQ(ber, (*a)["bit_errors"].get<double>() / (*a)["bits"].get<double>());
      EXPECT_GE(ber, (*d)["ber_ci_low"].get<double>()) << name << " " << snrs[i];
      EXPECT_LE(ber, (*d)["ber_ci_high"].get<double>()) << name << " " << snrs[i];
    }
    // Highest SNR LP-INV alone ran: worse than anything digital-f32 allows there.
    const nlohmann::json& top = shape["analog_lp_top"];
    EXPECT_EQ(top["snr_db"].get<double>(), snrs.back()) << name << ": analog-lp stopped erring";
    EXPECT_GT(top["ber"].get<double>(), 3.0 * top["digital_f32_ci_high"].get<double>()) << name;
    // The verdict the report states agrees with the per-point numbers.
    for (const auto& m : shape["matches"]) {
      bool all = !m["verdicts"].empty();
      for (const auto& v : m["verdicts"]) {
        const bool inside = v["analog_ber"].get<double>() >= v["digital_ci_low"].get<double>() &&
                            v["analog_ber"].get<double>() <= v["digital_ci_high"].get<double>();
        EXPECT_EQ(v["inside"].get<bool>(), inside);
        all = all && inside;
      }
      EXPECT_EQ(m["inside_digital_f32_interval_everywhere"].get<bool>(), all) << m["curve"];
      if (m["curve"] == "analog-lp") {
        EXPECT_FALSE(all) << name;
      }
    }
    // Matching everywhere implies matching in the visible range, so that count is never larger.
    const int kv = shape["first_matching_iterations_visible"].get<int>();
    EXPECT_GE(kv, 2) << name;
    EXPECT_LE(kv, shape["first_matching_iterations"].get<int>()) << name;
    const int k = shape["first_matching_iterations"].get<int>();
    EXPECT_GE(k, 2) << name << ": one iteration is LP-INV alone and must not match";
    EXPECT_LE(k, 3) << name;
  }
}

TEST_F(PaperQuick, ThroughputRowsUseTheStatedModels) {
  ASSERT_EQ(status_, 0);
  const nlohmann::json doc = read_json(*dir_ / "perf.json");
  bool saw_gpu = false, saw_analog = false, saw_cpu = false;
  for (const auto& r : doc["rows"]) {
    const std::string system = r["system"].get<std::string>();
    const int n = r["n"].get<int>();
    const double seconds = r["seconds_per_solve"].get<double>();
    EXPECT_GT(seconds, 0.0) << system;
    EXPECT_NEAR(r["solves_per_s"].get<double>() * seconds, 1.0, 1e-9) << system;
    if (system.find("roofline") != std::string::npos && r["scenario"] == "R=1" && n == 32) {
      // Roofline by hand: Cholesky n^3/3 + 2n^2 FLOPs against 67 TFLOP/s, 4(3n^2 + 2n) bytes
      // against 3.35 TB/s, at 20% efficiency; energy at 700 W.
      const double flops = 32.0 * 32 * 32 / 3.0 + 2.0 * 32 * 32;
      const double bytes = 4.0 * (3.0 * 32 * 32 + 2.0 * 32);
      const double t = std::max(flops / 67e12, bytes / 3.35e12) / 0.2;
      EXPECT_NEAR(seconds, t, 1e-6 * t);
      EXPECT_NEAR(r["joules_per_solve"].get<double>(), t * 700.0, 1e-6 * t * 700.0);
      EXPECT_EQ(r["basis"], "modelled");
      saw_gpu = true;
    }
    if (system.rfind("analog", 0) == 0) {
      EXPECT_EQ(r["basis"], "modelled");
      EXPECT_GE(r["iterations"].get<int>(), 2);
      // The feedback mapping reaches FP32 level within the iterations searched; the paper
      // mapping may not (its row then says so in its note).
      if (system.find("feedback") != std::string::npos) {
        EXPECT_LT(r["rel_error"].get<double>(), 1e-5) << system;
      }
      saw_analog = true;
    }
    if (system.rfind("CPU", 0) == 0) {
      EXPECT_NE(r["basis"].get<std::string>().find("measured"), std::string::npos);
      saw_cpu = true;
    }
  }
  EXPECT_TRUE(saw_gpu && saw_analog && saw_cpu);
  // Ratios are the rows' quotients: analog programming excluded ≥ programming included.
  for (const auto& q : doc["ratios"]) EXPECT_GT(q["throughput_ratio_vs_h100"].get<double>(), 0.0);
}

TEST_F(PaperQuick, MarkdownHasEverySectionAndLinksExistingFigures) {
  ASSERT_EQ(status_, 0);
  const std::string md = read_text(*dir_ / "paper_reproduction.md");
  for (const char* heading : {"# amimo — reproduction", "## Parameters", "## 1. Relative error vs iteration",
                              "## 2. BER vs SNR", "## 3. Throughput and energy", "## Reproducing single pieces"}) {
    EXPECT_NE(md.find(heading), std::string::npos) << heading;
  }
  const std::string table = "| quantity | paper reports | amimo measured/modelled | agrees? | why it differs |";
  std::size_t tables = 0;
  for (std::size_t pos = md.find(table); pos != std::string::npos; pos = md.find(table, pos + 1)) ++tables;
  EXPECT_EQ(tables, 5U);  // sections 1 and 2 once per LP-INV mapping, section 3 one table with both
  for (const char* verdict : {"### Paper vs amimo: profile paper-board, LP-INV mapping paper",
                              "### Paper vs amimo: profile feedback-board, LP-INV mapping feedback"}) {
    EXPECT_NE(md.find(verdict), std::string::npos) << verdict;
  }
  EXPECT_NE(md.find("[paper mapping]"), std::string::npos);
  EXPECT_NE(md.find("[feedback mapping]"), std::string::npos);
  EXPECT_NE(md.find("seed: 1"), std::string::npos);
  // Every linked image exists.
  std::size_t links = 0;
  for (std::size_t pos = md.find("]("); pos != std::string::npos; pos = md.find("](", pos + 1)) {
    const std::size_t end = md.find(')', pos);
    const std::string target = md.substr(pos + 2, end - pos - 2);
    if (target.size() > 4 && target.substr(target.size() - 4) == ".png") {
      EXPECT_TRUE(fs::is_regular_file(*dir_ / target)) << target;
      ++links;
    }
  }
  EXPECT_EQ(links, 10U);  // 5 relerr profiles, 2 BER shapes × 2 mappings, perf
}

// Where no iteration count up to the cap reaches FP32 level (the paper mapping on these
// cond-4 systems, section 1), the figures are at the cap, not "at the count needed for FP32
// level": the rows and ratios say so and section 3's verdicts do not judge them (until stop
// 35 they were judged silently at 12 iterations). The feedback mapping reaches it.
TEST_F(PaperQuick, RowsShortOfFp32LevelAreMarkedAndNotJudged) {
  ASSERT_EQ(status_, 0);
  const nlohmann::json doc = read_json(*dir_ / "perf.json");
  const int cap = doc["settings"]["max_iterations"].get<int>();
  bool saw_short = false;
  for (const auto& r : doc["rows"]) {
    const std::string system = r["system"].get<std::string>();
    if (system.rfind("analog", 0) != 0) continue;
    const bool reached = r["fp32_level_reached"].get<bool>();
    if (system.find("feedback") != std::string::npos) {
      EXPECT_TRUE(reached) << system;
    }
    if (!reached) {
      saw_short = true;
      EXPECT_EQ(r["iterations"].get<int>(), cap) << system;
      EXPECT_GT(r["rel_error"].get<double>(), 1e-5) << system;
      EXPECT_NE(r["source"].get<std::string>().find("FP32 level not reached within"), std::string::npos) << system;
    }
  }
  ASSERT_TRUE(saw_short);  // paper-board and projected at quick effort
  for (const auto& q : doc["ratios"]) {
    const std::string profile = q["profile"].get<std::string>();
    EXPECT_EQ(q["fp32_level_reached"].get<bool>(), profile.find("feedback") != std::string::npos) << profile;
  }
  const std::string md = read_text(*dir_ / "paper_reproduction.md");
  const std::string section = md.substr(md.find("## 3. Throughput and energy"));
  std::istringstream lines(section);
  std::size_t paper_verdicts = 0, feedback_verdicts = 0;
  for (std::string line; std::getline(lines, line);) {
    if (line.find("[paper mapping]") != std::string::npos && line.rfind("| ", 0) == 0) {
      ++paper_verdicts;
      EXPECT_NE(line.find("not judged: FP32 level not reached within"), std::string::npos) << line;
      EXPECT_NE(line.find("| n/a |"), std::string::npos) << line;
    }
    if (line.find("[feedback mapping]") != std::string::npos && line.rfind("| ", 0) == 0) {
      ++feedback_verdicts;
      EXPECT_EQ(line.find("not judged"), std::string::npos) << line;
    }
  }
  EXPECT_GT(paper_verdicts, 0U);
  EXPECT_GT(feedback_verdicts, 0U);
  // The printed summary withholds the same ratios (it quoted them for every profile).
  std::istringstream printed(*stdout_);
  std::size_t withheld = 0, quoted = 0;
  for (std::string line; std::getline(printed, line);) {
    if (line.find("vs H100 :") == std::string::npos) continue;
    const bool feedback = line.find("feedback") != std::string::npos;
    if (line.find("not judged (FP32 level not reached") != std::string::npos) {
      ++withheld;
      EXPECT_FALSE(feedback) << line;
    } else {
      ++quoted;
      EXPECT_TRUE(feedback) << line;
    }
  }
  EXPECT_GT(withheld, 0U);
  EXPECT_GT(quoted, 0U);
}

TEST(PaperOptions, BadOptionsAreRefusedBeforeAnythingIsWritten) {
  paper_options o;
  o.effort = paper_effort::quick;
  o.threads = -1;
  o.out = (fs::temp_directory_path() / ("amimo_paper_bad_" + std::to_string(::getpid()))).string();
  EXPECT_EQ(run_paper(o), 2);
  EXPECT_FALSE(fs::exists(o.out));
  // An output "folder" that is a file cannot be written.
  const fs::path file = fs::temp_directory_path() / ("amimo_paper_file_" + std::to_string(::getpid()));
  std::ofstream(file) << "x";
  o.threads = 1;
  o.out = file.string();
  EXPECT_EQ(run_paper(o), 3);
  fs::remove(file);
}

TEST(PaperOptions, ParseFromASubcommand) {
  CLI::App app{"test"};
  CLI::App* sub = app.add_subcommand("paper");
  paper_options o;
  add_paper_options(*sub, o);
  const char* argv[] = {"prog", "paper", "--out", "a", "--quick", "--seed", "5", "--threads", "3", "--out", "b"};
  app.parse(static_cast<int>(std::size(argv)), argv);
  EXPECT_EQ(o.out, "b");
  EXPECT_EQ(o.seed, 5U);
  EXPECT_EQ(o.threads, 3);
  EXPECT_EQ(o.effort, paper_effort::quick);

  paper_options o2;
  CLI::App app2{"test"};
  add_paper_options(*app2.add_subcommand("paper"), o2);
  EXPECT_EQ(o2.effort, paper_effort::full);  // the default
  const char* bad[] = {"prog", "paper", "--effort", "fast"};
  EXPECT_THROW(app2.parse(static_cast<int>(std::size(bad)), bad), CLI::ParseError);
}

TEST(PaperHelpers, QuantileAndSlope) {
  EXPECT_DOUBLE_EQ(quantile({3.0, 1.0, 2.0}, 0.5), 2.0);
  EXPECT_DOUBLE_EQ(quantile({1.0, 2.0, 3.0, 4.0}, 0.5), 2.5);
  EXPECT_DOUBLE_EQ(quantile({1.0, std::nan(""), 3.0}, 0.0), 1.0);
  EXPECT_TRUE(std::isnan(quantile({}, 0.5)));
  EXPECT_DOUBLE_EQ(fit_slope({1.0, 2.0, 3.0}, {3.0, 6.0, 9.0}), 3.0);
  EXPECT_TRUE(std::isnan(fit_slope({1.0}, {1.0})));
}

}  // namespace
}  // namespace amimo::repro
