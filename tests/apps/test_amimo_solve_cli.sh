#!/usr/bin/env bash
# amimo-solve as a user runs it: bad input fails cleanly with no files, the refinement
# converges (ideal profile to below 1e-6, the paper board to the paper's ~1e-7 at 16x16),
# results reproduce from the seed, Matrix Market input works, and the outputs parse.
set -u
solve="$1"
source "$(dirname "$0")/cli_test_lib.sh"

# --- bad input: exit 2 (configuration) or 3 (files), a message naming the problem, no files
expect_error() {  # expect_error NAME EXIT_CODE PATTERN ARGS...
  local name="$1" code="$2" pattern="$3"; shift 3
  local out="$work/bad-$name"
  "$solve" --out "$out" "$@" >"$work/stdout" 2>"$work/stderr"
  local rc=$?
  check "$name: exit $code (got $rc)" test "$rc" -eq "$code"
  check "$name: message names the problem" grep -qi -- "$pattern" "$work/stderr"
  check "$name: no output files" test ! -e "$out/solve.csv" -a ! -e "$out/solve.json" -a ! -e "$out/solve.png"
  if [ "$code" -eq 2 ]; then check "$name: no output directory" test ! -e "$out"; fi
}
expect_error size-zero 2 "--size" --size 0
expect_error size-too-large 2 "--size" --size 513
expect_error size-not-a-number 2 "size" --size abc
expect_error cond-below-one 2 "--cond" --cond 0.5
expect_error iters-zero 2 "--iters" --iters 0
expect_error iters-too-many 2 "--iters" --iters 65
expect_error trials-zero 2 "--trials" --trials 0
expect_error unknown-kind 2 "--kind" --kind lower
expect_error unknown-profile 2 "nosuch" --profile nosuch
expect_error array-too-small 2 "array" --array 1
expect_error unknown-flag 2 "sizes" --sizes 4
expect_error missing-matrix 3 "missing.mtx" --matrix "$work/missing.mtx"
expect_error missing-profile-file 3 "nothere.yaml" --profile "$work/nothere.yaml"
printf '%%%%MatrixMarket matrix coordinate real general\n2 3 1\n1 1 1\n' >"$work/nonsquare.mtx"
expect_error non-square-matrix 2 "nonsquare.mtx', line 2: .*square" --matrix "$work/nonsquare.mtx"
printf '%%%%MatrixMarket matrix coordinate real general\n2 2 2\n1 1 1\n3 1 1\n' >"$work/index.mtx"
expect_error index-out-of-range 2 "index.mtx', line 4: index (3, 1) is outside" --matrix "$work/index.mtx"
printf '%%%%MatrixMarket matrix coordinate pattern general\n2 2 1\n1 1\n' >"$work/pattern.mtx"
expect_error pattern-matrix 2 "pattern" --matrix "$work/pattern.mtx"
# A size line above amimo-solve's 512 is refused on that line, before the matrix is
# allocated: the 58-byte header of a 4096 x 4096 matrix (256 MiB) costs no more memory than
# refusing a 2 x 3 one (it read the whole matrix first: ~190 MB more).
printf '%%%%MatrixMarket matrix coordinate real general\n4096 4096 0\n' >"$work/big.mtx"
expect_error oversized-matrix 2 "big.mtx', line 2: the matrix is 4096 x 4096, larger than the 512 x 512" \
  --matrix "$work/big.mtx"
check "oversized-matrix: refused before allocating (peak RSS within 64 MiB of a 2 x 3 refusal)" python3 - "$solve" "$work" <<'PY'
import os, subprocess, sys
def peak_kib(matrix):
    p = subprocess.Popen([sys.argv[1], "--matrix", matrix], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(p.pid, 0)
    assert os.waitstatus_to_exitcode(status) == 2, status
    return usage.ru_maxrss
base, big = peak_kib(sys.argv[2] + "/nonsquare.mtx"), peak_kib(sys.argv[2] + "/big.mtx")
assert big - base < 64 * 1024, (base, big)
PY
# A matrix the digital f64 reference finds singular has no solution to refine: refused, no
# files (it ran and reported "analog fallbacks 0/2", 0 s per solve over "2 analog solves").
printf '%%%%MatrixMarket matrix array real general\n2 2\n1\n2\n2\n4\n' >"$work/singular.mtx"
expect_error singular-matrix 2 "singular.mtx' (2 x 2) is singular" --matrix "$work/singular.mtx"
printf '%%%%MatrixMarket matrix coordinate real general\n2 2 0\n' >"$work/zero.mtx"
expect_error zero-matrix 2 "zero.mtx' (2 x 2) is singular" --matrix "$work/zero.mtx"
# Given but empty: refused (--matrix "" ran on generated matrices, --out "" wrote nothing).
expect_error empty-matrix 2 "--matrix must name" --matrix ""
"$solve" --size 2 --trials 1 --iters 1 --out "" >"$work/stdout" 2>"$work/stderr"
rc=$?
check "empty --out: exit 2 (got $rc)" test "$rc" -eq 2
check "empty --out: message" grep -q -- "--out must name a directory" "$work/stderr"
# Integers are plain decimal digits in range (CLI11 read 0x10 as 16, -1 and 2^64 as 2^64-1).
expect_error size-hex 2 "--size: '0x10' is not a decimal integer" --size 0x10
expect_error seed-negative 2 "--seed: '-1' is not a non-negative decimal integer" --seed -1
expect_error seed-too-large 2 "--seed: '18446744073709551616' is out of range" --seed 18446744073709551616
expect_error trials-exponent 2 "--trials: '1e3'" --trials 1e3
mkdir -p "$work/ro" && touch "$work/ro/file"
expect_error unwritable-out 3 "output directory" --out "$work/ro/file/sub" --trials 1

"$solve" --help >"$work/help.txt" 2>&1
check "--help exits 0" test $? -eq 0
check "--help lists --matrix" grep -q -- "--matrix" "$work/help.txt"

# --- ideal profile (quantisation only): converges, and fast ------------------------------
run_ok() {  # run_ok NAME ARGS...: runs, checks exit 0 and the three files
  local name="$1"; shift
  "$solve" --out "$work/$name" "$@" >"$work/$name.txt" 2>"$work/$name.err"
  local rc=$?
  check "$name: exit 0 (got $rc)" test "$rc" -eq 0
  for f in solve.csv solve.json solve.png; do check "$name: writes $f" test -s "$work/$name/$f"; done
}
run_ok ideal --profile ideal --size 16 --cond 1.5 --iters 10 --trials 5 --seed 3
check "header has version" grep -q "^# amimo-solve [0-9]" "$work/ideal.txt"
check "header has parameters" grep -q "^# Parameters:" "$work/ideal.txt"
check "header has seed" grep -q "seed *: 3$" "$work/ideal.txt"
check "header has profile" grep -q "profile *: ideal" "$work/ideal.txt"
check "header names the LP-INV mapping" grep -q "LP-INV mapping *: feedback" "$work/ideal.txt"
check "header lists the profile values" grep -q "device.read_noise *: 0" "$work/ideal.txt"
check "table says simulated" grep -q "rel. error (simulated)" "$work/ideal.txt"
check "summary labels modelled cost" grep -q "time per solve (modelled) *: [0-9.]* [a-zµ]*s" "$work/ideal.txt"
check "summary counts fallbacks" grep -q "analog fallbacks.*: [0-9]*/5" "$work/ideal.txt"
check "png signature" bash -c "head -c 8 '$work/ideal/solve.png' | od -An -tx1 | grep -q '89 50 4e 47 0d 0a 1a 0a'"
median_column() {  # median_column CSV: the median_rel_error column, one value per line
  python3 - "$1" <<'PY'
import csv, sys
for r in csv.DictReader(open(sys.argv[1])):
    print(r["median_rel_error"] or "nan")
PY
}
check "ideal: csv rectangular, one row per iteration, p10 <= median <= p90" python3 - "$work/ideal/solve.csv" <<'PY'
import csv, sys
rows = list(csv.reader(open(sys.argv[1])))
assert rows[0] == ["iteration", "median_rel_error", "p10", "p90", "trials", "all_median_rel_error", "all_p10",
                   "all_p90", "all_trials", "fallbacks", "unusable"], rows[0]
assert len(rows) == 11 and all(len(r) == 11 for r in rows), rows
data = [dict(zip(rows[0], r)) for r in rows[1:]]
assert [int(d["iteration"]) for d in data] == list(range(1, 11))
for d in data:
    assert 1 <= int(d["trials"]) <= 5, d
    assert float(d["p10"]) <= float(d["median_rel_error"]) <= float(d["p90"]), d
PY
# Each of the first iterations gains precision (at least a factor 2 each).
check "ideal: median error decreasing over the first iterations" python3 -c "
import sys
med = [float(v) for v in sys.argv[1:]]
assert med[0] < 0.5 and med[1] < med[0] / 2 and med[2] < med[1] / 2, med
" $(median_column "$work/ideal/solve.csv")
check "ideal 16x16 cond 1.5: median rel. error < 1e-6 after 10 iterations" python3 -c "
import sys
med = [float(v) for v in sys.argv[1:]]
assert med[-1] < 1e-6, med
" $(median_column "$work/ideal/solve.csv")
check "ideal 16x16 cond 1.5 (diagonally dominant, no noise): no fallbacks" grep -q "analog fallbacks.*: 0/5" "$work/ideal.txt"
check "ideal: json parses and agrees with the csv" python3 - "$work/ideal/solve.json" "$work/ideal/solve.csv" <<'PY'
import csv, json, sys
doc = json.load(open(sys.argv[1]))
p = doc["params"]
assert p["seed"] == 3 and p["size"] == 16 and p["cond"] == 1.5 and p["iters"] == 10 and p["trials"] == 5, p
assert p["profile"] == "ideal" and doc["profile"]["name"] == "ideal"
rows = list(csv.DictReader(open(sys.argv[2])))
it = doc["per_iteration"]
assert len(it["median_rel_error"]) == 10 == len(rows)
for r, m, n in zip(rows, it["median_rel_error"], it["trials"]):
    assert abs(float(r["median_rel_error"]) - m) <= 1e-8 * m and int(r["trials"]) == n, (r, m)
assert len(doc["trials"]) == 5
for t in doc["trials"]:
    for key in ("final_rel_error", "fallback", "modelled_solve_seconds", "modelled_solve_joules",
                "modelled_programming_joules", "endurance_fraction", "lambda_min", "analog_lp_rel_error",
                "digital_f32_rel_error", "digital_f64_rel_error", "rel_error_per_iteration"):
        assert key in t, key
    assert len(t["rel_error_per_iteration"]) == 10
    assert t["modelled_solve_seconds"] > 0 and t["modelled_programming_joules"] > 0, t
    # The returned x of an analog solve is its last iterate.
    if not t["fallback"]:
        assert abs(t["rel_error_per_iteration"][-1] - t["final_rel_error"]) <= 1e-9 * t["final_rel_error"], t
ref = doc["references"]
# The references make sense: f64 ~ 1e-15, f32 ~ 1e-7, one analog LP-INV step ~ 3 bits.
assert ref["digital_f64_median_rel_error"] < 1e-13, ref
assert 1e-9 < ref["digital_f32_median_rel_error"] < 1e-5, ref
assert 1e-3 < ref["analog_lp_median_rel_error"] < 0.5, ref
assert doc["summary"]["fallbacks"] == sum(t["fallback"] for t in doc["trials"])
PY

# --- paper board, 16x16: the paper's ~1e-7 (FP32 level) after 10 iterations --------------
run_ok board --profile paper-board --size 16 --cond 1.5 --iters 10 --trials 20 --seed 1
check "paper-board 16x16 cond 1.5: median rel. error <= 1e-7 at iteration 10 (the paper's ~1e-7)" python3 -c "
import sys
med = [float(v) for v in sys.argv[1:]]
assert med[-1] <= 1e-7, med
" $(median_column "$work/board/solve.csv")
check "paper-board 16x16 cond 1.5: no fallbacks" grep -q "analog fallbacks.*: 0/20" "$work/board.txt"

# --- reproducible from the seed -----------------------------------------------------------
"$solve" --profile paper-board --size 12 --cond 8 --iters 6 --trials 4 --seed 7 --out "$work/s7a" >/dev/null 2>&1
"$solve" --profile paper-board --size 12 --cond 8 --iters 6 --trials 4 --seed 7 --out "$work/s7b" >/dev/null 2>&1
"$solve" --profile paper-board --size 12 --cond 8 --iters 6 --trials 4 --seed 8 --out "$work/s8" >/dev/null 2>&1
check "same seed: byte-identical solve.csv" cmp -s "$work/s7a/solve.csv" "$work/s7b/solve.csv"
check "different seed: different solve.csv" bash -c "test -s '$work/s8/solve.csv' && ! cmp -s '$work/s7a/solve.csv' '$work/s8/solve.csv'"
# A repeated flag takes its last value.
"$solve" --size 0 --size 6 --iters 3 --trials 2 --profile ideal --out "$work/last" >/dev/null 2>&1
check "repeated flag: last value wins" python3 -c "import json; assert json.load(open('$work/last/solve.json'))['params']['size'] == 6"

# --- Matrix Market input -----------------------------------------------------------------
cat >"$work/spd.mtx" <<'EOF'
%%MatrixMarket matrix coordinate real symmetric
% a small SPD matrix (diagonally dominant), lower triangle
4 4 7
1 1 4.0
2 1 1.0
2 2 3.0
3 2 -0.5
3 3 5.0
4 1 0.25
4 4 2.0
EOF
run_ok mtx --matrix "$work/spd.mtx" --profile ideal --iters 10 --trials 3
check "mtx: header names the file" grep -q "spd.mtx (4 x 4, real, hermitian" "$work/mtx.txt"
check "mtx: solves the file's matrix" python3 - "$work/mtx/solve.json" <<'PY'
import json, sys
doc = json.load(open(sys.argv[1]))
assert doc["params"]["size"] == 4 and doc["params"]["matrix"].endswith("spd.mtx"), doc["params"]
assert doc["params"]["structure"] == "hermitian"
assert doc["summary"]["fallbacks"] == 0
assert doc["summary"]["final_median_rel_error"] < 1e-6, doc["summary"]
PY
# A complex Hermitian positive definite matrix: the chip solves its real embedding, and the
# iterates the observer sees ([Re x; Im x]) must map back to the complex solution.
cat >"$work/herm.mtx" <<'EOF'
%%MatrixMarket matrix coordinate complex hermitian
3 3 5
1 1 4.0 0
2 1 1.0 -0.5
2 2 3.0 0
3 2 0.25 0.75
3 3 5.0 0
EOF
run_ok herm --matrix "$work/herm.mtx" --profile ideal --iters 10 --trials 3
check "herm: header says complex" grep -q "herm.mtx (3 x 3, complex, hermitian" "$work/herm.txt"
check "herm: per-iteration error of the complex iterates converges" python3 - "$work/herm/solve.json" <<'PY'
import json, sys
doc = json.load(open(sys.argv[1]))
med = doc["per_iteration"]["median_rel_error"]
assert doc["params"]["complex"] and doc["summary"]["fallbacks"] == 0, doc["summary"]
assert med[0] < 0.5 and med[-1] < 1e-6, med
PY

# --- general matrices: fallbacks are shown and counted, never hidden ------------------------
run_ok general --kind general --size 8 --cond 4 --iters 6 --trials 10 --profile ideal
check "general: fallback count consistent between stdout and json" python3 - "$work/general/solve.json" "$work/general.txt" <<'PY'
import json, re, sys
doc = json.load(open(sys.argv[1]))
fallbacks = sum(t["fallback"] for t in doc["trials"])
assert fallbacks > 0, "general matrices on the analog INV circuit are expected to fall back"
assert doc["summary"]["fallbacks"] == fallbacks
text = open(sys.argv[2]).read()
m = re.search(r"analog fallbacks[^:]*: (\d+)/10", text)
assert m and int(m.group(1)) == fallbacks, (m and m.group(0), fallbacks)
# Per iteration: the all-trials statistics cover every trial, the analog ones only those
# that did not fall back, and the fallback count stands beside them.
it = doc["per_iteration"]
assert it["fallbacks"] == fallbacks and all(n == 10 for n in it["all_trials"]), it
assert all(n <= 10 - fallbacks for n in it["trials"]), it
assert "all trials (fallback: returned x)" in text
# Every trial still returns an answer: fallbacks are solved digitally.
assert all(t["final_rel_error"] is not None and t["final_rel_error"] < 1e-6 or not t["fallback"]
           for t in doc["trials"]), doc["trials"]
PY

# --- leading zeros are decimal, the largest seed is accepted -------------------------------
"$solve" --size 010 --iters 02 --trials 1 --seed 18446744073709551615 --profile ideal --out "$work/dec" >/dev/null 2>&1
check "--size 010 is ten (not octal 8), --seed 2^64-1 accepted" python3 -c "
import json; p = json.load(open('$work/dec/solve.json'))['params']
assert p['size'] == 10 and p['iters'] == 2 and p['seed'] == 18446744073709551615, p"

# --- unusable solves are counted and named, never reported as analog solves --------------
# Generated general matrices with singular values down to 1e-300: no backend returns an x.
run_ok unusable --kind general --cond 1e300 --size 4 --trials 3 --iters 2 --profile ideal
check "unusable: summary counts them" grep -q "unusable (singular / non-finite) *: 3/3" "$work/unusable.txt"
check "unusable: not analog solves, no modelled cost" grep -q "time per solve (modelled) *: n/a (over 0 analog solves)" "$work/unusable.txt"
check "unusable: no fallback claimed" grep -q "analog fallbacks to digital-f64 *: 0/3" "$work/unusable.txt"
check "unusable: csv, json name them; no error, residual or cost" python3 - "$work/unusable/solve.json" "$work/unusable/solve.csv" <<'PY'
import csv, json, sys
doc = json.load(open(sys.argv[1]))
rows = list(csv.DictReader(open(sys.argv[2])))
assert all(r["unusable"] == "3" and r["trials"] == "0" and r["all_trials"] == "0" for r in rows), rows
s = doc["summary"]
assert s["unusable"] == 3 and s["analog_solves"] == 0 and s["fallbacks"] == 0, s
assert s["median_modelled_solve_seconds"] is None and s["final_median_rel_error"] is None, s
assert doc["per_iteration"]["unusable"] == 3
for t in doc["trials"]:
    assert t["unusable"] and not t["fallback"] and t["final_rel_error"] is None and t["residual"] is None, t
    assert t["modelled_solve_seconds"] is None and t["digital_f64_unusable"] and t["digital_f64_rel_error"] is None, t
assert doc["references"]["digital_f64_unusable"] == 3
PY
# Entries of 1e300: the analog backend falls back and digital-f64 solves it, but digital-f32
# overflows (it printed that as rel. error 1.0, "computed").
printf '%%%%MatrixMarket matrix array real general\n2 2\n1e300\n1e300\n1e300\n-1e300\n' >"$work/huge.mtx"
run_ok huge --matrix "$work/huge.mtx" --trials 2 --iters 2
check "huge: digital-f32 unusable, named" grep -q "digital-f32 rel. error (computed) *: n/a (over 0 of 2 trials; 2 unusable (singular / non-finite))" "$work/huge.txt"
check "huge: json" python3 -c "
import json; d = json.load(open('$work/huge/solve.json'))
assert d['references']['digital_f32_unusable'] == 2 and d['references']['digital_f32_median_rel_error'] is None, d['references']
assert d['summary']['unusable'] == 0 and d['summary']['fallbacks'] == 2, d['summary']
assert all(t['digital_f32_unusable'] and t['digital_f32_rel_error'] is None for t in d['trials'])"

# --- the output files are one set: a directory in the way of one leaves none new ------------
mkdir -p "$work/part/solve.png"
"$solve" --size 2 --trials 1 --iters 1 --profile ideal --out "$work/part" >"$work/part.txt" 2>"$work/part.err"
rc=$?
check "directory in the way: exit 3 (got $rc)" test "$rc" -eq 3
check "directory in the way: named" grep -q "solve.png" "$work/part.err"
check "directory in the way: no solve.csv or solve.json committed" test ! -e "$work/part/solve.csv" -a ! -e "$work/part/solve.json"

# --- SIGTERM mid-run: what was measured is written, exit 130 --------------------------------
"$solve" --size 48 --trials 100000 --iters 3 --profile ideal --out "$work/term" >"$work/term.txt" 2>&1 &
pid=$!
wait_for_text "$work/term.txt" "^# Errors of the analog backends"  # the header: the handlers are in place
sleep 0.3
kill -TERM "$pid"
wait "$pid"
rc=$?
check "SIGTERM: exit 130 (got $rc)" test "$rc" -eq 130
check "SIGTERM: says so" grep -q "^# Interrupted (signal) after [0-9]* of 100000 trials" "$work/term.txt"
check "SIGTERM: files written with the trials done" python3 -c "
import json; d = json.load(open('$work/term/solve.json'))
assert d['interrupted'] and d['summary']['trials_done'] == len(d['trials']) < 100000, d['summary']"
check "SIGTERM: png written" test -s "$work/term/solve.png"

# --- a closed stdout (| head -1) does not stop the run or lose the files -------------------
check "closed stdout: exit 0 and the files are written" python3 - "$solve" "$work/pipe" <<'PY'
import os, subprocess, sys
r, w = os.pipe()
os.close(r)  # every write to stdout fails with EPIPE (SIGPIPE killed it: status 141, no files)
p = subprocess.run([sys.argv[1], "--size", "4", "--trials", "2", "--iters", "2", "--profile", "ideal", "--out",
                    sys.argv[2]], stdout=w, stderr=subprocess.DEVNULL)
os.close(w)
assert p.returncode == 0, p.returncode
for f in ("solve.csv", "solve.json", "solve.png"):
    assert os.path.getsize(os.path.join(sys.argv[2], f)) > 0, f
PY

echo "amimo-solve CLI: $pass passed, $failures failed"
test "$failures" -eq 0
