#!/usr/bin/env bash
# amimo-ue → transport → amimo-bs as a user runs them, over real loopback sockets and real
# files: the BER over ZeroMQ (GNU Radio convention) lies inside amimo-sweep's 95% interval
# at the same SNR and detector on a flat channel; zero errors at high SNR; a SigMF round
# trip decodes the very same samples (identical counts); srsRAN's REQ/REP convention; NaN
# samples in a recording, a sender that vanishes, a corrupt recording and bad flags each
# give a counted event or a clear error, never a hang.
set -u
ue="$1"
bs="$2"
sweep="$3"
source "$(dirname "$0")/cli_test_lib.sh"
csv_field() {  # csv_field FILE CHAIN USER COLUMN
  python3 - "$@" <<'PY'
import csv, sys
path, chain, user, column = sys.argv[1:5]
for row in csv.DictReader(open(path)):
    if row["chain"] == chain and row["user"] == user:
        print(row[column]); break
PY
}
run_bounded() {  # run_bounded SECONDS CMD... (never hang)
  local s="$1"; shift
  timeout -k 5 "$s" "$@"
}

shape=(--antennas 16 --users 4 --modulation qpsk --channel awgn --seed 21)
rxflags=(--detector zf --solver digital-f64 --set estimation_smoothing=-1 --set pilot_symbols=16 --progress off
         --idle-timeout 2)

# --- BER over ZeroMQ inside amimo-sweep's interval -----------------------------------------
snr=-7.7
run_bounded 120 "$sweep" -N 16 -K 4 --modulation qpsk --detector zf --solver digital-f64 --channel awgn \
  --snr "$snr" --max-bits 600000 --min-errors 100000000 --seed 5 --progress off --out "$work/sweep" \
  >"$work/sweep.log" 2>&1
check "sweep ran" test $? -eq 0
low=$(python3 -c "import csv;r=next(csv.DictReader(open('$work/sweep/ber.csv')));print(r['ber_ci_low'])")
high=$(python3 -c "import csv;r=next(csv.DictReader(open('$work/sweep/ber.csv')));print(r['ber_ci_high'])")

run_bounded 120 "$ue" "${shape[@]}" --snr "$snr" --set pilot_symbols=16 --frames 150 \
  --sink "zmq-push:tcp://127.0.0.1:*" --port-file "$work/ue.ports" >"$work/ue.log" 2>&1 &
pids+=($!)
uepid=$!
check "amimo-ue wrote its endpoints" wait_port_file "$work/ue.ports"
endpoints=$(paste -sd, "$work/ue.ports")
check "one endpoint per antenna" test "$(wc -l <"$work/ue.ports")" -eq 16
run_bounded 120 "$bs" "${shape[@]}" "${rxflags[@]}" --frames 150 --source "zmq-pull:$endpoints" \
  --out "$work/zmq" >"$work/zmq.log" 2>&1
check "amimo-bs over ZeroMQ ran" test $? -eq 0
wait "$uepid"
check "amimo-ue finished" test $? -eq 0
frames=$(csv_field "$work/zmq/bs.csv" zf/digital-f64 all frames)
ber=$(csv_field "$work/zmq/bs.csv" zf/digital-f64 all ber)
check "150 frames decoded over ZeroMQ (got $frames)" test "$frames" = 150
check "BER over ZeroMQ ($ber) inside amimo-sweep's 95% interval [$low, $high]" \
  python3 -c "import sys; sys.exit(0 if $low <= $ber <= $high else 1)"

# --- the same through a SigMF recording: the same samples, the same counts ---------------
run_bounded 120 "$ue" "${shape[@]}" --snr "$snr" --set pilot_symbols=16 --frames 150 \
  --sink "sigmf:$work/capture" >"$work/ue-sigmf.log" 2>&1
check "amimo-ue recorded SigMF" test -s "$work/capture.sigmf-data" -a -s "$work/capture.sigmf-meta"
check "no temporary files left" test "$(ls -A "$work" | grep -c '^\.')" -eq 0
check "SigMF meta: cf32_le, 16 channels, 7.68 Msps" python3 - "$work/capture.sigmf-meta" <<'PY'
import json, sys
g = json.load(open(sys.argv[1]))["global"]
sys.exit(0 if g["core:datatype"] == "cf32_le" and g["core:num_channels"] == 16 and g["core:sample_rate"] == 7.68e6 else 1)
PY
run_bounded 120 "$bs" "${shape[@]}" "${rxflags[@]}" --frames 0 --source "sigmf:$work/capture.sigmf-meta" \
  --out "$work/sigmf" >"$work/sigmf.log" 2>&1
check "amimo-bs from SigMF ran" test $? -eq 0
check "SigMF round trip decodes the same bits with the same errors as ZeroMQ" \
  diff <(cut -d, -f1-8 "$work/zmq/bs.csv") <(cut -d, -f1-8 "$work/sigmf/bs.csv")
check "stopped at end of stream" grep -q "stopped: end of stream" "$work/sigmf.log"

# --- zero errors at high SNR ---------------------------------------------------------------
run_bounded 120 "$ue" "${shape[@]}" --snr 10 --frames 30 --sink "sigmf:$work/clean" >/dev/null 2>&1
run_bounded 120 "$bs" "${shape[@]}" --detector zf,mmse --solver digital-f32 --progress off --frames 0 \
  --source "sigmf:$work/clean" --out "$work/clean" >"$work/clean.log" 2>&1
check "high SNR: zf 0 errors" test "$(csv_field "$work/clean/bs.csv" zf/digital-f32 all bit_errors)" = 0
check "high SNR: mmse 0 errors" test "$(csv_field "$work/clean/bs.csv" mmse/digital-f32 all bit_errors)" = 0
check "high SNR: 30 frames" test "$(csv_field "$work/clean/bs.csv" zf/digital-f32 all frames)" = 30

# --- srsRAN's REQ/REP convention (4 antennas, 2 users) -------------------------------------
# amimo-ue binds its REP sockets on ports the system picks and writes them out (a port found
# free beforehand could be taken by another test before amimo-ue binds it).
tx="tx_port=tcp://127.0.0.1:*,tx_port1=tcp://127.0.0.1:*,tx_port2=tcp://127.0.0.1:*,tx_port3=tcp://127.0.0.1:*,trx_timeout_ms=20000"
small=(--antennas 4 --users 2 --modulation qam16 --channel tdl-a --seed 3)
run_bounded 120 "$ue" "${small[@]}" --snr 35 --frames 20 --sink "srsran:$tx" --port-file "$work/srsran.ports" \
  >"$work/ue-srsran.log" 2>&1 &
uepid=$!
pids+=($uepid)
wait_port_file "$work/srsran.ports"
mapfile -t bound <"$work/srsran.ports"
rx="rx_port=${bound[0]},rx_port1=${bound[1]},rx_port2=${bound[2]},rx_port3=${bound[3]},trx_timeout_ms=20000"
run_bounded 120 "$bs" "${small[@]}" --solver digital-f32 --progress off --frames 0 --source "srsran:$rx" \
  --out "$work/srsran" >"$work/srsran.log" 2>&1 &
bspid=$!
pids+=($bspid)
wait "$uepid"
check "amimo-ue over srsRAN ZMQ ran" test $? -eq 0
wait "$bspid"
check "amimo-bs over srsRAN ZMQ ran" test $? -eq 0
check "srsRAN: 20 frames, 0 errors" test "$(csv_field "$work/srsran/bs.csv" mmse/digital-f32 all frames),$(csv_field "$work/srsran/bs.csv" mmse/digital-f32 all bit_errors)" = "20,0"

# --- bad input: NaN samples, a vanished sender, a corrupt recording, bad flags --------------
cp "$work/clean.sigmf-meta" "$work/nan.sigmf-meta"
python3 - "$work/clean.sigmf-data" "$work/nan.sigmf-data" <<'PY'
import struct, sys
data = bytearray(open(sys.argv[1], "rb").read())
frame = 14 * 548 * 16 * 8                       # bytes per frame (16 channels, cf32)
for at in (3 * frame + 5000 * 16 * 8 + 3 * 8, 3 * frame + 6000 * 16 * 8):
    data[at:at + 4] = struct.pack("<f", float("nan"))
open(sys.argv[2], "wb").write(data)
PY
run_bounded 120 "$bs" "${shape[@]}" --solver digital-f32 --progress off --frames 0 --source "sigmf:$work/nan" \
  --out "$work/nan" >"$work/nan.log" 2>&1
check "NaN recording: exit 0" test $? -eq 0
check "NaN recording: frame dropped and counted" python3 - "$work/nan/bs.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))["receiver"]
sys.exit(0 if r["nonfinite_samples"] == 2 and r["nonfinite_frames"] == 1 and r["frames"] == 29 else 1)
PY
check "NaN recording: other frames error-free" test "$(csv_field "$work/nan/bs.csv" mmse/digital-f32 all bit_errors)" = 0

"$ue" "${shape[@]}" --frames 0 --realtime --sink "zmq-push:tcp://127.0.0.1:*" \
  --port-file "$work/live.ports" >/dev/null 2>&1 &
livepid=$!
pids+=($livepid)
wait_port_file "$work/live.ports"
run_bounded 60 "$bs" "${shape[@]}" --solver digital-f32 --progress on --frames 0 --idle-timeout 1 \
  --source "zmq-pull:$(paste -sd, "$work/live.ports")" --out "$work/vanish" >"$work/vanish.log" 2>&1 &
bspid=$!
pids+=($bspid)
wait_for_text "$work/vanish.log" '\[measured\] frames [1-9]'  # the status line: frames decoded
kill -9 "$livepid"
wait "$livepid" 2>/dev/null
wait "$bspid"
check "sender vanished: amimo-bs ends (idle) with exit 0" test $? -eq 0
check "sender vanished: stop reason idle" grep -q "stopped: idle" "$work/vanish.log"
check "sender vanished: frames were decoded before" python3 -c "
import json; r=json.load(open('$work/vanish/bs.json')); exit(0 if r['receiver']['frames'] > 0 and r['radio']['timeouts'] > 0 else 1)"

head -c 100000 "$work/clean.sigmf-data" | head -c 99999 >"$work/cut.sigmf-data"
cp "$work/clean.sigmf-meta" "$work/cut.sigmf-meta"
run_bounded 30 "$bs" "${shape[@]}" --progress off --source "sigmf:$work/cut" --out "$work/cut" >/dev/null 2>"$work/err"
check "corrupt recording: exit 3" test $? -eq 3
check "corrupt recording: message names the file" grep -q "cut.sigmf-data" "$work/err"
check "corrupt recording: no report written" test ! -e "$work/cut/bs.json"
echo "{ not json" >"$work/bad.sigmf-meta"; : >"$work/bad.sigmf-data"
run_bounded 30 "$bs" --progress off --source "sigmf:$work/bad" --out "$work/bad" >/dev/null 2>"$work/err"
check "malformed meta: exit 3" test $? -eq 3
run_bounded 30 "$bs" --progress off --source "carrier-pigeon:x" --out "$work/x" >/dev/null 2>"$work/err"
check "unknown source: exit 2" test $? -eq 2
check "unknown source: named" grep -q "carrier-pigeon" "$work/err"
run_bounded 30 "$bs" --progress off --set no_such_key=1 --out "$work/x" >/dev/null 2>"$work/err"
check "unknown key: exit 2" test $? -eq 2
check "unknown key: named" grep -q "no_such_key" "$work/err"
run_bounded 30 "$bs" "${shape[@]}" --progress off --source "sigmf:$work/clean" --antennas 8 --out "$work/x" >/dev/null 2>"$work/err"
check "channel count mismatch: exit 2" test $? -eq 2
run_bounded 30 "$ue" --sink "zmq-push:tcp://256.0.0.1:5" --frames 1 >/dev/null 2>"$work/err"
rc=$?
check "unbindable sink: refused (exit $rc)" refused "$rc"
run_bounded 30 "$ue" --frames 1 >/dev/null 2>"$work/err"
check "no sink: exit 2" test $? -eq 2

echo "link CLI: $pass passed, $failures failed"
[ "$failures" -eq 0 ]
