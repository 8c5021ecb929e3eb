#!/usr/bin/env bash
# Builds one libFuzzer target with clang (libFuzzer + ASan + UBSan) and runs it for a
# bounded time from its committed seed corpus (tests/fuzz/corpus/TARGET, copied: new
# inputs go to a scratch copy). Exit 77 (skipped) when clang is missing.
#
#   run_fuzz.sh ROOT SECONDS [TARGET [BUILD_DIR]]
#
# TARGET: wire_decoder (default), sigmf_meta, config_yaml, matrix_market, png.
# config_yaml compiles the two config parsers instrumented and links the rest of amimo
# from BUILD_DIR's static libraries (built by the normal build; its generated headers too).
# To fuzz longer (README "Fuzzing"): run_fuzz.sh . 3600 png build; extra libFuzzer
# arguments can be given in FUZZ_ARGS (e.g. FUZZ_ARGS="-jobs=2 -workers=2"); FUZZ_INPUT=FILE
# runs the target once on FILE (a crash-* artifact) instead of fuzzing.
set -euo pipefail
artifacts="${FUZZ_ARTIFACTS:-$PWD/}"  # crash-*/timeout-* inputs land here (the caller's directory)
root="$(cd "$1" && pwd)"
seconds="${2:-20}"
target="${3:-wire_decoder}"
build="${4:-$root/build}"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export TMPDIR="$work"  # the targets' scratch files (fuzz_file.h) go with the rest
command -v clang++ >/dev/null || { echo "clang++ not installed: fuzz target skipped"; exit 77; }
flags=(-std=c++20 -O1 -g -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined
       -I"$root/lib" -isystem /usr/include/eigen3)
lib="$root/lib/amimo"
max_len=4096
mkdir -p "$work/corpus"
case "$target" in
  wire_decoder)
    clang++ "${flags[@]}" "$root/tests/fuzz/fuzz_wire_decoder.cpp" "$lib/remote/wire_format.cpp" -o "$work/fuzz"
    # Seed corpus: a valid request (header, spec, reseed item, 2x2 cf32 matrix) and an error reply.
    python3 - "$work/corpus" <<'PY'
import struct, sys
spec = b"digital-f64\nk=v"
items = struct.pack("<BBHIIIQ", 1, 0, 0, 0, 0, 0, 5)
items += struct.pack("<BBHIIIQ", 2, 0, 0, 2, 2, 0, 0) + struct.pack("<8f", 1, 0, 0, 0, 0, 0, 1, 0)
req = struct.pack("<IHHQQQIIIB3x", 0x56534D41, 1, 1, 1, 2, 3, 4, 2, len(spec), 1) + spec + items
open(sys.argv[1] + "/request", "wb").write(req)
err = struct.pack("<IHHQQII16x", 0x56534D41, 1, 3, 1, 2, 1, 3) + b"bad"
open(sys.argv[1] + "/error", "wb").write(err)
PY
    ;;
  sigmf_meta)
    clang++ "${flags[@]}" "$root/tests/fuzz/fuzz_sigmf_meta.cpp" "$lib/radio/sigmf.cpp" "$lib/core/file_io.cpp" \
      -o "$work/fuzz"
    max_len=16384
    ;;
  matrix_market)
    clang++ "${flags[@]}" "$root/tests/fuzz/fuzz_matrix_market.cpp" "$lib/core/matrix_market.cpp" \
      "$lib/core/file_io.cpp" -o "$work/fuzz"
    ;;
  png)
    clang++ "${flags[@]}" "$root/tests/fuzz/fuzz_png.cpp" "$lib/report/png_image.cpp" "$lib/core/file_io.cpp" \
      -lpng -o "$work/fuzz"
    max_len=16384
    ;;
  config_yaml)
    gen="$build/lib/generated"
    [[ -f "$gen/sweep/sweep_default_config.h" && -f "$build/lib/libamimo_sweep.a" ]] ||
      { echo "config_yaml needs a built tree at $build (lib/*.a, lib/generated)"; exit 1; }
    libs=()
    for a in "$build"/lib/libamimo_*.a "$build"/channel_models/libamimo_*.a; do
      case "$a" in *_uhd.a) ;; *) libs+=("$a") ;; esac
    done
    # A CUDA build's solver factory references the gpu backend: link the CUDA libraries too.
    cuda=()
    cudart=$(sed -n 's/^CUDA_cudart_LIBRARY:FILEPATH=//p' "$build/CMakeCache.txt" 2>/dev/null || true)
    if [[ -f "$build/lib/libamimo_gpu.a" && -n "$cudart" ]]; then
      cuda=(-L"$(dirname "$cudart")" -Wl,-rpath,"$(dirname "$cudart")" -lcudart -lcublas -lcusolver)
    fi
    clang++ "${flags[@]}" -I"$gen" -I"$gen/sweep" -I"$gen/link" -I"$root" \
      "$root/tests/fuzz/fuzz_config_yaml.cpp" "$lib/sweep/sweep_config.cpp" "$lib/pipeline/link_config.cpp" \
      -Wl,--start-group "${libs[@]}" -Wl,--end-group "${cuda[@]}" \
      -lyaml-cpp -lzmq -lliquid -lfftw3f -lpng -lfmt -lhwy -lpthread -o "$work/fuzz"
    ;;
  *) echo "unknown fuzz target '$target'"; exit 2 ;;
esac
if [[ -n "${FUZZ_INPUT:-}" ]]; then "$work/fuzz" "$FUZZ_INPUT" || exit 1; exit 0; fi  # reproduce one input (77 would read as skipped)
if [[ -d "$root/tests/fuzz/corpus/$target" ]]; then cp "$root/tests/fuzz/corpus/$target"/* "$work/corpus/"; fi
# A finding fails the test: libFuzzer's own exit status for one is 77, which ctest would
# report as skipped (a fuzz finding of 2026-12-03 in config_yaml went unnoticed that way),
# so any non-zero status becomes 1.
status=0
# shellcheck disable=SC2086
"$work/fuzz" -max_total_time="$seconds" -rss_limit_mb=2048 -max_len="$max_len" -timeout=10 \
  -artifact_prefix="$artifacts" ${FUZZ_ARGS:-} "$work/corpus" >"$work/log" 2>&1 || status=$?
if [ "$status" -ne 0 ]; then
  { grep -v '^ *#[0-9]* 0x' "$work/log" || true; } | tail -n 25
  echo "fuzz_$target: finding (libFuzzer exit $status); the input is in ${artifacts}crash-* / timeout-* / oom-*"
  exit 1
fi
tail -n 5 "$work/log"
