#!/usr/bin/env bash
# amimo-solverd and the remote backend as a user runs them, over real loopback sockets:
# the service starts on a free port and stops on SIGTERM; a remote sweep reproduces the
# in-process one for the same seed; killing the service mid-sweep still completes the
# sweep with the fallbacks reported; bad flags and endpoints fail cleanly.
set -u
solverd="$1"
sweep="$2"
source "$(dirname "$0")/cli_test_lib.sh"
start_service() {  # start_service NAME [flags...] → sets endpoint and pid
  local name="$1"; shift
  rm -f "$work/$name.port"
  "$solverd" --port-file "$work/$name.port" "$@" >"$work/$name.log" 2>&1 &
  pid=$!
  pids+=("$pid")
  wait_port_file "$work/$name.port" || return 1
  endpoint=$(cat "$work/$name.port")
}
# The comparable part of ber.csv: everything but the wall times (columns 16 and 24) and the
# analog profile's name (36).
comparable() { cut -d, -f1-15,17-23,25-35 "$1"; }

# --- bad input -------------------------------------------------------------------------
"$solverd" --workers 0 >/dev/null 2>"$work/err"; rc=$?
check "workers 0 refused (exit $rc)" refused "$rc"
"$solverd" --bind "tcp://256.1.1.1:1" >/dev/null 2>"$work/err"; rc=$?
check "unbindable endpoint: refused (exit $rc)" refused "$rc"
check "unbindable endpoint: message" grep -q "cannot bind" "$work/err"
"$sweep" --solver "remote:udp://x" --out "$work/bad" --progress off >/dev/null 2>"$work/err"; rc=$?
check "bad remote endpoint refused (exit $rc)" refused "$rc"
check "bad remote endpoint named" grep -q "endpoint" "$work/err"
"$sweep" --solver "remote:tcp://127.0.0.1:1" --remote-backend digital-f16 --out "$work/bad" --progress off \
  >/dev/null 2>"$work/err"; rc=$?
check "bad remote backend refused before running (exit $rc)" refused "$rc"

# --- identical results, remote vs in-process ---------------------------------------------
check "service started" start_service main --workers 2
check "service wrote its endpoint" grep -q "^tcp://127.0.0.1:[0-9]*$" "$work/main.port"
common=(--antennas 16 --users 4 --modulation qam16 --detector zf,mmse --snr 6:4:14 --max-bits 100000
        --seed 7 --progress off)
for backend in digital-f32 analog; do
  "$sweep" "${common[@]}" --solver "$backend" --out "$work/local-$backend" >/dev/null 2>&1
  "$sweep" "${common[@]}" --solver "remote:$endpoint" --remote-backend "$backend" --analog-iters 3 \
    --out "$work/remote-$backend" >"$work/remote-$backend.txt" 2>&1
  rc=$?
  check "remote $backend sweep ran" test "$rc" -eq 0
  if [ "$backend" = analog ]; then
    "$sweep" "${common[@]}" --solver analog --analog-iters 3 --out "$work/local-$backend" >/dev/null 2>&1
  fi
  check "remote $backend = in-process $backend (same seed)" \
    diff <(comparable "$work/local-$backend/ber.csv" | sed "s/,$backend,/,X,/") \
         <(comparable "$work/remote-$backend/ber.csv" | sed "s/,remote,/,X,/")
done
check "no fallbacks while the service runs" \
  test "$(cut -d, -f22 "$work/remote-analog/ber.csv" | tail -n +2 | sort -u)" = "0"

# --- the service dies mid-sweep ---------------------------------------------------------
"$sweep" --antennas 4 --users 4 --snr 0:1:30 --max-bits 100000 --min-errors 100000000 --progress off \
  --solver "remote:$endpoint" --remote-timeout-ms 200 --remote-retries 1 --out "$work/killed" \
  >"$work/killed.txt" 2>&1 &
sweep_pid=$!
wait_for_text "$work/killed.txt" '^ *0\.00 \|'  # the first point's rows: it was served
kill -9 "$pid"
wait "$sweep_pid"; rc=$?
check "sweep completes after the service died" test "$rc" -eq 0
check "all points written" test "$(tail -n +2 "$work/killed/ber.csv" | wc -l)" -ge 31
fallbacks=$(tail -n +2 "$work/killed/ber.csv" | cut -d, -f22 | awk "{s+=\$1} END {print s+0}")
check "fallbacks reported after the kill ($fallbacks)" test "$fallbacks" -gt 0
# The kill lands once the first point's rows are out (how far the sweep gets meanwhile
# depends on the build and the machine's load), so the first point was served remotely:
# fewer fallbacks than solves.
first_solves=$(sed -n 2p "$work/killed/ber.csv" | cut -d, -f19)
first_fallbacks=$(sed -n 2p "$work/killed/ber.csv" | cut -d, -f22)
check "early solves served remotely (0 dB: $first_fallbacks fallbacks of $first_solves solves)" \
  test "$first_fallbacks" -lt "$first_solves"
check "fallbacks are warned about on stderr, with the reason" \
  grep -q "warning: [0-9]* remote solve(s) were answered by the local digital-f64 fallback.*no reply" "$work/killed.txt"
check "no fallback warning while the service ran" bash -c "! grep -q 'warning:' '$work/remote-analog.txt'"
# on-failure=error: a user who wants only remote answers gets a non-zero exit instead.
printf 'remote:\n  on-failure: error\n  timeout-ms: 200\n' >"$work/strict.yaml"
"$sweep" --config "$work/strict.yaml" --solver "remote:$endpoint" --antennas 4 --users 2 --detector zf --snr 10 \
  --max-bits 4000 --progress off --out "$work/strict" >/dev/null 2>"$work/strict.err"; rc=$?
check "on-failure=error: exit 3 when the service is gone ($rc)" test "$rc" -eq 3
check "on-failure=error: the reason is named" grep -q "on-failure=error" "$work/strict.err"

# --- CURVE: keys from files; a client without the server key is not served -------------
"$solverd" --gen-keys "$work" >/dev/null
check "secret key is private" test "$(stat -c %a "$work/server.key")" = 600
check "CURVE service started" start_service curve --curve-secret-key "$work/server.key"
printf 'remote:\n  curve-server-key: %s\n' "$work/server.pub" >"$work/curve.yaml"
small=(--antennas 4 --users 2 --detector zf --snr 10 --max-bits 4000 --progress off)
"$sweep" --config "$work/curve.yaml" --solver "remote:$endpoint" "${small[@]}" --out "$work/curve-ok" >/dev/null 2>&1
check "CURVE client with the key: exit 0" test $? -eq 0
check "CURVE client with the key: served (0 fallbacks)" test "$(sed -n 2p "$work/curve-ok/ber.csv" | cut -d, -f22)" = "0"
"$sweep" --solver "remote:$endpoint" --remote-timeout-ms 200 "${small[@]}" --out "$work/curve-no" >/dev/null 2>&1
check "plain client against CURVE: exit 0 (answered by the fallback)" test $? -eq 0
no_solves=$(sed -n 2p "$work/curve-no/ber.csv" | cut -d, -f19)
no_fallbacks=$(sed -n 2p "$work/curve-no/ber.csv" | cut -d, -f22)
check "plain client against CURVE: every solve a fallback ($no_fallbacks of $no_solves)" \
  test "${no_solves:-0}" -gt 0 -a "$no_fallbacks" = "$no_solves"
kill "$pid"
# --curve-clients: only listed client keys are served; another key is refused and counted.
"$solverd" --gen-keys "$work" --key-name alice >/dev/null
"$solverd" --gen-keys "$work" --key-name mallory >/dev/null
mkdir -p "$work/clients" && cp "$work/alice.pub" "$work/clients/"
check "allow-list service started" start_service allow --curve-secret-key "$work/server.key" --curve-clients "$work/clients"
check "banner: authorised keys" grep -q "CURVE, 1 authorised client keys" "$work/allow.log"
printf 'remote:\n  curve-server-key: %s\n  curve-client-key: %s\n' "$work/server.pub" "$work/alice.key" >"$work/alice.yaml"
printf 'remote:\n  curve-server-key: %s\n  curve-client-key: %s\n  timeout-ms: 200\n' "$work/server.pub" \
  "$work/mallory.key" >"$work/mallory.yaml"
"$sweep" --config "$work/alice.yaml" --solver "remote:$endpoint" "${small[@]}" --out "$work/alice" >/dev/null 2>&1
check "authorised client key: exit 0" test $? -eq 0
check "authorised client key: served (0 fallbacks)" test "$(sed -n 2p "$work/alice/ber.csv" | cut -d, -f22)" = "0"
"$sweep" --config "$work/mallory.yaml" --solver "remote:$endpoint" "${small[@]}" --out "$work/mallory" >/dev/null \
  2>"$work/mallory.err"
check "unauthorised client key: exit 0 (answered by the fallback)" test $? -eq 0
m_solves=$(sed -n 2p "$work/mallory/ber.csv" | cut -d, -f19)
check "unauthorised client key: every solve a fallback" \
  test "${m_solves:-0}" -gt 0 -a "$(sed -n 2p "$work/mallory/ber.csv" | cut -d, -f22)" = "$m_solves"
check "unauthorised client key: every solve a fallback, warned" grep -q "not authorised" "$work/mallory.err"
kill -TERM "$pid"; wait "$pid"
check "unauthorised handshakes counted" grep -Eq "[1-9][0-9]* unauthorised keys" "$work/allow.log"

# --- SIGTERM stops the service cleanly ----------------------------------------------------
check "service to stop started" start_service term --workers 1
kill -TERM "$pid"; wait "$pid"; rc=$?
check "SIGTERM: exit 0" test "$rc" -eq 0
check "SIGTERM: summary printed" grep -q "stopped" "$work/term.log"

echo "$pass checks passed, $failures failed"
[ "$failures" -eq 0 ]
