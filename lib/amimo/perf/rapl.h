#pragma once
// CPU package energy from Linux RAPL through the powercap sysfs interface
// (/sys/class/powercap/intel-rapl:N/energy_uj, one top-level zone per package; AMD exposes
// the same "intel-rapl" zones). Where the files are readable, CPU energy is measured (the
// whole package: other processes and idle power included, stated with the figure);
// otherwise amimo falls back to its stated watts-per-core model, labelled modelled.

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace amimo::perf {

class rapl_meter {
 public:
  /// Finds the package zones under root (intel-rapl:N, not the sub-zones intel-rapl:N:M)
  /// whose energy_uj is readable now.
  explicit rapl_meter(std::filesystem::path root = "/sys/class/powercap");

  bool available() const noexcept { return !zones_.empty(); }
  /// "2 package zones under /sys/class/powercap" or why none is usable.
  const std::string& status() const noexcept { return status_; }

  /// One reading of every zone's counter (µJ).
  struct reading {
    std::vector<std::uint64_t> microjoules;
  };
  /// nullopt without zones, or when a counter cannot be read (permissions can change under a
  /// running process).
  std::optional<reading> read() const;

  /// Joules between two readings, each counter's wrap-around at max_energy_range_uj undone
  /// (at most one wrap per zone between the readings).
  double joules_between(const reading& before, const reading& after) const noexcept;

 private:
  struct zone {
    std::filesystem::path energy;
    std::uint64_t range_uj = 0;  ///< max_energy_range_uj (0: unknown, no wrap correction)
  };
  std::vector<zone> zones_;
  std::string status_;
};

}  // namespace amimo::perf
