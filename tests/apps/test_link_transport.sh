#!/usr/bin/env bash
# ZeroMQ transport behaviour as a user meets it, over real loopback sockets and real files:
# - amimo-ue without --realtime (as fast as it can) → PUSH/PULL → amimo-bs running a slow
#   analog solver chain: back-pressure holds the sender, amimo-bs reports zero dropped
#   samples and exactly the bit counts of a SigMF replay of the same transmission;
# - amimo-ue stops on one SIGINT or SIGTERM while its send is blocked (no receiver) within
#   about a second, with status 130; a SigMF recording cut by SIGINT is complete.
set -u
ue="$1"
bs="$2"
source "$(dirname "$0")/cli_test_lib.sh"

# --- a fast sender into a slow receiver: nothing lost ---------------------------------------
# amimo-ue generates 2x2 frames about 4.5x faster than amimo-bs decodes them through the
# simulated analog chip, so unthrottled it would run ~600 frames (> 4 Mi samples, the
# source's default backlog) ahead: the former source, which read every socket whatever its
# backlog, dropped the excess here. Now the full backlog holds the sender back.
frames=${AMIMO_TRANSPORT_FRAMES:-800}
shape=(--antennas 2 --users 2 --modulation qpsk --channel awgn --snr 4 --seed 13)
rx=(--detector zf --solver analog --progress off --idle-timeout 5 --frames "$frames")
timeout -k 5 120 "$ue" "${shape[@]}" --frames "$frames" --sink "zmq-push:tcp://127.0.0.1:*" \
  --port-file "$work/ue.ports" >"$work/ue.log" 2>&1 &
uepid=$!
pids+=($uepid)
check "amimo-ue wrote its endpoints" wait_port_file "$work/ue.ports"
start=$(date +%s.%N)
timeout -k 5 120 "$bs" "${shape[@]}" "${rx[@]}" --source "zmq-pull:$(paste -sd, "$work/ue.ports")" \
  --out "$work/zmq" >"$work/zmq.log" 2>&1
check "amimo-bs over ZeroMQ ran" test $? -eq 0
wait "$uepid"
check "amimo-ue finished" test $? -eq 0
bs_seconds=$(python3 -c "import time; print(f'{time.time() - $start:.1f}')")
check "amimo-bs decoded all $frames frames" test "$(json "$work/zmq/bs.json" 'r["receiver"]["frames"]')" = "$frames"
check "zero dropped samples, messages, overflows" test \
  "$(json "$work/zmq/bs.json" 'r["radio"]["dropped_samples"], r["radio"]["dropped_messages"], r["radio"]["overflows"]')" = "0 0 0"
check "no sync losses or missed frames" test \
  "$(json "$work/zmq/bs.json" 'r["receiver"]["sync_losses"], r["receiver"]["missed_frames"]')" = "0 0"
ue_wall=$(sed -n 's/^# sent .* in \([0-9.]*\) s wall.*/\1/p' "$work/ue.log")
echo "measured: amimo-ue sent $frames frames in $ue_wall s (held back), amimo-bs ran $bs_seconds s"

timeout -k 5 120 "$ue" "${shape[@]}" --frames "$frames" --sink "sigmf:$work/capture" >/dev/null 2>&1
check "amimo-ue recorded SigMF" test -s "$work/capture.sigmf-data"
timeout -k 5 120 "$bs" "${shape[@]}" "${rx[@]}" --source "sigmf:$work/capture" --out "$work/sigmf" \
  >"$work/sigmf.log" 2>&1
check "amimo-bs from SigMF ran" test $? -eq 0
check "ZeroMQ and SigMF replay: identical frames, bits and bit errors per user" \
  diff <(cut -d, -f1-8 "$work/zmq/bs.csv") <(cut -d, -f1-8 "$work/sigmf/bs.csv")
check "the comparison has bits in it" test "$(json "$work/sigmf/bs.json" 'r["receiver"]["frames"]')" = "$frames"

# --- one signal stops amimo-ue while its send is blocked -----------------------------------
for sig in INT TERM; do
  rm -f "$work/block.ports"
  "$ue" "${shape[@]}" --frames 0 --sink "zmq-push:tcp://127.0.0.1:*" --port-file "$work/block.ports" \
    >"$work/block-$sig.log" 2>&1 &
  pid=$!
  pids+=($pid)
  wait_port_file "$work/block.ports"
  sleep 0.5  # no receiver: the first frame's send blocks
  t0=$(date +%s.%N)
  kill -s "$sig" "$pid"
  for _ in $(seq 60); do kill -0 "$pid" 2>/dev/null || break; sleep 0.05; done
  stopped=$(python3 -c "import time; print(f'{time.time() - $t0:.2f}')")
  if kill -0 "$pid" 2>/dev/null; then kill -9 "$pid"; fi
  wait "$pid"
  status=$?
  check "SIG$sig while blocked: amimo-ue exited within 1.5 s (took $stopped s)" \
    python3 -c "import sys; sys.exit(0 if $stopped < 1.5 else 1)"
  check "SIG$sig while blocked: exit status 130 (got $status)" test "$status" -eq 130
  check "SIG$sig while blocked: says so" grep -q "interrupted by a signal" "$work/block-$sig.log"
done

# A recording cut by SIGINT holds every frame amimo-ue reports as sent.
"$ue" "${shape[@]}" --frames 0 --realtime --sink "sigmf:$work/cut" >"$work/cut.log" 2>&1 &
pid=$!
pids+=($pid)
# Frames are being written once the sink's temporary data file (file_io.h: .NAME.tmp-*,
# renamed into place at the end) holds some.
writing=no
for _ in $(seq 1200); do
  for f in "$work"/.cut.sigmf-data.tmp-*; do [ -s "$f" ] && writing=yes; done
  [ "$writing" = yes ] && break
  sleep 0.05
done
check "a recording in progress has frames in its temporary data file" test "$writing" = yes
sleep 0.2
kill -INT "$pid"
wait "$pid"
check "SIGINT during a recording: exit 130" test $? -eq 130
sent=$(sed -n 's/^# sent \([0-9]*\) frames.*/\1/p' "$work/cut.log")
check "SIGINT during a recording: $sent frames in the data file" python3 - "$work/cut.sigmf-data" "${sent:-0}" <<'PY'
import os, sys
size, sent = os.path.getsize(sys.argv[1]), int(sys.argv[2])
sys.exit(0 if sent > 0 and size == sent * 7672 * 2 * 8 else 1)
PY
check "SIGINT during a recording: meta written" test -s "$work/cut.sigmf-meta"

cli_test_finish "link transport CLI"
