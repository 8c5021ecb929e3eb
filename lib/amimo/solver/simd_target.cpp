#include <amimo/core/error.h>
#include <amimo/solver/simd_target.h>

#include <hwy/highway.h>
#include <hwy/targets.h>

#include <atomic>

namespace amimo::simd {
namespace {

// The targets the kernel files are compiled for, best first (HWY_TARGETS of this file's
// compilation: the same definitions, simd_config in lib/CMakeLists.txt, apply to all of them).
constexpr std::int64_t kCompiled[] = {HWY_AVX3, HWY_AVX2, HWY_EMU128, HWY_SCALAR};

bool compiled(std::int64_t target) noexcept { return (HWY_TARGETS & target) != 0; }
bool runnable(std::int64_t target) noexcept { return compiled(target) && (hwy::SupportedTargets() & target) != 0; }

std::atomic<std::int64_t> forced{0};

}  // namespace

std::vector<std::string> compiled_targets() {
  std::vector<std::string> names;
  for (const std::int64_t t : kCompiled) {
    if (compiled(t)) names.emplace_back(hwy::TargetName(t));
  }
  return names;
}

std::vector<std::string> runnable_targets() {
  std::vector<std::string> names;
  for (const std::int64_t t : kCompiled) {
    if (runnable(t)) names.emplace_back(hwy::TargetName(t));
  }
  return names;
}

std::int64_t current_target_bit() {
  const std::int64_t f = forced.load(std::memory_order_relaxed);
  if (f != 0) return f;
  for (const std::int64_t t : kCompiled) {
    if (runnable(t)) return t;
  }
  return HWY_STATIC_TARGET;  // the build's own baseline always runs
}

std::string current_target() { return hwy::TargetName(current_target_bit()); }

int current_f32_lanes() {
  const std::int64_t t = current_target_bit();
  return t == HWY_AVX3 ? 16 : t == HWY_AVX2 ? 8 : 1;
}

void use_target(std::string_view name) {
  if (name.empty()) {
    forced.store(0, std::memory_order_relaxed);
    return;
  }
  for (const std::int64_t t : kCompiled) {
    if (name != hwy::TargetName(t)) continue;
    if (!compiled(t)) break;
    if (!runnable(t)) throw config_error("SIMD target '" + std::string(name) + "' is not supported by this CPU");
    forced.store(t, std::memory_order_relaxed);
    return;
  }
  throw config_error("SIMD target '" + std::string(name) + "' is not compiled in (compiled: " + [] {
    std::string list;
    for (const std::string& n : compiled_targets()) list += (list.empty() ? "" : ", ") + n;
    return list;
  }() + ")");
}

}  // namespace amimo::simd
