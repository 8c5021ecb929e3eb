#!/usr/bin/env bash
# The coded link as a user runs it, over ZeroMQ on 127.0.0.1: amimo-ue --coding ldpc sends a
# payload file per user as LDPC transport blocks, amimo-bs decodes them and writes the
# payload of its output chain with --payload-out.
# - high SNR: the files come out byte-identical (user<k>.bin), BLER 0, every byte counted;
# - low SNR: failed blocks are counted (BLER > 0) and never written as good: no user<k>.bin,
#   the partial file holds exactly the input's bytes outside the listed missing ranges;
# - bad input: --payload without --coding ldpc: exit status 2; a missing payload file and an
#   unwritable --payload-out: exit status 3 at start-up.
set -u
ue="$1"
bs="$2"
source "$(dirname "$0")/cli_test_lib.sh"

python3 -c "import os; open('$work/a.bin','wb').write(os.urandom(20000)); open('$work/b.bin','wb').write(os.urandom(7001))"
shape=(--antennas 4 --users 2 --modulation qpsk --channel awgn --seed 7 --coding ldpc --code-rate 0.5)
run_link() {  # run_link NAME SNR
  rm -f "$work/$1.ports"
  timeout -k 5 60 "$ue" "${shape[@]}" --snr "$2" --frames 0 --payload "$work/a.bin,$work/b.bin" \
    --sink "zmq-push:tcp://127.0.0.1:*" --port-file "$work/$1.ports" >"$work/$1-ue.log" 2>&1 &
  local uepid=$!
  pids+=($uepid)
  wait_port_file "$work/$1.ports" || return 1
  timeout -k 5 60 "$bs" "${shape[@]}" --snr "$2" --frames 0 --detector mmse --solver digital-f32,digital-f64 \
    --progress off --idle-timeout 1 --source "zmq-pull:$(paste -sd, "$work/$1.ports")" \
    --payload-out "$work/$1/payload" --out "$work/$1" >"$work/$1-bs.log" 2>&1
  local status=$?
  wait "$uepid" || return 1  # the sender's failure is the link's failure too
  return $status
}

run_link clean 12
check "high SNR: amimo-bs ran" test $? -eq 0
check "high SNR: user 0's file byte-identical" cmp -s "$work/a.bin" "$work/clean/payload/user0.bin"
check "high SNR: user 1's file byte-identical" cmp -s "$work/b.bin" "$work/clean/payload/user1.bin"
check "high SNR: no block errors on either chain" test \
  "$(json "$work/clean/bs.json" '[c["coded"]["block_errors"] for c in r["chains"]]')" = "[0, 0]"
check "high SNR: payload bytes counted" test \
  "$(json "$work/clean/bs.json" 'r["chains"][0]["coded"]["payload_bytes"]')" = 27001
check "high SNR: goodput and iterations reported" python3 - "$work/clean/bs.json" <<'PY'
import json, sys
c = json.load(open(sys.argv[1]))["chains"][0]["coded"]
sys.exit(0 if c["goodput_mbps"] > 0 and 1 <= c["ldpc_iterations_mean"] <= 10 and c["uncoded_ber_decoded"] >= 0 else 1)
PY
check "high SNR: table reports BLER" grep -q "BLER" "$work/clean-bs.log"

run_link noisy -3.8
check "low SNR: amimo-bs ran" test $? -eq 0
check "low SNR: some blocks failed and were counted" python3 - "$work/noisy/bs.json" <<'PY'
import json, sys
c = json.load(open(sys.argv[1]))["chains"][0]["coded"]
sys.exit(0 if c["block_errors"] > 0 and c["blocks"] > c["block_errors"] else 1)
PY
check "low SNR: no file presented as complete" test ! -e "$work/noisy/payload/user0.bin"
check "low SNR: every byte outside the missing ranges is the input's" python3 - "$work/a.bin" \
  "$work/noisy/payload/user0.partial.bin" "$work/noisy/payload/user0.missing.csv" <<'PY'
import sys
src, got = open(sys.argv[1], "rb").read(), open(sys.argv[2], "rb").read()
missing = [tuple(map(int, l.split(","))) for l in open(sys.argv[3]).read().split("\n")[1:] if l]
ok = bytearray(len(got))
for a, b in missing:
    ok[a:b] = b"\x01" * (b - a)
good = [i for i in range(len(got)) if not ok[i]]
sys.exit(0 if missing and good and all(got[i] == src[i] for i in good) else 1)
PY

"$ue" --coding none --payload "$work/a.bin" --sink "sigmf:$work/x" >/dev/null 2>&1
check "--payload without --coding ldpc: exit 2" test $? -eq 2
"$ue" --coding ldpc --payload "$work/none.bin" --sink "sigmf:$work/x" >/dev/null 2>&1
check "missing payload file: exit 3 (an input file that cannot be read)" test $? -eq 3

# An unwritable --payload-out is refused at start-up with exit status 3, before any frame is
# received (no parameter header): a path under a regular file, a directory nobody can write.
touch "$work/afile"
for bad in "$work/afile/x" /proc/self; do
  timeout -k 5 60 "$bs" --coding ldpc --frames 20 --progress off --payload-out "$bad" --out "$work/pbad" \
    >"$work/pbad.log" 2>&1
  check "unwritable --payload-out $bad: exit 3" test $? -eq 3
  check "unwritable --payload-out $bad: refused before the run" \
    bash -c "grep -q 'payload_out' '$work/pbad.log' && ! grep -q 'Parameters' '$work/pbad.log'"
done

# A --payload-out directory that breaks during the run (removed here) loses the payload
# files, not the results: bs.json and bs.csv are still written and say why, the table says
# FAILED, and the status is 3 (an output file that cannot be written). Before, amimo-bs
# returned 3 with no bs.json. The run is ended by SIGTERM once it has printed its header.
timeout -k 5 60 "$bs" "${shape[@]}" --snr 12 --frames 0 --progress off --payload-out "$work/gone/payload" \
  --out "$work/gone/out" >"$work/gone.log" 2>"$work/gone.err" &
pid=$!
pids+=($pid)
wait_for_text "$work/gone.log" "^# Parameters"
rm -rf "$work/gone/payload"
kill -TERM "$pid"
wait "$pid"
rc=$?
check "payload directory removed mid-run: exit 3 (got $rc)" test "$rc" -eq 3
check "payload directory removed mid-run: bs.json and bs.csv still written" test -s "$work/gone/out/bs.json" -a -s "$work/gone/out/bs.csv"
check "payload directory removed mid-run: bs.json says why" python3 - "$work/gone/out/bs.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
assert "payload" in d["coding"]["payload_output_error"], d["coding"]
assert d["stop_reason"] == "interrupted", d["stop_reason"]
PY
check "payload directory removed mid-run: the table says FAILED" grep -q "^# payload output: FAILED" "$work/gone.log"
check "payload directory removed mid-run: stderr names it" grep -q "payload output: cannot write" "$work/gone.err"

# SIGTERM alone (stop_signals.h's handlers): the run ends, the report is written, status 130.
timeout -k 5 60 "$bs" "${shape[@]}" --snr 12 --frames 0 --progress off --payload-out "$work/term/payload" \
  --out "$work/term/out" >"$work/term.log" 2>&1 &
pid=$!
pids+=($pid)
wait_for_text "$work/term.log" "^# Parameters"
kill -TERM "$pid"
wait "$pid"
rc=$?
check "SIGTERM: exit 130 (got $rc)" test "$rc" -eq 130
check "SIGTERM: bs.json written, interrupted, no payload error" test \
  "$(json "$work/term/out/bs.json" 'r["stop_reason"], r["coding"]["payload_output_error"]')" = "interrupted None"

cli_test_finish "coded link CLI"
