#include <amimo/report/line_plot.h>

#include <amimo/report/bitmap_font.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <limits>
#include <stdexcept>
#include <utility>

namespace amimo::report {

namespace {

constexpr rgb white{255, 255, 255};
constexpr rgb black{0, 0, 0};
constexpr rgb grid_major{220, 220, 220};
constexpr rgb grid_minor{238, 238, 238};
constexpr rgb legend_border{150, 150, 150};

// Tableau-10 without its grey, so no series can be mistaken for grid or text.
constexpr std::array<rgb, 9> palette{{
    {31, 119, 180},
    {255, 127, 14},
    {44, 160, 44},
    {214, 39, 40},
    {148, 103, 189},
    {140, 86, 75},
    {227, 119, 194},
    {188, 189, 34},
    {23, 190, 207},
}};

constexpr int tick_length = 5;
constexpr int min_width = 160;
constexpr int min_height = 120;
constexpr double nan = std::numeric_limits<double>::quiet_NaN();

bool drawable_y(double y, bool log_y) noexcept { return std::isfinite(y) && (!log_y || y > 0.0); }

int to_int(double v) noexcept { return static_cast<int>(std::lround(v)); }

struct bar_ends {
  double lo, hi;
  bool lo_shown;  ///< false: the bar runs uncapped to the bottom of the plot
};

// The error bar of point i, if it has one that can be drawn. A missing side degenerates to the
// point itself. The upper end must be drawable; a lower end that is not (a bound <= 0 on a log
// axis, e.g. zero observed errors, or -inf) runs off the bottom of the plot. NaN means unknown,
// so no bar.
std::optional<bar_ends> error_bar(const plot_series& s, std::size_t i, bool log_y) noexcept {
  if (s.y_low.empty() && s.y_high.empty()) return std::nullopt;
  double lo = s.y_low.empty() ? s.y[i] : s.y_low[i];
  double hi = s.y_high.empty() ? s.y[i] : s.y_high[i];
  if (std::isnan(lo) || std::isnan(hi)) return std::nullopt;
  if (lo > hi) std::swap(lo, hi);
  if (!drawable_y(hi, log_y)) return std::nullopt;
  return bar_ends{lo, hi, drawable_y(lo, log_y)};
}

// ---------------------------------------------------------------------------------------------
// Axis ranges and ticks

struct extent {
  double lo = std::numeric_limits<double>::infinity();
  double hi = -std::numeric_limits<double>::infinity();
  void add(double v) noexcept {
    lo = std::min(lo, v);
    hi = std::max(hi, v);
  }
  bool empty() const noexcept { return lo > hi; }
};

// 1, 2 or 5 times a power of ten, close to raw: the steps people read most easily.
double nice_step(double raw) noexcept {
  const double magnitude = std::pow(10.0, std::floor(std::log10(raw)));
  const double f = raw / magnitude;
  const double m = f < 1.5 ? 1.0 : f < 3.0 ? 2.0 : f < 7.0 ? 5.0 : 10.0;
  return m * magnitude;
}

std::string format_linear(double v, double step) {
  char buf[32];
  const double magnitude = std::max(std::abs(v), step);
  const int decimals = std::max(0, -static_cast<int>(std::floor(std::log10(step) + 1e-9)));
  if (magnitude >= 1e6 || decimals > 6) {
    std::snprintf(buf, sizeof buf, "%.3g", v);
  } else {
    std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  }
  return buf;
}

// Picks a rounded range covering e with about target_ticks intervals, and its ticks.
void linear_axis(extent e, double target_ticks, double& lo, double& hi,
                 std::vector<axis_tick>& ticks) {
  if (e.empty()) {
    e.lo = 0.0;
    e.hi = 1.0;
  }
  const double span = e.hi - e.lo;
  if (!std::isfinite(span)) {
    throw std::invalid_argument("line plot: data range too wide to plot");
  }
  if (!(span > 1e-12 * std::max(1.0, std::abs(e.hi)))) {
    // A single value gets room around it, so it sits mid-plot rather than on the frame.
    const double pad = e.lo == 0.0 ? 1.0 : 0.1 * std::abs(e.lo);
    e.lo -= pad;
    e.hi += pad;
  }
  const double step = nice_step((e.hi - e.lo) / std::max(1.0, target_ticks));
  const double k_lo = std::floor(e.lo / step + 1e-9);
  const double k_hi = std::ceil(e.hi / step - 1e-9);
  lo = k_lo * step;
  hi = k_hi * step;
  ticks.clear();
  for (double k = k_lo; k <= k_hi + 0.5; k += 1.0) {
    double v = k * step;
    if (std::abs(v) < 1e-9 * step) v = 0.0;  // avoid a "-0" label
    ticks.push_back({v, format_linear(v, step), true});
  }
}

std::string decade_label(int exponent) {
  if (exponent == 0) return "1";
  return "1e" + std::to_string(exponent);
}

void log_axis(extent e, int plot_pixels, int label_pixels, double& lo, double& hi,
              std::vector<axis_tick>& ticks) {
  if (e.empty()) {
    e.lo = 1e-6;
    e.hi = 1.0;
  }
  // The epsilons keep exact powers of ten (whose log10 may be off by an ulp) on their decade.
  int d_lo = static_cast<int>(std::floor(std::log10(e.lo) + 1e-9));
  int d_hi = static_cast<int>(std::ceil(std::log10(e.hi) - 1e-9));
  if (d_hi <= d_lo) {
    --d_lo;
    ++d_hi;
  }
  lo = std::pow(10.0, d_lo);
  hi = std::pow(10.0, d_hi);
  const int decades = d_hi - d_lo;
  const double per_decade = static_cast<double>(plot_pixels) / decades;
  // Label every stride-th decade so labels never collide on tall decade counts.
  const int stride = std::max(1, static_cast<int>(std::ceil(2.0 * label_pixels / per_decade)));
  const bool minor = per_decade >= 40.0;
  ticks.clear();
  for (int d = d_lo; d <= d_hi; ++d) {
    const double base = std::pow(10.0, d);
    ticks.push_back({base, (d - d_lo) % stride == 0 ? decade_label(d) : std::string{}, true});
    if (minor && d < d_hi) {
      for (int m = 2; m <= 9; ++m) ticks.push_back({m * base, std::string{}, false});
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Raster primitives

struct clip_rect {
  double left, top, right, bottom;
};

void fill_rect(rgb_image& img, int x0, int y0, int x1, int y1, rgb c) noexcept {
  for (int y = y0; y <= y1; ++y) {
    for (int x = x0; x <= x1; ++x) img.set_pixel(x, y, c);
  }
}

void draw_rect(rgb_image& img, int x0, int y0, int x1, int y1, rgb c) noexcept {
  fill_rect(img, x0, y0, x1, y0, c);
  fill_rect(img, x0, y1, x1, y1, c);
  fill_rect(img, x0, y0, x0, y1, c);
  fill_rect(img, x1, y0, x1, y1, c);
}

// Liang-Barsky: trims the segment to the rectangle; false if nothing is left. Done in doubles
// before rounding, so far-away points cannot overflow int or make Bresenham walk forever.
bool clip_segment(double& x0, double& y0, double& x1, double& y1, const clip_rect& r) noexcept {
  const double dx = x1 - x0;
  const double dy = y1 - y0;
  double t0 = 0.0;
  double t1 = 1.0;
  const std::array<std::pair<double, double>, 4> edges{{
      {-dx, x0 - r.left},
      {dx, r.right - x0},
      {-dy, y0 - r.top},
      {dy, r.bottom - y0},
  }};
  for (const auto& [p, q] : edges) {
    if (p == 0.0) {
      if (q < 0.0) return false;
      continue;
    }
    const double t = q / p;
    if (p < 0.0) {
      if (t > t1) return false;
      t0 = std::max(t0, t);
    } else {
      if (t < t0) return false;
      t1 = std::min(t1, t);
    }
  }
  const double nx0 = x0 + t0 * dx;
  const double ny0 = y0 + t0 * dy;
  x1 = x0 + t1 * dx;
  y1 = y0 + t1 * dy;
  x0 = nx0;
  y0 = ny0;
  return true;
}

// Bresenham with a thickness x thickness brush, clipped to r.
void draw_line(rgb_image& img, double fx0, double fy0, double fx1, double fy1, rgb c,
               const clip_rect& r, int thickness) noexcept {
  // NaN would slip through the clipping comparisons and leave Bresenham unbounded.
  if (!std::isfinite(fx0) || !std::isfinite(fy0) || !std::isfinite(fx1) || !std::isfinite(fy1)) {
    return;
  }
  if (!clip_segment(fx0, fy0, fx1, fy1, r)) return;
  int x0 = to_int(fx0);
  int y0 = to_int(fy0);
  const int x1 = to_int(fx1);
  const int y1 = to_int(fy1);
  const int dx = std::abs(x1 - x0);
  const int dy = -std::abs(y1 - y0);
  const int sx = x0 < x1 ? 1 : -1;
  const int sy = y0 < y1 ? 1 : -1;
  const int lo = -(thickness - 1) / 2;  // centre the brush on the ideal line
  const int hi = lo + thickness - 1;
  int err = dx + dy;
  for (;;) {
    for (int by = lo; by <= hi; ++by) {
      for (int bx = lo; bx <= hi; ++bx) {
        const int px = x0 + bx;
        const int py = y0 + by;
        if (px >= r.left && px <= r.right && py >= r.top && py <= r.bottom) {
          img.set_pixel(px, py, c);
        }
      }
    }
    if (x0 == x1 && y0 == y1) break;
    const int e2 = 2 * err;
    if (e2 >= dy) {
      err += dy;
      x0 += sx;
    }
    if (e2 <= dx) {
      err += dx;
      y0 += sy;
    }
  }
}

// Marker shapes cycle with the series index, so curves stay distinguishable in greyscale.
// Every shape covers its centre pixel.
void draw_marker(rgb_image& img, int cx, int cy, std::size_t index, rgb c) noexcept {
  constexpr int radius = 4;
  switch (index % 4) {
    case 0:  // square
      fill_rect(img, cx - radius + 1, cy - radius + 1, cx + radius - 1, cy + radius - 1, c);
      break;
    case 1:  // disc
      for (int dy = -radius; dy <= radius; ++dy) {
        for (int dx = -radius; dx <= radius; ++dx) {
          if (dx * dx + dy * dy <= radius * radius) img.set_pixel(cx + dx, cy + dy, c);
        }
      }
      break;
    case 2:  // triangle pointing up
      for (int dy = -radius; dy <= radius; ++dy) {
        const int half = (dy + radius) / 2;
        fill_rect(img, cx - half, cy + dy, cx + half, cy + dy, c);
      }
      break;
    default:  // diamond
      for (int dy = -radius - 1; dy <= radius + 1; ++dy) {
        const int half = radius + 1 - std::abs(dy);
        fill_rect(img, cx - half, cy + dy, cx + half, cy + dy, c);
      }
      break;
  }
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Layout

double plot_layout::x_to_pixel(double x) const noexcept {
  const double t = (x - x_min) / (x_max - x_min);
  return plot_left + t * (plot_right - plot_left);
}

double plot_layout::y_to_pixel(double y) const noexcept {
  if (!drawable_y(y, log_y)) return nan;
  const double t =
      log_y ? (std::log10(y) - std::log10(y_min)) / (std::log10(y_max) - std::log10(y_min))
            : (y - y_min) / (y_max - y_min);
  return plot_bottom - t * (plot_bottom - plot_top);
}

std::optional<pixel_point> plot_layout::to_pixel(double x, double y) const noexcept {
  if (!std::isfinite(x) || !drawable_y(y, log_y)) return std::nullopt;
  return pixel_point{x_to_pixel(x), y_to_pixel(y)};
}

plot_layout compute_plot_layout(const plot_spec& spec) {
  if (spec.width < min_width || spec.height < min_height) {
    throw std::invalid_argument("line plot: image must be at least " + std::to_string(min_width) +
                                " x " + std::to_string(min_height) + " pixels");
  }
  extent xs;
  extent ys;
  for (const plot_series& s : spec.series) {
    const auto n = s.y.size();
    if (s.x.size() != n) {
      throw std::invalid_argument("line plot: series '" + s.label + "' has " +
                                  std::to_string(s.x.size()) + " x values but " +
                                  std::to_string(n) + " y values");
    }
    if ((!s.y_low.empty() && s.y_low.size() != n) || (!s.y_high.empty() && s.y_high.size() != n)) {
      throw std::invalid_argument("line plot: series '" + s.label +
                                  "' has error bars of a different length than y");
    }
    for (std::size_t i = 0; i < n; ++i) {
      if (!std::isfinite(s.x[i])) continue;
      bool shown = false;
      if (drawable_y(s.y[i], spec.log_y)) {
        ys.add(s.y[i]);
        shown = true;
      }
      // The range covers exactly what render_line_plot draws, so bars of points that are
      // themselves skipped (zero errors on a log axis) still fit.
      if (const auto bar = error_bar(s, i, spec.log_y)) {
        ys.add(bar->hi);
        if (bar->lo_shown) ys.add(bar->lo);
        shown = true;
      }
      if (shown) xs.add(s.x[i]);
    }
  }

  plot_layout layout;
  layout.log_y = spec.log_y;
  // Bigger text on bigger images keeps labels readable at typical viewing size.
  layout.font_scale = spec.width >= 720 && spec.height >= 480 ? 2 : 1;
  const int s = layout.font_scale;
  const int th = text_height(s);

  layout.plot_top = spec.title.empty() ? th / 2 + 10 : text_height(s + 1) + 20;
  layout.plot_bottom =
      spec.height - 1 - (tick_length + 6 + th + (spec.x_label.empty() ? 0 : th + 10) + 10);
  const int plot_h = layout.plot_bottom - layout.plot_top;

  if (spec.log_y) {
    log_axis(ys, plot_h, th, layout.y_min, layout.y_max, layout.y_ticks);
  } else {
    linear_axis(ys, std::clamp(plot_h / (4.0 * th), 2.0, 10.0), layout.y_min, layout.y_max,
                layout.y_ticks);
  }
  int label_w = 0;
  for (const axis_tick& t : layout.y_ticks) label_w = std::max(label_w, text_width(t.label, s));
  layout.plot_left = 10 + (spec.y_label.empty() ? 0 : th + 10) + label_w + 4 + tick_length;

  // x labels are wider than tall, so they need more room per tick than y labels.
  const int estimated_w = spec.width - layout.plot_left - 20;
  linear_axis(xs, std::clamp(estimated_w / (10.0 * th), 2.0, 12.0), layout.x_min, layout.x_max,
              layout.x_ticks);
  const int last_w = layout.x_ticks.empty() ? 0 : text_width(layout.x_ticks.back().label, s);
  layout.plot_right = spec.width - 1 - std::max(16, last_w / 2 + 6);

  if (layout.plot_right - layout.plot_left < 40 || layout.plot_bottom - layout.plot_top < 40) {
    throw std::invalid_argument("line plot: image too small for its labels");
  }
  return layout;
}

rgb series_colour(std::size_t index) noexcept { return palette[index % palette.size()]; }

// ---------------------------------------------------------------------------------------------
// Rendering

rgb_image render_line_plot(const plot_spec& spec) {
  const plot_layout L = compute_plot_layout(spec);
  const int s = L.font_scale;
  const int th = text_height(s);
  rgb_image img(spec.width, spec.height, white);

  // Grid first so everything else draws over it; minor lines lighter than major ones.
  for (const axis_tick& t : L.y_ticks) {
    const int py = to_int(L.y_to_pixel(t.value));
    if (py <= L.plot_top || py >= L.plot_bottom) continue;
    fill_rect(img, L.plot_left + 1, py, L.plot_right - 1, py, t.major ? grid_major : grid_minor);
  }
  for (const axis_tick& t : L.x_ticks) {
    const int px = to_int(L.x_to_pixel(t.value));
    if (px <= L.plot_left || px >= L.plot_right) continue;
    fill_rect(img, px, L.plot_top + 1, px, L.plot_bottom - 1, grid_major);
  }
  draw_rect(img, L.plot_left, L.plot_top, L.plot_right, L.plot_bottom, black);

  // Tick marks and labels outside the frame.
  for (const axis_tick& t : L.y_ticks) {
    const int py = to_int(L.y_to_pixel(t.value));
    const int len = t.major ? tick_length : tick_length / 2 + 1;
    fill_rect(img, L.plot_left - len, py, L.plot_left - 1, py, black);
    if (!t.label.empty()) {
      draw_text(img, L.plot_left - tick_length - 4 - text_width(t.label, s), py - th / 2 + s,
                t.label, black, s);
    }
  }
  for (const axis_tick& t : L.x_ticks) {
    const int px = to_int(L.x_to_pixel(t.value));
    fill_rect(img, px, L.plot_bottom + 1, px, L.plot_bottom + tick_length, black);
    draw_text(img, px - text_width(t.label, s) / 2, L.plot_bottom + tick_length + 6, t.label,
              black, s);
  }

  const clip_rect area{static_cast<double>(L.plot_left), static_cast<double>(L.plot_top),
                       static_cast<double>(L.plot_right), static_cast<double>(L.plot_bottom)};

  for (std::size_t si = 0; si < spec.series.size(); ++si) {
    const plot_series& ser = spec.series[si];
    const rgb c = series_colour(si);
    const std::size_t n = ser.y.size();

    // Error bars first, so lines and markers stay on top of them.
    if (!ser.y_low.empty() || !ser.y_high.empty()) {
      for (std::size_t i = 0; i < n; ++i) {
        if (!std::isfinite(ser.x[i])) continue;
        const auto bar = error_bar(ser, i, spec.log_y);
        if (!bar) continue;
        const double px = L.x_to_pixel(ser.x[i]);
        const double py_hi = L.y_to_pixel(bar->hi);
        const double py_lo = bar->lo_shown ? L.y_to_pixel(bar->lo) : L.plot_bottom;
        draw_line(img, px, py_hi, px, py_lo, c, area, 1);
        draw_line(img, px - 3, py_hi, px + 3, py_hi, c, area, 1);
        if (bar->lo_shown) draw_line(img, px - 3, py_lo, px + 3, py_lo, c, area, 1);
      }
    }

    std::optional<pixel_point> prev;
    for (std::size_t i = 0; i < n; ++i) {
      const auto p = L.to_pixel(ser.x[i], ser.y[i]);
      if (p && prev) draw_line(img, prev->x, prev->y, p->x, p->y, c, area, 2);
      prev = p;  // an undrawable point breaks the line
    }
    for (std::size_t i = 0; i < n; ++i) {
      const auto p = L.to_pixel(ser.x[i], ser.y[i]);
      if (p && p->x >= area.left - 0.5 && p->x <= area.right + 0.5 && p->y >= area.top - 0.5 &&
          p->y <= area.bottom + 0.5) {
        draw_marker(img, to_int(p->x), to_int(p->y), si, c);
      }
    }
  }

  // Legend inside the plot area, on white so curves cannot hide it.
  std::vector<std::size_t> entries;
  int legend_text_w = 0;
  for (std::size_t si = 0; si < spec.series.size(); ++si) {
    if (spec.series[si].label.empty()) continue;
    entries.push_back(si);
    legend_text_w = std::max(legend_text_w, text_width(spec.series[si].label, s));
  }
  if (!entries.empty()) {
    constexpr int swatch = 30;
    const int row_h = std::max(th, 10) + 6;
    const int box_w = 8 + swatch + 8 + legend_text_w + 8;
    const int box_h = 6 + static_cast<int>(entries.size()) * row_h;
    // Of the four corners, take the one covering the fewest curve pixels (top-right wins
    // ties): BER curves fall left to right, throughput curves rise, and neither should be hidden.
    const std::array<std::pair<int, int>, 4> corners{{
        {L.plot_right - 8 - box_w, L.plot_top + 8},
        {L.plot_left + 8, L.plot_top + 8},
        {L.plot_right - 8 - box_w, L.plot_bottom - 8 - box_h},
        {L.plot_left + 8, L.plot_bottom - 8 - box_h},
    }};
    std::size_t best = 0;
    long best_cover = -1;
    for (std::size_t k = 0; k < corners.size(); ++k) {
      long cover = 0;
      for (int y = corners[k].second; y <= corners[k].second + box_h; ++y) {
        for (int x = corners[k].first; x <= corners[k].first + box_w; ++x) {
          if (x < 0 || y < 0 || x >= spec.width || y >= spec.height) continue;
          const rgb p = img.pixel(x, y);
          cover += std::find(palette.begin(), palette.end(), p) != palette.end() ? 1 : 0;
        }
      }
      if (best_cover < 0 || cover < best_cover) {
        best = k;
        best_cover = cover;
      }
    }
    const int x0 = corners[best].first;
    const int x1 = x0 + box_w;
    const int y0 = corners[best].second;
    fill_rect(img, x0, y0, x1, y0 + box_h, white);
    draw_rect(img, x0, y0, x1, y0 + box_h, legend_border);
    const clip_rect everywhere{0.0, 0.0, static_cast<double>(spec.width - 1),
                               static_cast<double>(spec.height - 1)};
    for (std::size_t k = 0; k < entries.size(); ++k) {
      const std::size_t si = entries[k];
      const int cy = y0 + 6 + static_cast<int>(k) * row_h + row_h / 2 - 3;
      const rgb c = series_colour(si);
      draw_line(img, x0 + 8, cy, x0 + 8 + swatch, cy, c, everywhere, 2);
      draw_marker(img, x0 + 8 + swatch / 2, cy, si, c);
      draw_text(img, x0 + 8 + swatch + 8, cy - th / 2 + s, spec.series[si].label, black, s);
    }
  }

  if (!spec.title.empty()) {
    const int ts = s + 1;
    const int cx = (L.plot_left + L.plot_right) / 2;
    draw_text(img, std::max(4, cx - text_width(spec.title, ts) / 2), 10, spec.title, black, ts);
  }
  if (!spec.x_label.empty()) {
    const int cx = (L.plot_left + L.plot_right) / 2;
    draw_text(img, cx - text_width(spec.x_label, s) / 2, spec.height - 1 - 10 - th, spec.x_label,
              black, s);
  }
  if (!spec.y_label.empty()) {
    const int cy = (L.plot_top + L.plot_bottom) / 2;
    draw_text_vertical(img, 10, cy - text_width(spec.y_label, s) / 2, spec.y_label, black, s);
  }
  return img;
}

void write_line_plot_png(const std::filesystem::path& path, const plot_spec& spec) {
  write_png(path, render_line_plot(spec));
}

}  // namespace amimo::report
