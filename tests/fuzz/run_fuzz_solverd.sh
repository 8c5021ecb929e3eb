#!/usr/bin/env bash
# Builds the amimo-solverd request-handling fuzz target (decode + spec/option validation +
# work estimate) with clang (libFuzzer + ASan + UBSan) and runs it briefly from a seed
# corpus of valid requests. Exit 77 (skipped) when clang is missing.
set -euo pipefail
root="$1"
seconds="${2:-20}"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
command -v clang++ >/dev/null || { echo "clang++ not installed: fuzz target skipped"; exit 77; }
# The built-in profiles, embedded as the build does (lib/CMakeLists.txt).
mkdir -p "$work/gen"
python3 - "$root/configs/analog" "$work/gen/analog_profiles_embedded.h" <<'PY'
import os, sys
src, out = sys.argv[1], sys.argv[2]
rows = []
for name in sorted(n[:-5] for n in os.listdir(src) if n.endswith(".yaml")):
    text = open(os.path.join(src, name + ".yaml")).read()
    rows.append('  {"%s", R"amimo_yaml(%s)amimo_yaml"},\n' % (name, text))
open(out, "w").write("#pragma once\n#include <string_view>\nstruct embedded_profile { std::string_view name; "
                     "std::string_view yaml; };\ninline constexpr embedded_profile kEmbeddedProfiles[] = {\n"
                     + "".join(rows) + "};\n")
PY
clang++ -std=c++20 -O1 -g -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
  -I"$root/lib" -I"$work/gen" -isystem /usr/include/eigen3 \
  "$root/tests/fuzz/fuzz_solverd_request.cpp" "$root/lib/amimo/remote/service_policy.cpp" \
  "$root/lib/amimo/remote/wire_format.cpp" "$root/lib/amimo/analog/analog_profile.cpp" \
  "$root/lib/amimo/core/file_io.cpp" \
  -lyaml-cpp -o "$work/fuzz"
mkdir -p "$work/corpus"
# Seed corpus: requests for each backend, a named profile with tuning, an inline profile,
# and version-2 solve_batch requests.
python3 - "$work/corpus" "$root/configs/analog/ideal.yaml" <<'PY'
import struct, sys
def request(spec, n=2):
    items = struct.pack("<BBHIIIQ", 1, 0, 0, 0, 0, 0, 5)
    items += struct.pack("<BBHIIIQ", 2, 0, 0, n, n, 0, 0) + struct.pack("<%df" % (2 * n * n), *([1.0, 0.0] * n * n))
    items += struct.pack("<BBHIIIQ", 3, 0, 0, n, 1, 0, 0) + struct.pack("<%df" % (2 * n), *([1.0, 0.0] * n))
    return struct.pack("<IHHQQQIIIB3x", 0x56534D41, 1, 1, 1, 2, 3, n, 3, len(spec), 1) + spec + items
def batch_request(spec, n=2, count=3, r=2):
    # Wire version 2: a reseed, then one solve_batch item of `count` systems (every A, then every B).
    items = struct.pack("<BBHIIIQ", 1, 0, 0, 0, 0, 0, 5)
    reals = count * (n * n + n * r) * 2
    items += struct.pack("<BBHIIIQ", 4, 0, 0, n, r, count, 0) + struct.pack("<%df" % reals, *([1.0, 0.0] * (reals // 2)))
    return struct.pack("<IHHQQQIIIB3x", 0x56534D41, 2, 1, 1, 2, 3, n, 2, len(spec), 1) + spec + items
inline = open(sys.argv[2]).read().replace("\\", "\\\\").replace("\n", "\\n").replace("\t", "\\t").encode()
seeds = {"digital": b"digital-f64", "analog": b"analog\nprofile=paper-board\niters=5\ntol=1e-6",
         "analog-lp": b"analog-lp\nprofile=ideal\narray=16", "inline": b"analog\nprofile-yaml=" + inline,
         "path": b"analog\nprofile=/etc/passwd", "dup": b"analog\niters=3\niters=4",
         # Valid YAML that is no profile: a sequence as a key (a finding of 2026-12-02:
         # yaml-cpp's conversion exception escaped the profile parser).
         "inline-odd-key": b"analog\nprofile-yaml=? [device]\\n: {bits: 4}\\n"}
for name, spec in seeds.items():
    open(sys.argv[1] + "/" + name, "wb").write(request(spec))
for name, spec in {"batch-digital": b"digital-f32", "batch-analog": b"analog\nprofile=paper-board\niters=3"}.items():
    open(sys.argv[1] + "/" + name, "wb").write(batch_request(spec))
PY
# A finding fails the test (exit 1, never 77 = skipped); the reproducer is printed in base64.
status=0
"$work/fuzz" -max_total_time="$seconds" -rss_limit_mb=1024 -max_len=8192 -artifact_prefix="$work/" "$work/corpus" \
  >"$work/log" 2>&1 || status=$?
tail -n 25 "$work/log"
[ "$status" -eq 0 ] || { echo "fuzz_solverd_request: finding (libFuzzer exit $status)"; exit 1; }
