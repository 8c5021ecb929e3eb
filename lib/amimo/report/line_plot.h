#pragma once
// Line plots (BER/SER/throughput curves against SNR) rendered straight to an RGB raster,
// so reports need neither a plotting package nor a display.

#include <amimo/report/png_image.h>

#include <cstddef>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace amimo::report {

struct plot_series {
  std::string label;  ///< Legend text; series with an empty label get no legend entry.
  std::vector<double> x, y;
  /// Optional error bars (empty = none); same length as y when given.
  std::vector<double> y_low, y_high;
};

struct plot_spec {
  std::string title, x_label, y_label;
  bool log_y = false;  ///< log10 y axis with decade ticks labelled like 1e-3.
  int width = 960, height = 640;
  std::vector<plot_series> series;
};

/// One axis tick: its position in data units and its label (empty for unlabelled minor ticks).
struct axis_tick {
  double value;
  std::string label;
  bool major;
};

/// A pixel position; fractional so callers decide how to round.
struct pixel_point {
  double x, y;
};

/// Where render_line_plot puts things: the plot area and the data-to-pixel mapping.
/// Exposed so callers and tests can locate data points in the rendered image.
struct plot_layout {
  int plot_left = 0, plot_top = 0, plot_right = 0, plot_bottom = 0;  ///< Inclusive pixel bounds.
  double x_min = 0.0, x_max = 1.0;  ///< x range, mapped to plot_left..plot_right.
  double y_min = 0.0, y_max = 1.0;  ///< y range in data units (y_min > 0 on a log axis).
  bool log_y = false;
  int font_scale = 1;  ///< Scale of tick and axis-label text; the title uses one more.
  std::vector<axis_tick> x_ticks, y_ticks;

  /// Pixel column of x (unclipped; may lie outside the plot area).
  double x_to_pixel(double x) const noexcept;
  /// Pixel row of y (unclipped); NaN when y cannot be shown (non-finite, or <= 0 on log axes).
  double y_to_pixel(double y) const noexcept;
  /// Both together; nullopt when the point is not drawable.
  std::optional<pixel_point> to_pixel(double x, double y) const noexcept;
};

/// Computes the axis ranges, ticks and plot area render_line_plot uses for spec.
/// Throws std::invalid_argument if a series' x and y (or error-bar) lengths differ, the image
/// is too small (under 160 x 120) to hold a plot, or the data span overflows a double.
plot_layout compute_plot_layout(const plot_spec& spec);

/// Colour of series i; the palette has 9 entries and cycles. None of them is used for
/// anything else in the plot (axes, grid, text are grey or black).
rgb series_colour(std::size_t index) noexcept;

/// Renders axes, grid, tick labels, title, axis labels, a legend (in the plot-area corner that
/// hides the fewest curve pixels) and each series as a polyline with markers and vertical error
/// bars. Non-finite y values (and y <= 0 on log axes) are skipped, breaking the line. Without
/// data the axes fall back to [0, 1] (or [1e-6, 1] on a log axis). Throws as
/// compute_plot_layout does.
rgb_image render_line_plot(const plot_spec& spec);

/// render_line_plot followed by write_png.
void write_line_plot_png(const std::filesystem::path& path, const plot_spec& spec);

}  // namespace amimo::report
