#include <amimo/perf/rapl.h>

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <fstream>
#include <system_error>

namespace amimo::perf {
namespace {

// A sysfs counter: one unsigned decimal number and a newline; nullopt if unreadable.
std::optional<std::uint64_t> read_counter(const std::filesystem::path& path) {
  std::ifstream in(path);
  if (!in) return std::nullopt;
  std::string text;
  if (!std::getline(in, text)) return std::nullopt;
  std::uint64_t value = 0;
  const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || ptr == text.data()) return std::nullopt;
  return value;
}

// "intel-rapl:0" (a package), not "intel-rapl:0:1" (a sub-zone: core, uncore, dram).
bool is_package_zone(const std::string& name) {
  const std::string prefix = "intel-rapl:";
  if (name.rfind(prefix, 0) != 0 || name.size() == prefix.size()) return false;
  return std::all_of(name.begin() + static_cast<std::ptrdiff_t>(prefix.size()), name.end(),
                     [](char c) { return c >= '0' && c <= '9'; });
}

}  // namespace

rapl_meter::rapl_meter(std::filesystem::path root) {
  std::error_code ec;
  if (!std::filesystem::is_directory(root, ec)) {
    status_ = fmt::format("no {} (no powercap/RAPL interface on this machine)", root.string());
    return;
  }
  std::vector<std::string> names;
  for (const auto& entry : std::filesystem::directory_iterator(root, ec)) {
    const std::string name = entry.path().filename().string();
    if (is_package_zone(name)) names.push_back(name);
  }
  std::sort(names.begin(), names.end());
  int unreadable = 0;
  for (const std::string& name : names) {
    const std::filesystem::path energy = root / name / "energy_uj";
    if (!read_counter(energy)) {
      ++unreadable;
      continue;
    }
    zones_.push_back({energy, read_counter(root / name / "max_energy_range_uj").value_or(0)});
  }
  if (!zones_.empty()) {
    status_ = fmt::format("{} package zone{} under {}", zones_.size(), zones_.size() == 1 ? "" : "s", root.string());
  } else if (unreadable > 0) {
    status_ = fmt::format("{} RAPL zone{} under {} not readable (permissions)", unreadable, unreadable == 1 ? "" : "s",
                          root.string());
  } else {
    status_ = fmt::format("no RAPL package zone under {}", root.string());
  }
}

std::optional<rapl_meter::reading> rapl_meter::read() const {
  if (zones_.empty()) return std::nullopt;  // nothing to measure: the caller models instead
  reading r;
  for (const zone& z : zones_) {
    const auto v = read_counter(z.energy);
    if (!v) return std::nullopt;
    r.microjoules.push_back(*v);
  }
  return r;
}

double rapl_meter::joules_between(const reading& before, const reading& after) const noexcept {
  double total = 0.0;
  const std::size_t n = std::min({before.microjoules.size(), after.microjoules.size(), zones_.size()});
  for (std::size_t i = 0; i < n; ++i) {
    const std::uint64_t a = before.microjoules[i];
    const std::uint64_t b = after.microjoules[i];
    std::uint64_t delta = b - a;
    if (b < a) delta = zones_[i].range_uj > a ? zones_[i].range_uj - a + b : 0;  // wrapped (or unknown range)
    total += static_cast<double>(delta) * 1e-6;
  }
  return total;
}

}  // namespace amimo::perf
