#!/usr/bin/env bash
# amimo-report as a user runs it: a quick comparison writes CSV, JSON and two PNGs whose
# contents agree with the printed table and label every figure measured or modelled; the
# default subcommand is `compare`; bad options fail with a clear message, a non-zero exit
# and no output files.
set -u
report="$1"
source "$(dirname "$0")/cli_test_lib.sh"
quick=(--sizes 8,16 --shapes 16x4 --profiles feedback-board,feedback-projected --seconds 0.05 --matrices 2
       --analog-matrices 1 --analog-rhs 1 --threads 1 --no-gpu)

# --- a quick run ---------------------------------------------------------------------------
timeout 120 "$report" compare "${quick[@]}" --seed 5 --out "$work/run" >"$work/run.txt" 2>"$work/run.err"
rc=$?
check "quick run: exit 0 (got $rc; $(head -c 300 "$work/run.err"))" test "$rc" -eq 0
for f in report.csv report.json report-throughput.png report-energy.png; do
  check "quick run: writes $f" test -s "$work/run/$f"
done
check "header has version" grep -q "^# amimo-report [0-9]" "$work/run.txt"
check "header has seed" grep -q "seed *: 5$" "$work/run.txt"
check "header states the cpu power" grep -q "cpu watts per core *: 10 (" "$work/run.txt"
check "header states the H100 constants" grep -q "gpu model *: NVIDIA H100.*67 TFLOP/s, 3.35 TB/s, 700 W" "$work/run.txt"
check "table per workload" test "$(grep -c '^# Workload:' "$work/run.txt")" -eq 3
check "cpu throughput measured" grep -q "cpu digital-f32 x1 .*\[measured\]" "$work/run.txt"
check "analog figures modelled" grep -q "analog feedback-board (feedback mapping) +prog .*\[modelled\].*\[modelled\]" "$work/run.txt"
check "png signature" bash -c "head -c 8 '$work/run/report-energy.png' | od -An -tx1 | grep -q '89 50 4e 47 0d 0a 1a 0a'"
check "csv and json agree and are labelled" python3 - "$work/run/report.csv" "$work/run/report.json" <<'PY'
import csv, json, sys
rows = list(csv.DictReader(open(sys.argv[1])))
doc = json.load(open(sys.argv[2]))
assert len(rows) == len(doc["rows"]) == 3 * 8, (len(rows), len(doc["rows"]))
for r, j in zip(rows, doc["rows"]):
    assert r["backend"] == j["backend"]
    assert abs(float(r["throughput_solves_per_s"]) - j["throughput_solves_per_s"]) <= 1e-5 * j["throughput_solves_per_s"]
    basis = j["throughput_basis"]
    assert basis == ("measured" if j["backend"].startswith("cpu") else "modelled"), j
    assert j["energy_basis"].startswith("modelled"), j
    assert j["energy_j_per_solve"] > 0 and j["throughput_solves_per_s"] > 0, j
    if j["backend"].startswith("analog"):
        assert j["iterations"] >= 1 and j["fallbacks"] == 0, j
        assert j["rel_error_vs_f64"] < 1e-5, j  # FP32-level target reached
assert doc["params"]["seed"] == "5"
assert doc["models"]["gpu"]["peak_flops"] == 67e12 and doc["models"]["gpu"]["board_watts"] == 700
PY

# --- compare is the default subcommand; --help and --version work ---------------------------
timeout 120 "$report" "${quick[@]}" --sizes 8 --shapes none --out "$work/default" >"$work/default.txt" 2>&1
rc=$?
check "no subcommand: exit 0 ($rc)" test "$rc" -eq 0
check "no subcommand runs compare" test -s "$work/default/report.csv"
"$report" --help >"$work/help.txt" 2>&1
check "--help exits 0" test $? -eq 0
check "--help lists compare" grep -q "compare" "$work/help.txt"
"$report" compare --help >"$work/chelp.txt" 2>&1
check "compare --help exits 0" test $? -eq 0
check "compare --help lists --cpu-watts" grep -q -- "--cpu-watts" "$work/chelp.txt"
"$report" --version >"$work/version.txt" 2>&1
check "--version exits 0" test $? -eq 0

# --- bad input: exit 2 (configuration) or 3 (files), a message naming the problem, no files
expect_error() {  # expect_error NAME EXIT_CODE PATTERN ARGS...
  local name="$1" code="$2" pattern="$3"; shift 3
  local out="$work/bad-$name"
  timeout 60 "$report" compare --out "$out" "$@" >"$work/stdout" 2>"$work/stderr"
  local rc=$?
  check "$name: exit $code (got $rc)" test "$rc" -eq "$code"
  check "$name: message names the problem ($(head -c 200 "$work/stderr"))" grep -qi -- "$pattern" "$work/stderr"
  check "$name: no output files" test ! -e "$out/report.csv" -a ! -e "$out/report.json"
}
expect_error size-too-small 2 "--sizes" --sizes 1
expect_error size-too-large 2 "--sizes" --sizes 4096
expect_error size-not-a-number 2 "sizes" --sizes abc
expect_error bad-shape 2 "16y4" --shapes 16y4
expect_error users-above-antennas 2 "4x16" --shapes 4x16
expect_error unknown-profile 2 "nosuch" --profiles nosuch
expect_error negative-seconds 2 "--seconds" --seconds -1
expect_error zero-watts 2 "--cpu-watts" --cpu-watts 0
expect_error zero-pj 2 "--asic-pj-per-flop" --asic-pj-per-flop 0
expect_error efficiency-above-one 2 "--gpu-efficiency" --gpu-efficiency 1.5
expect_error tol-zero 2 "--analog-tol" --analog-tol 0
expect_error spm-zero 2 "--solves-per-matrix" --solves-per-matrix 0
expect_error unknown-flag 2 "--frobnicate" --frobnicate
expect_error unknown-subcommand 2 "paperz" paperz
mkdir -p "$work/ro" && touch "$work/ro/file"
expect_error unwritable-out 3 "directory" --out "$work/ro/file/sub" --sizes 8 --shapes none

# Integers are plain decimal digits in range (CLI11 read 0x8 as 8, -1 and 2^64 as 2^64-1).
expect_error seed-negative 2 "--seed: '-1' is not a non-negative decimal integer" --seed -1
expect_error seed-too-large 2 "--seed: '18446744073709551616' is out of range" --seed 18446744073709551616
expect_error sizes-hex 2 "--sizes: '0x8' is not a decimal integer" --sizes 0x8
expect_error empty-out 2 "--out must name a directory" --out ""
timeout 60 "$report" paper --quick --seed -1 --out "$work/bad-paper-seed" >"$work/stdout" 2>"$work/stderr"
rc=$?
check "paper --seed -1: exit 2 (got $rc)" test "$rc" -eq 2
check "paper --seed -1: no folder" test ! -e "$work/bad-paper-seed"
timeout 60 "$report" compare "${quick[@]}" --sizes 08 --shapes none --seconds 0 --out "$work/dec" >/dev/null 2>&1
check "--sizes 08 is eight (strtol read it as a bad octal)" python3 -c "
import json; assert [r['n'] for r in json.load(open('$work/dec/report.json'))['rows']][0] == 8"

# --- sensitivity: every option checked before the header or the folder ----------------------
timeout 60 "$report" sensitivity --sizes 1 --out "$work/sens1" >"$work/sens1.txt" 2>"$work/sens1.err"
rc=$?
check "sensitivity --sizes 1: exit 2 (got $rc)" test "$rc" -eq 2
check "sensitivity --sizes 1: message" grep -q "sizes must be in 2..256 (got 1)" "$work/sens1.err"
check "sensitivity --sizes 1: no header printed" test ! -s "$work/sens1.txt"
check "sensitivity --sizes 1: no folder created" test ! -e "$work/sens1"

# --- output files are one set: a directory in the way of one leaves none new ---------------
mkdir -p "$work/part/report-energy.png"
timeout 120 "$report" compare "${quick[@]}" --sizes 8 --shapes none --out "$work/part" >/dev/null 2>"$work/part.err"
rc=$?
check "compare, directory in the way: exit 3 (got $rc)" test "$rc" -eq 3
check "compare, directory in the way: named" grep -q "report-energy.png" "$work/part.err"
check "compare, directory in the way: nothing else written" test ! -e "$work/part/report.csv" -a ! -e "$work/part/report.json" -a ! -e "$work/part/report-throughput.png"
mkdir -p "$work/spart/sensitivity.json"
timeout 120 "$report" sensitivity --sizes 8 --trials 1 --iters 1 --out "$work/spart" >/dev/null 2>&1
rc=$?
check "sensitivity, directory in the way: exit 3 (got $rc), nothing else written" test "$rc" -eq 3 -a ! -e "$work/spart/sensitivity.csv" -a ! -e "$work/spart/tornado_8_time.png"
mkdir -p "$work/ppart/paper_reproduction.md"
timeout 120 "$report" paper --quick --threads 2 --out "$work/ppart" >/dev/null 2>&1
rc=$?
check "paper, directory in the way of the report: exit 3 (got $rc)" test "$rc" -eq 3
check "paper, directory in the way: no study's files written" test ! -e "$work/ppart/relerr.csv" -a ! -e "$work/ppart/ber.csv" -a ! -e "$work/ppart/perf.csv" -a ! -e "$work/ppart/paper-board/ber.csv"

# --- signals: what was measured is written, exit 130 ----------------------------------------
# The signal goes once the first CPU measurement has begun (its progress line, printed just
# before it; its row is kept even when the signal arrives before the first solve), not after
# a fixed sleep that a loaded machine could outlast.
"$report" compare --sizes 8,16 --shapes none --profiles feedback-board --seconds 5 --matrices 1 --analog-matrices 1 \
  --analog-rhs 1 --threads 1 --no-gpu --progress on --out "$work/cint" >"$work/cint.txt" 2>"$work/cint.err" &
pid=$!
pids+=("$pid")
wait_for_text "$work/cint.err" "8x8: cpu digital-f64"
kill -INT "$pid"
wait "$pid"
rc=$?
check "compare SIGINT: exit 130 (got $rc)" test "$rc" -eq 130
check "compare SIGINT: says so" grep -q "^# Interrupted (signal)" "$work/cint.txt"
check "compare SIGINT: files with the rows measured" python3 -c "
import json, os; d = json.load(open('$work/cint/report.json'))
assert d['interrupted'] and 1 <= len(d['rows']) < 12, (d['interrupted'], len(d['rows']))
assert os.path.getsize('$work/cint/report-energy.png') > 0"
# An earlier complete run's charts of a size the interrupted run does not reach go with the
# new set (they stayed beside it: a mixed set).
timeout 120 "$report" sensitivity --sizes 16 --trials 1 --iters 1 --out "$work/sint" >/dev/null 2>&1
check "sensitivity: an earlier run's chart" test -s "$work/sint/tornado_16_energy.png"
"$report" sensitivity --sizes 256,16 --trials 8 --out "$work/sint" >"$work/sint.txt" 2>&1 &
pid=$!
# The handlers are in place before the header: whenever the signal comes, the run ends at
# the next assumption (no fixed sleep; the first size, 256, is far from done either way).
wait_for_text "$work/sint.txt" "^#   varied: "
kill -TERM "$pid"
wait "$pid"
rc=$?
check "sensitivity SIGTERM: exit 130 (got $rc)" test "$rc" -eq 130
check "sensitivity SIGTERM: files with the rows done" python3 -c "
import json; d = json.load(open('$work/sint/sensitivity.json'))
assert d['interrupted'] and len(d['rows']) < 13, (d['interrupted'], len(d['rows']))"
check "sensitivity SIGTERM: no earlier run's chart beside the new files" test ! -e "$work/sint/tornado_16_time.png" -a ! -e "$work/sint/tornado_16_energy.png"
# Over an earlier complete run: its files of the studies not reached (and its report) go
# with the new set; they used to stay beside the new relerr.* (a mixed set).
timeout 120 "$report" paper --quick --threads 2 --out "$work/pint" >/dev/null 2>&1
check "paper: an earlier complete run" test -s "$work/pint/paper_reproduction.md" -a -s "$work/pint/perf.csv" -a -s "$work/pint/paper-board/ber.csv"
"$report" paper --quick --threads 2 --out "$work/pint" >"$work/pint.txt" 2>"$work/pint.err" &
pid=$!
pids+=("$pid")
wait_for_text "$work/pint.err" "2/3 BER vs SNR"
kill -TERM "$pid"
wait "$pid"
rc=$?
check "paper SIGTERM: exit 130 (got $rc)" test "$rc" -eq 130
check "paper SIGTERM: the studies that ran written, no report" test -s "$work/pint/relerr.json" -a ! -e "$work/pint/paper_reproduction.md"
check "paper SIGTERM: says so" grep -q "^# Interrupted (signal)" "$work/pint.txt"
check "paper SIGTERM: none of the earlier run's files of the studies not reached" test ! -e "$work/pint/perf.csv" -a ! -e "$work/pint/perf.png" -a ! -e "$work/pint/paper-board/ber.csv" -a ! -e "$work/pint/paper-board/ber_16x4.png"
check "paper SIGTERM: no backup left behind" test -z "$(find "$work/pint" -name '.*.bak-*')"
# A signal during the throughput study (not cut short): every study is complete, so the
# report is written and the status is 0 (it was discarded, status 130).
"$report" paper --quick --threads 2 --out "$work/pint3" >"$work/pint3.txt" 2>"$work/pint3.err" &
pid=$!
pids+=("$pid")
wait_for_text "$work/pint3.err" "3/3 throughput and energy"
kill -TERM "$pid" 2>/dev/null
wait "$pid"
rc=$?
check "paper SIGTERM in the last study: exit 0 (got $rc)" test "$rc" -eq 0
check "paper SIGTERM in the last study: the report is written" test -s "$work/pint3/paper_reproduction.md" -a -s "$work/pint3/perf.json"

# --- a closed stdout (| head -1) does not stop the run or lose the files -------------------
check "closed stdout: exit 0 and the files are written" python3 - "$report" "$work/pipe" "${quick[@]}" <<'PY'
import os, subprocess, sys
r, w = os.pipe()
os.close(r)  # every write to stdout fails with EPIPE (SIGPIPE killed it: status 141)
p = subprocess.run([sys.argv[1], "compare", *sys.argv[3:], "--sizes", "8", "--shapes", "none", "--out", sys.argv[2]],
                   stdout=w, stderr=subprocess.DEVNULL, timeout=120)
os.close(w)
assert p.returncode == 0, p.returncode
for f in ("report.csv", "report.json", "report-throughput.png", "report-energy.png"):
    assert os.path.getsize(os.path.join(sys.argv[2], f)) > 0, f
PY

echo "amimo-report CLI: $pass checks passed, $failures failed"
test "$failures" -eq 0
