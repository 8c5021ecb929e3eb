#!/usr/bin/env bash
# Builds the wire-decoder fuzz target with clang (libFuzzer + ASan + UBSan) and runs it
# briefly from a seed corpus of valid messages. Exit 77 (skipped) when clang is missing.
set -euo pipefail
root="$1"
seconds="${2:-20}"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
command -v clang++ >/dev/null || { echo "clang++ not installed: fuzz target skipped"; exit 77; }
clang++ -std=c++20 -O1 -g -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
  -I"$root/lib" -isystem /usr/include/eigen3 \
  "$root/tests/fuzz/fuzz_wire_decoder.cpp" "$root/lib/amimo/remote/wire_format.cpp" -o "$work/fuzz"
mkdir -p "$work/corpus"
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
"$work/fuzz" -max_total_time="$seconds" -rss_limit_mb=1024 -max_len=4096 "$work/corpus" 2>&1 | tail -3
