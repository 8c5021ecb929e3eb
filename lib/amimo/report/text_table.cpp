#include <amimo/report/text_table.h>

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

namespace amimo::report {

text_table::text_table(std::vector<table_group> groups) : groups_(std::move(groups)) {}

namespace {
int group_width(const table_group& g) {
  int width = 0;
  for (const table_column& c : g.columns) width += c.width + 3;
  return width - 1;
}
}  // namespace

std::string text_table::header() const {
  std::string rule = "# ";
  std::string titles = "# ";
  std::string columns = "# ";
  for (std::size_t i = 0; i < groups_.size(); ++i) {
    const table_group& g = groups_[i];
    const int width = group_width(g);
    const char* sep = i + 1 < groups_.size() ? "||" : "";
    rule += std::string(static_cast<std::size_t>(width), '-') + (i + 1 < groups_.size() ? "||" : "");
    titles += fmt::format("{:^{}}{}", g.title, width, sep);
    for (std::size_t c = 0; c < g.columns.size(); ++c) {
      columns += fmt::format(" {:^{}} {}", g.columns[c].title, g.columns[c].width,
                             c + 1 < g.columns.size() ? "|" : sep);
    }
  }
  return rule + "\n" + titles + "\n" + rule + "\n" + columns + "\n" + rule + "\n";
}

std::string text_table::row(const std::vector<std::string>& cells) const {
  std::string line = "  ";
  std::size_t index = 0;
  for (std::size_t i = 0; i < groups_.size(); ++i) {
    const table_group& g = groups_[i];
    for (std::size_t c = 0; c < g.columns.size(); ++c, ++index) {
      const std::string& cell = index < cells.size() ? cells[index] : std::string();
      const char* sep = c + 1 < g.columns.size() ? "|" : (i + 1 < groups_.size() ? "||" : "");
      line += fmt::format(" {:>{}} {}", cell, g.columns[c].width, sep);
    }
  }
  return line + "\n";
}

std::string si(double value, const char* unit) {
  if (!std::isfinite(value)) return "n/a";
  if (value == 0.0) return fmt::format("0 {}", unit);
  static const char* const prefixes[] = {"y", "z", "a", "f", "p", "n", "µ", "m", "",
                                         "k", "M", "G", "T", "P", "E", "Z", "Y"};
  int exponent = static_cast<int>(std::floor(std::log10(std::abs(value)) / 3.0));
  exponent = std::clamp(exponent, -8, 8);
  double mantissa = value / std::pow(1000.0, exponent);
  if (std::abs(mantissa) >= 999.5 && exponent < 8) {
    ++exponent;
    mantissa /= 1000.0;
  }
  return fmt::format("{:.3g} {}{}", mantissa, prefixes[exponent + 8], unit);
}

}  // namespace amimo::report
