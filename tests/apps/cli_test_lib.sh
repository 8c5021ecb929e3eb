# Shared by the CLI test scripts (source it): a scratch folder removed on exit with every
# background process registered in `pids`, pass/fail counting, and small helpers.
#   source "$(dirname "$0")/cli_test_lib.sh"; ...; cli_test_finish NAME
work=$(mktemp -d)
pids=()
cli_test_cleanup() {
  # TERM first: a `timeout` wrapper passes it on to the program it runs (its child is in
  # another process group, so a KILL of the wrapper alone would orphan the program).
  local p
  if [ ${#pids[@]} -gt 0 ]; then
    for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null; done
    sleep 0.2
    for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null; done
  fi
  rm -rf "$work"
}
trap cli_test_cleanup EXIT
failures=0
pass=0
check() {  # check NAME CONDITION...
  local name="$1"; shift
  if "$@"; then pass=$((pass + 1)); else echo "FAIL: $name"; failures=$((failures + 1)); fi
}
refused() {  # refused STATUS: a clean refusal (README: 1 error, 2 configuration, 3 files or
  # transport), not a crash (128 + signal), a sanitizer's abort or a timeout (124)
  [ "$1" -ge 1 ] && [ "$1" -le 3 ]
}
wait_port_file() {  # wait_port_file FILE: up to 10 s for a program to write its endpoints
  for _ in $(seq 200); do [ -s "$1" ] && return 0; sleep 0.05; done
  return 1
}
wait_for_text() {  # wait_for_text FILE REGEX: up to 60 s for a line matching REGEX (grep -E) in FILE
  for _ in $(seq 1200); do grep -qE "$2" "$1" 2>/dev/null && return 0; sleep 0.05; done
  echo "wait_for_text: no '$2' in $1 after 60 s"
  return 1
}
json() {  # json FILE PYTHON-EXPRESSION-ON-r
  python3 -c "import json,sys; r=json.load(open(sys.argv[1])); print($2)" "$1"
}
cli_test_finish() {  # cli_test_finish NAME: the closing count line and the exit status
  echo "$1: $pass passed, $failures failed"
  [ "$failures" -eq 0 ]
}
