#!/usr/bin/env bash
# amimo-image as a user runs it: the default run writes every file with a header and a
# table; a PNG (the run's own original.png, and a tiny gray PNG) round-trips losslessly with
# digital-f64 at high SNR according to the program's own CSV and JSON; the same seed gives
# the same images; a corrupt or missing PNG, an unknown backend or option, ZF with K > N and
# a bad SNR fail with a message and a non-zero exit, writing nothing; no temp files remain.
set -u
image="$1"
source "$(dirname "$0")/cli_test_lib.sh"
run_bounded() { timeout -k 5 120 "$@"; }  # never hang
csv_field() {  # csv_field FILE BACKEND COLUMN
  python3 - "$@" <<'PY'
import csv, sys
path, backend, column = sys.argv[1:4]
for row in csv.DictReader(open(path)):
    if row["backend"] == backend:
        print(row[column]); break
PY
}

# --- default run: embedded test image, default backends ---------------------------------
run_bounded "$image" --out "$work/default" >"$work/default.txt" 2>"$work/default.err"
rc=$?
check "default: exit 0 (got $rc)" test "$rc" -eq 0
for f in original.png mosaic.png image.csv image.json recovered-digital-f32.png recovered-analog-1-it.png \
         recovered-analog-2-it.png recovered-analog-3-it.png recovered-analog-lp.png; do
  check "default: writes $f" test -s "$work/default/$f"
done
check "default: header has version" grep -q "^# amimo-image [0-9]" "$work/default.txt"
check "default: header has seed" grep -q "seed *: 1$" "$work/default.txt"
check "default: header names the input" grep -q "embedded default test image, 128x128" "$work/default.txt"
check "default: table says measured" grep -q "Recovered image (measured)" "$work/default.txt"
check "default: table says modelled" grep -q "modelled" "$work/default.txt"
check "default: png signature" bash -c "head -c 8 '$work/default/mosaic.png' | od -An -tx1 | grep -q '89 50 4e 47 0d 0a 1a 0a'"
check "default: csv and json agree, one row per backend" python3 - "$work/default/image.csv" "$work/default/image.json" <<'PY'
import csv, json, sys
rows = list(csv.DictReader(open(sys.argv[1])))
doc = json.load(open(sys.argv[2]))
assert [r["backend"] for r in rows] == ["digital-f32", "analog-1-it", "analog-2-it", "analog-3-it", "analog-lp"], rows
assert len(doc["backends"]) == 5
assert doc["parameters"]["seed"] == 1 and doc["image"]["width"] == 128 and not doc["image"]["grayscale"]
for r, b in zip(rows, doc["backends"]):
    assert int(r["bit_errors"]) == b["measured"]["bit_errors"]
    assert int(r["bits"]) == 128 * 128 * 24
    assert ("modelled" in b) == (b["solver"] != "digital-f32")
PY

# --- PNG input round trip: the run's own original.png, digital-f64, 40 dB QPSK ---------------
hi=(--solver digital-f64 --modulation qpsk --snr 40)
run_bounded "$image" --input "$work/default/original.png" "${hi[@]}" --out "$work/rt" >"$work/rt.txt" 2>&1
rc=$?
check "round trip: exit 0 (got $rc)" test "$rc" -eq 0
check "round trip: 0 bit errors" test "$(csv_field "$work/rt/image.csv" digital-f64 bit_errors)" = "0"
check "round trip: PSNR inf" test "$(csv_field "$work/rt/image.csv" digital-f64 psnr_db)" = "inf"
check "round trip: recovered pixels equal the input (re-read by amimo-image)" bash -c \
  "'$image' --input '$work/rt/recovered-digital-f64.png' ${hi[*]} --out '$work/rt2' >/dev/null 2>&1 && \
   cmp -s '$work/rt2/original.png' '$work/default/original.png'"

# A tiny gray PNG written here (7x5, 8-bit gray): sent with 8 bits per pixel.
python3 - "$work/gray.png" <<'PY'
import struct, sys, zlib
w, h = 7, 5
raw = b"".join(b"\x00" + bytes((x * 37 + y * 11) % 256 for x in range(w)) for y in range(h))
def chunk(t, d):
    return struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d) & 0xffffffff)
png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 0, 0, 0, 0))
png += chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")
open(sys.argv[1], "wb").write(png)
PY
run_bounded "$image" --input "$work/gray.png" "${hi[@]}" --out "$work/gray" >"$work/gray.txt" 2>&1
rc=$?
check "gray: exit 0 (got $rc)" test "$rc" -eq 0
check "gray: lossless, 8 bits per pixel, zero padding of the last vector" python3 - "$work/gray/image.json" <<'PY'
import json, sys
doc = json.load(open(sys.argv[1]))
img, b = doc["image"], doc["backends"][0]
assert img["grayscale"] and img["bits_per_pixel"] == 8 and img["payload_bits"] == 280, img
assert img["padding_bits"] == 0 and img["vectors"] == 35, img  # 4 users x 2 bits
assert b["measured"]["bit_errors"] == 0 and b["measured"]["psnr_db"] is None and b["measured"]["lossless"], b
PY

# --- reproducible: same seed, same images -----------------------------------------------
small=(--test-image-size 32 --modulation qam64 --snr 12 --solver digital-f32,analog:iters=2)
run_bounded "$image" "${small[@]}" --seed 5 --out "$work/s5a" >/dev/null 2>&1
run_bounded "$image" "${small[@]}" --seed 5 --out "$work/s5b" >/dev/null 2>&1
run_bounded "$image" "${small[@]}" --seed 6 --out "$work/s6" >/dev/null 2>&1
check "same seed: identical analog image" cmp -s "$work/s5a/recovered-analog-2-it.png" "$work/s5b/recovered-analog-2-it.png"
check "same seed: identical mosaic" cmp -s "$work/s5a/mosaic.png" "$work/s5b/mosaic.png"
check "other seed: different image" \
  bash -c "test -s '$work/s6/recovered-digital-f32.png' && ! cmp -s '$work/s5a/recovered-digital-f32.png' '$work/s6/recovered-digital-f32.png'"

# --- bad input: a message naming the problem, non-zero exit, nothing written -------------
expect_error() {  # expect_error NAME EXIT_CODE PATTERN ARGS...
  local name="$1" code="$2" pattern="$3"; shift 3
  local out="$work/bad-$name"
  run_bounded "$image" --out "$out" "$@" >"$work/stdout" 2>"$work/stderr"
  local rc=$?
  check "$name: exit $code (got $rc)" test "$rc" -eq "$code"
  check "$name: message names the problem" grep -qi -- "$pattern" "$work/stderr"
  check "$name: no output directory" test ! -e "$out"
}
printf 'this is not a png' >"$work/corrupt.png"
head -c 60 "$work/default/original.png" >"$work/truncated.png"
expect_error corrupt-png 3 "corrupt.png" --input "$work/corrupt.png"
expect_error truncated-png 3 "truncated.png" --input "$work/truncated.png"
expect_error missing-png 3 "missing.png" --input "$work/missing.png"
expect_error unknown-backend 2 "unknown solver 'quantum'" --solver digital-f32,quantum
expect_error unknown-option 2 "no option 'iterz'" --solver analog:iterz=2
expect_error not-key-value 2 "not key=value" --solver analog:iters
expect_error zf-more-users 2 "users <= antennas" --antennas 4 --users 8
expect_error snr-nan 2 "SNR" --snr nan
expect_error snr-huge 2 "SNR" --snr 1e6
expect_error snr-text 2 "snr" --snr abc
expect_error bad-modulation 2 "qam17" --modulation qam17
expect_error bad-channel 2 "nosuch" --channel nosuch

# --- no temporary files left anywhere ----------------------------------------------------
check "no leftover temp files" test -z "$(find "$work" -name '*.tmp*' -print -quit)"

echo "amimo-image CLI: $pass passed, $failures failed"
test "$failures" -eq 0
