#!/usr/bin/env bash
# Bad input given to every executable as a user would give it: unknown flags, unbounded
# thread counts, config/matrix/image/recording paths that are directories, devices, FIFOs,
# oversized or hostile files. Each must end with the README's exit status (2 command line
# or configuration, 3 files) and a message naming the problem — never a crash, a hang or
# an allocation failure — and a symlink planted at an output name must not redirect a write.
#   test_bad_input_cli.sh SWEEP BS UE SOLVERD SOLVE IMAGE REPORT
set -u
sweep="$1" bs="$2" ue="$3" solverd="$4" solve="$5" image="$6" report="$7"
source "$(dirname "$0")/cli_test_lib.sh"
# expect NAME EXIT_CODE PATTERN CMD...: bounded in time (a hang fails as status 124).
expect() {
  local name="$1" code="$2" pattern="$3"; shift 3
  timeout -k 5 60 "$@" >"$work/stdout" 2>"$work/stderr"
  local rc=$?
  check "$name: exit $code (got $rc)" test "$rc" -eq "$code"
  if ! grep -qi -- "$pattern" "$work/stderr"; then
    echo "FAIL: $name: stderr does not match '$pattern':"; sed 's/^/    /' "$work/stderr" | head -5
    failures=$((failures + 1))
  else
    pass=$((pass + 1))
  fi
}

# --- unknown flags: 2 with CLI11's message; --help: 0 -----------------------------------
for exe in "$sweep" "$bs" "$ue" "$solverd" "$solve" "$image" "$report"; do
  name=$(basename "$exe")
  expect "$name unknown flag" 2 "not expected\|extra\|unknown" "$exe" --no-such-flag
  timeout -k 5 60 "$exe" --help >"$work/help" 2>&1
  check "$name --help exits 0" test $? -eq 0
  check "$name --help prints usage" grep -qi "usage" "$work/help"
done
expect "amimo-sweep flag without value" 2 "--threads" "$sweep" --threads
expect "amimo-sweep non-numeric value" 2 "threads" "$sweep" --threads many

# --- thread counts are bounded (0..256, 0 = one per core) -------------------------------
expect "amimo-bs --threads 100000" 2 "threads.*0\.\.256" "$bs" --threads 100000 --frames 1 --out "$work/bs-threads"
check "amimo-bs --threads 100000 writes nothing" test ! -e "$work/bs-threads"
expect "amimo-bs --threads -1" 2 "threads.*0\.\.256" "$bs" --threads -1 --frames 1 --out "$work/bs-threads"
expect "amimo-bs --set threads=257" 2 "threads.*0\.\.256" "$bs" --set threads=257 --frames 1 --out "$work/bs-threads"
expect "amimo-sweep --threads 100000" 2 "threads.*0\.\.256" "$sweep" --threads 100000 --out "$work/sw-threads"
check "amimo-sweep --threads 100000 writes nothing" test ! -e "$work/sw-threads"
expect "amimo-report --threads 100000" 2 "threads.*0\.\.256" "$report" --threads 100000 --out "$work/rp-threads"
expect "amimo-report paper --threads 100000" 2 "threads.*0\.\.256" "$report" paper --threads 100000 --out "$work/rp-threads"
expect "amimo-solverd --workers 100000" 2 "workers" "$solverd" --workers 100000

# --- --config: a directory, /dev/zero, a FIFO, an oversized file -------------------------
mkdir -p "$work/confdir"
mkfifo "$work/fifo.yaml"
head -c $((1024 * 1024 + 1)) /dev/zero | tr '\0' '#' >"$work/big.yaml"
for exe in "$sweep" "$bs" "$ue"; do
  name=$(basename "$exe")
  expect "$name --config DIR" 3 "config file '$work/confdir': it is a directory" "$exe" --config "$work/confdir"
  expect "$name --config /dev/zero" 3 "config file '/dev/zero': it is a character device" "$exe" --config /dev/zero
  expect "$name --config FIFO" 3 "fifo.yaml'.*FIFO" "$exe" --config "$work/fifo.yaml"
  expect "$name --config oversized" 3 "big.yaml'.*1048577 bytes.*1048576-byte limit" "$exe" --config "$work/big.yaml"
done
# Deeply nested YAML is refused as a configuration error, not a stack overflow.
python3 -c "print('antennas: ' + '{a: ' * 100000 + '1' + '}' * 100000)" >"$work/nested.yaml"
expect "amimo-sweep nested YAML" 2 "nesting deeper than yaml-cpp's limit" "$sweep" --config "$work/nested.yaml"
expect "amimo-bs nested YAML" 2 "nesting deeper than yaml-cpp's limit" "$bs" --config "$work/nested.yaml"

# --- SigMF metadata of 100000 nested '[' ---------------------------------------------------
python3 -c "print('[' * 100000)" >"$work/deep.sigmf-meta"
: >"$work/deep.sigmf-data"
expect "amimo-bs SigMF nested JSON" 3 "deep.sigmf-meta' nests arrays/objects deeper than 64" \
  "$bs" --source "sigmf:$work/deep" --out "$work/bs-deep"
check "amimo-bs SigMF nested JSON writes nothing" test ! -e "$work/bs-deep/bs.json"
mkdir -p "$work/dir.sigmf-meta"
expect "amimo-bs SigMF meta is a directory" 3 "dir.sigmf-meta': it is a directory" \
  "$bs" --source "sigmf:$work/dir" --out "$work/bs-deep"

# --- Matrix Market: oversized (sparse file, nothing read), a directory, a device ---------
truncate -s 300M "$work/huge.mtx"
expect "amimo-solve oversized Matrix Market" 3 "huge.mtx'.*314572800 bytes.*268435456-byte limit" \
  "$solve" --matrix "$work/huge.mtx" --out "$work/solve-huge"
check "amimo-solve oversized Matrix Market writes nothing" test ! -e "$work/solve-huge/solve.csv"
expect "amimo-solve Matrix Market directory" 3 "confdir': it is a directory" "$solve" --matrix "$work/confdir"
expect "amimo-solve Matrix Market /dev/zero" 3 "character device" "$solve" --matrix /dev/zero
# Analog profile files given by path go through the same reader.
mkdir -p "$work/prof.yaml"
expect "amimo-solve profile is a directory" 3 "analog profile '$work/prof.yaml': it is a directory" \
  "$solve" --profile "$work/prof.yaml"

# --- PNG with huge declared dimensions: refused from the header ---------------------------
python3 - "$work/huge.png" <<'PY'
import struct, sys, zlib
def chunk(t, d): return struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d) & 0xffffffff)
ihdr = struct.pack(">IIBBBBB", 100000, 100000, 8, 2, 0, 0, 0)  # 1e10 RGB pixels declared
idat = zlib.compress(b"\x00" * 1000)
open(sys.argv[1], "wb").write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b""))
PY
expect "amimo-image huge PNG" 3 "huge.png'.*100000x100000 exceed the limit of 4194304 pixels" \
  "$image" --input "$work/huge.png" --out "$work/img-huge"
check "amimo-image huge PNG writes nothing" test ! -e "$work/img-huge/image.csv"
expect "amimo-image PNG /dev/zero" 3 "character device" "$image" --input /dev/zero --out "$work/img-huge"
expect "amimo-image PNG directory" 3 "is a directory" "$image" --input "$work/confdir" --out "$work/img-huge"

# --- planted symlinks in a shared output directory do not redirect the outputs ----------
mkdir -p "$work/shared" "$work/victims"
echo "precious" >"$work/victims/precious"
for f in solve.csv solve.json solve.png solve.csv.tmp solve.json.tmp solve.png.tmp; do
  ln -s "$work/victims/precious" "$work/shared/$f"
done
timeout -k 5 120 "$solve" --size 4 --trials 1 --iters 2 --profile ideal --out "$work/shared" >"$work/solve.out" 2>&1
check "amimo-solve with planted symlinks: exit 0" test $? -eq 0
check "victim untouched" test "$(cat "$work/victims/precious")" = "precious"
# (A dangling symlink at the writer's temporary name cannot be planted from here: the name
# carries a random part. tests/report/test_output_symlinks.cpp plants one through the API.)
for f in solve.csv solve.json solve.png; do
  check "$f replaced the symlink by a regular file" test -f "$work/shared/$f" -a ! -L "$work/shared/$f"
  check "$f complete" test -s "$work/shared/$f"
done
check "solve.json is whole JSON" python3 -c "import json,sys; json.load(open(sys.argv[1]))" "$work/shared/solve.json"

cli_test_finish "bad input CLI"
