#pragma once
// A tornado chart: one horizontal bar per input, spanning the output's value at the input's
// low and high end relative to the baseline, on a log axis, the widest bar on top. Used by
// `amimo-report sensitivity` to show which assumed circuit values move the modelled time and
// energy per solve most.

#include <amimo/report/png_image.h>

#include <filesystem>
#include <string>
#include <vector>

namespace amimo::report {

struct tornado_bar {
  std::string label;        ///< the input and its range, e.g. "op-amp GBW 1 MHz..100 MHz"
  double low_ratio = 1.0;   ///< output at the input's low end / baseline output (> 0)
  double high_ratio = 1.0;  ///< output at the input's high end / baseline output (> 0)
};

struct tornado_spec {
  std::string title;
  std::string x_label;  ///< e.g. "time per solve / baseline (modelled)"
  std::vector<tornado_bar> bars;  ///< drawn in the given order, top first
  int width = 1100;
  int font_scale = 2;
};

/// Renders the chart. Ratios that are not finite and positive are drawn as 1 (no bar).
rgb_image render_tornado(const tornado_spec& spec);

/// render_tornado() written as a PNG (atomically; io_error on failure).
void write_tornado_png(const std::filesystem::path& path, const tornado_spec& spec);

}  // namespace amimo::report
