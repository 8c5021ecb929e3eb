#!/usr/bin/env bash
# Channels out of step, as users meet them, over real loopback sockets: amimo-ue delays one
# antenna's stream by 1024 samples (antenna_delays, as sockets started at different times
# deliver it) over PUSH/PULL and over PUB/SUB; amimo-bs must realign that channel, count it
# (misaligned_channels) and decode with the unskewed run's bit errors — never decode
# misaligned channels silently. Also: frame_search past its bound is refused (status 2).
set -u
ue="$1"
bs="$2"
source "$(dirname "$0")/cli_test_lib.sh"

frames=30
shape=(--antennas 4 --users 2 --modulation qam16 --channel flat --snr 25 --seed 5)
rx=(--detector zf,mmse --solver digital-f32 --progress off --idle-timeout 3 --frames 0)

run_link() {  # run_link NAME SINK-KIND SOURCE-KIND [ue args...]
  local name="$1" sink="$2" source="$3"; shift 3
  rm -f "$work/$name.ports"
  "$ue" "${shape[@]}" --frames "$frames" --sink "$sink:tcp://127.0.0.1:*" --port-file "$work/$name.ports" \
    --wait-receivers 10 "$@" >"$work/$name-ue.log" 2>&1 &
  local uepid=$!
  pids+=($uepid)
  wait_port_file "$work/$name.ports"
  timeout -k 5 60 "$bs" "${shape[@]}" "${rx[@]}" --source "$source:$(paste -sd, "$work/$name.ports")" \
    --out "$work/$name" >"$work/$name-bs.log" 2>&1
  check "$name: amimo-bs ran" test $? -eq 0
  wait "$uepid"
  check "$name: amimo-ue finished" test $? -eq 0
}

run_link straight zmq-push zmq-pull
run_link skewed zmq-push zmq-pull --set antenna_delays=0,0,1024,0
run_link pubsub zmq-pub zmq-sub --set antenna_delays=0,1024,0,0

check "unskewed: nothing realigned" test "$(json "$work/straight/bs.json" 'r["receiver"]["misaligned_channels"]')" = 0
check "unskewed: error-free" test "$(json "$work/straight/bs.json" 'sum(c["bit_errors"] for c in r["chains"])')" = 0
for name in skewed pubsub; do
  check "$name: one channel realigned and counted" \
    test "$(json "$work/$name/bs.json" 'r["receiver"]["misaligned_channels"]')" = 1
  check "$name: no frame dropped for alignment" \
    test "$(json "$work/$name/bs.json" 'r["receiver"]["unaligned_frames"]')" = 0
  check "$name: BER back to the unskewed run's (0)" \
    test "$(json "$work/$name/bs.json" 'sum(c["bit_errors"] for c in r["chains"])')" = 0
  check "$name: no erasures" test "$(json "$work/$name/bs.json" 'sum(c["erased_bits"] for c in r["chains"])')" = 0
  # The skewed antenna's stream ends 1024 samples later: at most the last frame is cut.
  check "$name: frames decoded like the unskewed run (±1)" python3 -c "
import json,sys
a=json.load(open(sys.argv[1]))['receiver']['frames']; b=json.load(open(sys.argv[2]))['receiver']['frames']
sys.exit(0 if abs(a-b) <= 1 and a >= $frames - 3 else 1)" "$work/$name/bs.json" "$work/straight/bs.json"
  grep -q "misaligned channels 1 (realigned)" "$work/$name-bs.log"
  check "$name: the event line names it" test $? -eq 0
done

# The PRBS frame-index search is bounded work: an unbounded frame_search is refused.
"$bs" --set frame_search=100000000 --frames 1 --out "$work/fs" >"$work/fs.log" 2>&1
check "frame_search past its bound: status 2" test $? -eq 2
check "frame_search past its bound: message names it" grep -q "frame_search" "$work/fs.log"
"$ue" --set antenna_delays=0,99999 --frames 1 --sink "sigmf:$work/x" >"$work/ad.log" 2>&1
check "antenna_delays past a frame: status 2" test $? -eq 2
check "antenna_delays past a frame: message names it" grep -q "antenna_delays" "$work/ad.log"

cli_test_finish "link alignment CLI"
