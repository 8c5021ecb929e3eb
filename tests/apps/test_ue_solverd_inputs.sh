#!/usr/bin/env bash
# amimo-ue and amimo-solverd given awkward but plausible command lines (audit of 2026-12-03),
# run as a user runs them: empty values are refused (never "not given": an empty
# --curve-secret-key started a plain-TCP server), text values reach the program as typed,
# NaN/inf waits are refused, a signal stops a paced run mid-frame, an output never replaces
# an input, --gen-keys never replaces a key pair unasked, a SigMF sink finds a directory in
# its way before it starts, a missing payload file is a file error (3) and an absurd frame
# shape a configuration error (2) instead of an allocation failure.
set -u
ue="$1"
solverd="$2"
bs="$3"
source "$(dirname "$0")/cli_test_lib.sh"
status() {  # status EXPECTED NAME COMMAND...: the command's exit status (stderr kept in $work/err)
  local expected="$1" name="$2"; shift 2
  timeout -k 2 20 "$@" >"$work/out" 2>"$work/err"
  local rc=$?
  check "$name (exit $rc, expected $expected)" test "$rc" -eq "$expected"
}
one=(--frames 1 --antennas 2 --users 1 --modulation qpsk --channel awgn)

# --- A: empty values -------------------------------------------------------------------
status 2 "amimo-ue --config ''" "$ue" --config "" --sink "sigmf:$work/a" "${one[@]}"
status 2 "amimo-bs --config ''" "$bs" --config "" --frames 1 --out "$work/bs"
status 2 "amimo-ue --port-file ''" "$ue" --port-file "" --sink "sigmf:$work/a" "${one[@]}"
status 2 "amimo-solverd --gen-keys '' (no server started)" "$solverd" --gen-keys ""
status 2 "amimo-solverd --curve-secret-key '' (no plain-TCP server)" \
  "$solverd" --curve-secret-key "" --bind "tcp://127.0.0.1:*"
status 2 "amimo-solverd --port-file ''" "$solverd" --port-file "" --bind "tcp://127.0.0.1:*"
check "nothing written for the empty values" test ! -e "$work/a.sigmf-meta"

# --- B: text values as typed ------------------------------------------------------------
mkdir -p "$work/rec"
status 0 "sink path with ' #'" "$ue" --sink "sigmf:$work/rec/b #1" "${one[@]}"
check "sink path with ' #': the whole name" test -s "$work/rec/b #1.sigmf-meta" -a ! -e "$work/rec/b.sigmf-meta"
status 0 "sink path with ': '" "$ue" --sink "sigmf:$work/rec/c: d" "${one[@]}"
check "sink path with ': ': the whole name" test -s "$work/rec/c: d.sigmf-meta"
printf 'decoy!' >"$work/pay"
printf '123456789' >"$work/pay #1.bin"
status 0 "payload file with ' #'" "$ue" --coding ldpc --payload "$work/pay #1.bin" --sink "sigmf:$work/p" \
  --antennas 2 --users 1 --modulation qpsk --channel awgn --frames 0
check "payload file with ' #': its 9 bytes were sent, not the decoy's 6" \
  grep -q "payload bytes sent per user: 9 (every stream complete)" "$work/out"

# --- C: --wait-receivers ----------------------------------------------------------------
for w in nan inf -1 86401; do
  status 2 "--wait-receivers $w" "$ue" --wait-receivers "$w" --sink "sigmf:$work/w" "${one[@]}"
done
check "--wait-receivers: the message names the range" grep -q "0…86400" "$work/err"

# --- D: a signal during real-time pacing (a frame lasts 7672 s at 1 sample/s) -------------
"$ue" --sample-rate 1 --realtime --frames 3 --antennas 2 --users 1 --modulation qpsk --channel awgn \
  --sink "sigmf:$work/slow" >"$work/slow.log" 2>&1 &
slow=$!
pids+=("$slow")
wait_for_text "$work/slow.log" "^# amimo-ue"
sleep 0.3
kill -TERM "$slow"
for _ in $(seq 40); do kill -0 "$slow" 2>/dev/null || break; sleep 0.05; done
check "SIGTERM while pacing: stopped within 2 s" bash -c "! kill -0 $slow 2>/dev/null"
kill -9 "$slow" 2>/dev/null  # still pacing: the check above failed; do not wait hours
wait "$slow"; rc=$?
check "SIGTERM while pacing: exit 130 (got $rc)" test "$rc" -eq 130
check "SIGTERM while pacing: the recording written, no temporary left" \
  bash -c "test -s '$work/slow.sigmf-meta' && ! ls -a '$work' | grep -q '\.tmp-'"

# --- E: an output over an input ---------------------------------------------------------
printf 'frames: 1\nantennas: 2\nusers: 1\nchannel: awgn\nsink: "sigmf:%s/e"\n' "$work" >"$work/my.yaml"
cp "$work/my.yaml" "$work/my.orig"
status 2 "amimo-ue --port-file = --config" "$ue" --config "$work/my.yaml" --port-file "$work/my.yaml"
check "amimo-ue --port-file = --config: the config kept" cmp -s "$work/my.yaml" "$work/my.orig"
cp "$work/my.yaml" "$work/cfg.sigmf-meta"
status 2 "amimo-ue SigMF sink's metadata = --config" "$ue" --config "$work/cfg.sigmf-meta" --sink "sigmf:$work/cfg"
check "amimo-ue SigMF sink's metadata = --config: the config kept" cmp -s "$work/cfg.sigmf-meta" "$work/my.orig"

# --- F: --gen-keys ----------------------------------------------------------------------
mkdir -p "$work/k"
status 0 "--gen-keys" "$solverd" --gen-keys "$work/k"
check "--gen-keys: secret key mode 600" test "$(stat -c %a "$work/k/server.key")" = 600
cp "$work/k/server.key" "$work/key.orig"
status 2 "amimo-solverd --port-file = --curve-secret-key" \
  "$solverd" --curve-secret-key "$work/k/server.key" --port-file "$work/k/server.key" --bind "tcp://127.0.0.1:*"
check "amimo-solverd --port-file = --curve-secret-key: the key kept" cmp -s "$work/k/server.key" "$work/key.orig"
status 3 "--gen-keys over an existing pair" "$solverd" --gen-keys "$work/k"
check "--gen-keys over an existing pair: the key kept" cmp -s "$work/k/server.key" "$work/key.orig"
status 0 "--gen-keys --force" "$solverd" --gen-keys "$work/k" --force
check "--gen-keys --force: a new key" bash -c "! cmp -s '$work/k/server.key' '$work/key.orig'"
mkdir -p "$work/k2/server.pub" "$work/k3/server.pub"
status 3 "--gen-keys, a directory at server.pub" "$solverd" --gen-keys "$work/k3"
check "--gen-keys, a directory at server.pub: no key written" test ! -e "$work/k3/server.key"
status 3 "--gen-keys --force, a directory at server.pub" "$solverd" --gen-keys "$work/k2" --force
check "--gen-keys --force, a directory at server.pub: no key written" test ! -e "$work/k2/server.key"

# --- G: a SigMF sink with a directory in the way ----------------------------------------
mkdir -p "$work/dir" "$work/old.sigmf-data"
printf 'older metadata' >"$work/old.sigmf-meta"
status 2 "sigmf:DIR/" "$ue" --sink "sigmf:$work/dir/" "${one[@]}"
status 3 "sigmf:DIR (an existing directory)" "$ue" --sink "sigmf:$work/dir" "${one[@]}"
check "sigmf:DIR/: nothing written in DIR" test -z "$(ls -A "$work/dir")"
status 3 "directory at the data file's name" "$ue" --sink "sigmf:$work/old" "${one[@]}" --frames 50
check "directory at the data file's name: refused before the run" bash -c "! grep -q '^# sent' '$work/out'"
check "directory at the data file's name: the older metadata kept" \
  test "$(cat "$work/old.sigmf-meta")" = "older metadata"

# --- I: a second YAML document --------------------------------------------------------------
printf 'frames: 1\n---\nsnr_db: 500\n' >"$work/two.yaml"
status 2 "two YAML documents" "$ue" --config "$work/two.yaml" --sink "sigmf:$work/i"

# --- J: a missing payload file; an absurd frame shape -------------------------------------
status 3 "missing payload file" "$ue" --coding ldpc --payload "$work/none.bin" --sink "sigmf:$work/j"
status 2 "frame of about 1 TiB" "$ue" --antennas 1024 --set fft_size=65536 --set used_subcarriers=65534 \
  --set cp_length=65535 --set data_symbols=1024 --sink "sigmf:$work/j"
check "frame of about 1 TiB: the limit and the size stated" grep -q "GiB of buffers.*2 GiB limit" "$work/err"

cli_test_finish "amimo-ue / amimo-solverd inputs"
