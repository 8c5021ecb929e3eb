// The RAPL reader against a fake powercap tree, and the cost-model sensitivity study
// (amimo-report sensitivity) against the cost model's own formulas.
#include <amimo/analog/analog_profile.h>
#include <amimo/core/error.h>
#include <amimo/perf/rapl.h>
#include <amimo/perf/sensitivity.h>
#include <amimo/report/png_image.h>
#include <amimo/report/tornado_plot.h>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <unistd.h>

#include <atomic>
#include <cctype>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <stdexcept>
#include <string>

namespace amimo::perf {
namespace {

namespace fs = std::filesystem;

struct temp_dir {
  fs::path path;
  explicit temp_dir(const std::string& tag)
      : path(fs::temp_directory_path() / ("amimo_" + tag + "_" + std::to_string(::getpid()))) {
    fs::remove_all(path);
    fs::create_directories(path);
  }
  ~temp_dir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
};

void write(const fs::path& p, const std::string& text) {
  fs::create_directories(p.parent_path());
  std::ofstream(p) << text;
}

TEST(Rapl, ReadsPackageZonesOnlyAndUndoesWrapAround) {
  temp_dir d("rapl");
  write(d.path / "intel-rapl:0" / "energy_uj", "1000000\n");
  write(d.path / "intel-rapl:0" / "max_energy_range_uj", "262143328850\n");
  write(d.path / "intel-rapl:0:0" / "energy_uj", "999\n");  // a sub-zone (core): not counted again
  write(d.path / "intel-rapl:1" / "energy_uj", "262143000000\n");
  write(d.path / "intel-rapl:1" / "max_energy_range_uj", "262143328850\n");
  write(d.path / "intel-rapl-mmio:0" / "energy_uj", "5\n");  // another interface: ignored
  const rapl_meter meter(d.path);
  ASSERT_TRUE(meter.available()) << meter.status();
  EXPECT_NE(meter.status().find("2 package zones"), std::string::npos) << meter.status();
  const auto before = meter.read();
  ASSERT_TRUE(before.has_value());
  ASSERT_EQ(before->microjoules.size(), 2U);
  // Package 0 spends 2.5 J; package 1 wraps: 328850 µJ to the end of its range, then 171150.
  write(d.path / "intel-rapl:0" / "energy_uj", "3500000\n");
  write(d.path / "intel-rapl:1" / "energy_uj", "171150\n");
  const auto after = meter.read();
  ASSERT_TRUE(after.has_value());
  EXPECT_NEAR(meter.joules_between(*before, *after), 2.5 + 0.5, 1e-12);
}

TEST(Rapl, MissingOrUnreadableTreeIsReportedNotMeasured) {
  temp_dir d("rapl_none");
  const rapl_meter missing(d.path / "nothere");
  EXPECT_FALSE(missing.available());
  EXPECT_NE(missing.status().find("no powercap"), std::string::npos) << missing.status();
  write(d.path / "intel-rapl:0" / "name", "package-0\n");  // no energy_uj: as without permission
  write(d.path / "intel-rapl:1" / "energy_uj", "not a number\n");
  const rapl_meter unreadable(d.path);
  EXPECT_FALSE(unreadable.available());
  EXPECT_NE(unreadable.status().find("not readable"), std::string::npos) << unreadable.status();
  EXPECT_FALSE(missing.read().has_value());  // no zones: nothing measured (the caller models)
  EXPECT_FALSE(unreadable.read().has_value());
}

TEST(Sensitivity, EachAssumptionMovesTheFiguresTheCostModelSays) {
  sensitivity_options o;
  o.sizes = {16};
  o.trials = 1;
  o.iterations = 2;
  const sensitivity_result r = run_sensitivity(o);
  ASSERT_EQ(r.rows.size(), sensitivity_ranges("paper-board").size());
  EXPECT_NE(r.profile_label.find("paper-board, LP-INV mapping paper"), std::string::npos);
  const auto find = [&](const std::string& key) -> const sensitivity_row& {
    for (const sensitivity_row& row : r.rows) {
      if (row.range.key == key) return row;
    }
    throw std::runtime_error(key);
  };
  // Cost-only values leave the simulated activity alone, so the cost model's formulas apply:
  // energy is linear in the ADC figure of merit, time in the ADC conversion time, etc.
  const sensitivity_row& gbw = find("circuit.opamp_gbw_hz");
  EXPECT_GT(gbw.low_seconds, gbw.base_seconds);   // slower op-amps settle longer
  EXPECT_LT(gbw.high_seconds, gbw.base_seconds);
  const sensitivity_row& adc_t = find("circuit.adc_conversion_s");
  const sensitivity_row& dac_t = find("circuit.dac_conversion_s");
  // Time is affine in each conversion time with the same slope (one DAC and one ADC step per
  // HP-MVM step and per LP-INV operation): base + n·t.
  const double slope_adc = (adc_t.high_seconds - adc_t.low_seconds) / (adc_t.range.high - adc_t.range.low);
  const double slope_dac = (dac_t.high_seconds - dac_t.low_seconds) / (dac_t.range.high - dac_t.range.low);
  EXPECT_NEAR(slope_adc, slope_dac, 1e-9 * slope_adc);
  EXPECT_DOUBLE_EQ(dac_t.low_seconds, dac_t.base_seconds);  // 0 is the profile's value
  const sensitivity_row& fom = find("circuit.adc_fom_j");
  EXPECT_EQ(fom.low_seconds, fom.base_seconds);  // energy only
  EXPECT_NEAR((fom.high_joules - fom.base_joules) / (fom.base_joules - fom.low_joules), (10.0 - 1.0) / (1.0 - 0.1), 1e-6);
  // Wider HP-MVM DAC steps: fewer sequential array reads, a shorter solve.
  const sensitivity_row& dac_bits = find("circuit.mvm_dac_bits");
  EXPECT_LT(dac_bits.high_seconds, 0.5 * dac_bits.base_seconds);
  // Ranked by the larger swing.
  for (std::size_t i = 1; i < r.rows.size(); ++i) {
    EXPECT_GE(std::max(r.rows[i - 1].time_swing(), r.rows[i - 1].energy_swing()),
              std::max(r.rows[i].time_swing(), r.rows[i].energy_swing()));
  }
  temp_dir d("sensitivity");
  write_sensitivity_outputs(d.path, r);
  for (const char* f : {"sensitivity.csv", "sensitivity.json", "tornado_16_time.png", "tornado_16_energy.png"}) {
    EXPECT_GT(fs::file_size(d.path / f), 100U) << f;
  }
  const report::rgb_image png = report::read_png(d.path / "tornado_16_time.png");
  EXPECT_GT(png.height(), 200);
  EXPECT_NE(sensitivity_table(r).find("swing"), std::string::npos);
  sensitivity_options bad = o;
  bad.sizes = {1};
  EXPECT_THROW(validate(bad), config_error);  // what amimo-report checks before its header
  EXPECT_THROW(run_sensitivity(bad), config_error);
  EXPECT_NO_THROW(validate(o));
  EXPECT_FALSE(r.interrupted);
  // Stopped before the first assumption: no rows, said so, and the files hold no chart.
  const std::atomic<bool> stop{true};
  const sensitivity_result stopped = run_sensitivity(o, &stop);
  EXPECT_TRUE(stopped.interrupted);
  EXPECT_TRUE(stopped.rows.empty());
  EXPECT_NE(sensitivity_table(stopped).find("# Interrupted (signal)"), std::string::npos);
  temp_dir d2("sensitivity-stopped");
  write_sensitivity_outputs(d2.path, stopped);
  EXPECT_TRUE(fs::exists(d2.path / "sensitivity.json"));
  EXPECT_FALSE(fs::exists(d2.path / "tornado_16_time.png"));
}

// Systems a variant cannot solve in analog fall back (no analog cost): every median is over
// the systems all three variants answered, the count is stated, and a row none answered
// prints n/a and "-" (text), empty fields (CSV) and null (JSON) — it printed "nanx" swings,
// "nan" in the CSV, and ranked NaN rows arbitrarily.
TEST(Sensitivity, FallbacksAreCountedAndNeverPrintedAsNumbers) {
  sensitivity_options o;
  o.sizes = {16};
  o.cond = 30.0;  // beyond what 3 iterations of the paper board converge on
  o.trials = 2;
  const sensitivity_result r = run_sensitivity(o);
  std::size_t empty = 0;
  for (const sensitivity_row& row : r.rows) {
    EXPECT_GE(row.systems, 0);
    EXPECT_LE(row.systems, o.trials);
    EXPECT_GE(row.fallbacks, o.trials - row.systems);  // each dropped system had one at least
    if (row.systems == 0) {
      ++empty;
      EXPECT_TRUE(std::isnan(row.base_joules));
      EXPECT_TRUE(std::isnan(row.energy_swing()));
    } else {
      EXPECT_TRUE(std::isfinite(row.base_joules));
      EXPECT_TRUE(std::isfinite(row.low_joules));
      EXPECT_TRUE(std::isfinite(row.high_joules));
    }
  }
  ASSERT_GT(empty, 0U) << "the case must have rows with no analog answer";
  // Rows that answered are ranked first, by their swing.
  for (std::size_t i = 1; i < r.rows.size(); ++i) {
    if (r.rows[i].systems > 0) {
      EXPECT_GT(r.rows[i - 1].systems, 0);
    }
  }
  // "nan" starting a word (not inside "dominant").
  const auto has_nan_word = [](const std::string& text) {
    for (std::size_t at = text.find("nan"); at != std::string::npos; at = text.find("nan", at + 1)) {
      if (at == 0 || std::isalpha(static_cast<unsigned char>(text[at - 1])) == 0) return true;
    }
    return false;
  };
  const std::string table = sensitivity_table(r);
  EXPECT_FALSE(has_nan_word(table)) << table;
  EXPECT_NE(table.find("n/a"), std::string::npos);
  temp_dir d("sensitivity-fallbacks");
  write_sensitivity_outputs(d.path, r);
  std::ifstream csv(d.path / "sensitivity.csv");
  const std::string csv_text((std::istreambuf_iterator<char>(csv)), std::istreambuf_iterator<char>());
  EXPECT_FALSE(has_nan_word(csv_text)) << csv_text;
  std::ifstream json(d.path / "sensitivity.json");
  const auto doc = nlohmann::json::parse(json);
  bool saw_null = false;
  for (const auto& row : doc["rows"]) {
    EXPECT_EQ(row["systems"].get<int>() == 0, row["energy_swing"].is_null());
    saw_null = saw_null || row["modelled_joules"]["baseline"].is_null();
  }
  EXPECT_TRUE(saw_null);
}

TEST(Tornado, BarsSpanTheirRatiosAroundTheCentre) {
  const auto coloured = [](const std::vector<report::tornado_bar>& bars) {
    report::tornado_spec spec;
    spec.title = "t";
    spec.x_label = "x";
    spec.bars = bars;
    const report::rgb_image img = report::render_tornado(spec);
    int n = 0;
    for (int y = 0; y < img.height(); ++y) {
      for (int x = 0; x < img.width(); ++x) {
        const report::rgb c = img.pixel(x, y);
        if (c == report::rgb{70, 120, 200} || c == report::rgb{230, 140, 40}) ++n;
      }
    }
    return n;
  };
  const int wide = coloured({{"a", 0.1, 10.0}});
  const int none = coloured({{"b", 1.0, 1.0}});
  const int half = coloured({{"c", 1.0, 10.0}});
  EXPECT_GT(wide, 1000);
  EXPECT_LT(none, 100);  // the centre line only
  EXPECT_NEAR(static_cast<double>(half), wide / 2.0, wide * 0.05);  // same axis (±1 decade): half the bar
}

}  // namespace
}  // namespace amimo::perf
