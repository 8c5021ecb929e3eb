#include <amimo/report/bitmap_font.h>
#include <amimo/report/tornado_plot.h>

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

namespace amimo::report {
namespace {

double usable(double ratio) { return std::isfinite(ratio) && ratio > 0.0 ? ratio : 1.0; }

void fill_rect(rgb_image& image, int x0, int y0, int x1, int y1, rgb c) {
  if (x1 < x0) std::swap(x0, x1);
  for (int y = y0; y < y1; ++y) {
    for (int x = x0; x <= x1; ++x) image.set_pixel(x, y, c);
  }
}

std::string ratio_label(double decade) {
  const double v = std::pow(10.0, decade);
  return v >= 1.0 ? fmt::format("{:g}x", v) : fmt::format("1/{:g}", 1.0 / v);
}

}  // namespace

rgb_image render_tornado(const tornado_spec& spec) {
  const int s = std::max(spec.font_scale, 1);
  const int row = text_height(s) + 10 * s;
  int label_w = 0;
  for (const tornado_bar& b : spec.bars) label_w = std::max(label_w, text_width(b.label, s));
  const int left = label_w + 20;
  const int right = 30;
  const int top = text_height(s) * 2 + 20;
  const int plot_h = std::max<int>(1, static_cast<int>(spec.bars.size())) * row;
  const int bottom = text_height(s) * 3 + 30;
  const int width = std::max(spec.width, left + right + 200);
  rgb_image image(width, top + plot_h + bottom);
  const rgb black{0, 0, 0};
  const rgb grey{200, 200, 200};
  const rgb low_colour{70, 120, 200};
  const rgb high_colour{230, 140, 40};

  // Log axis symmetric around 1, at least one decade each way.
  double span = 1.0;
  for (const tornado_bar& b : spec.bars) {
    span = std::max({span, std::abs(std::log10(usable(b.low_ratio))), std::abs(std::log10(usable(b.high_ratio)))});
  }
  span = std::ceil(span * 2.0) / 2.0;
  const int x0 = left;
  const int x1 = width - right;
  const auto to_x = [&](double ratio) {
    const double d = std::log10(usable(ratio));
    return x0 + static_cast<int>(std::lround((d + span) / (2.0 * span) * (x1 - x0)));
  };

  draw_text(image, 10, 10, spec.title, black, s);
  // Decade grid and tick labels.
  for (double d = -std::floor(span); d <= std::floor(span) + 1e-9; d += 1.0) {
    const int x = to_x(std::pow(10.0, d));
    for (int y = top; y < top + plot_h; ++y) image.set_pixel(x, y, d == 0.0 ? black : grey);
    const std::string t = ratio_label(d);
    draw_text(image, x - text_width(t, s) / 2, top + plot_h + 8, t, black, s);
  }
  draw_text(image, x0 + (x1 - x0 - text_width(spec.x_label, s)) / 2, top + plot_h + 16 + text_height(s), spec.x_label,
            black, s);
  const std::string legend = "blue: input at its low end, orange: at its high end";
  draw_text(image, x0, top + plot_h + 24 + 2 * text_height(s), legend, black, s);

  for (std::size_t i = 0; i < spec.bars.size(); ++i) {
    const tornado_bar& b = spec.bars[i];
    const int y = top + static_cast<int>(i) * row;
    draw_text(image, 10, y + 5 * s, b.label, black, s);
    const int centre = to_x(1.0);
    // The longer side first, so a shorter one pointing the same way stays visible in front.
    const bool low_first = std::abs(std::log10(usable(b.low_ratio))) >= std::abs(std::log10(usable(b.high_ratio)));
    const double first = low_first ? b.low_ratio : b.high_ratio;
    const double second = low_first ? b.high_ratio : b.low_ratio;
    fill_rect(image, centre, y + 3 * s, to_x(first), y + row - 3 * s, low_first ? low_colour : high_colour);
    fill_rect(image, centre, y + 3 * s, to_x(second), y + row - 3 * s, low_first ? high_colour : low_colour);
  }
  return image;
}

void write_tornado_png(const std::filesystem::path& path, const tornado_spec& spec) {
  write_png(path, render_tornado(spec));
}

}  // namespace amimo::report
