# Shared by the CLI test scripts (source it): a scratch folder removed on exit with every
# background process registered in `pids`, pass/fail counting, and small helpers.
#   source "$(dirname "$0")/cli_test_lib.sh"; ...; cli_test_finish NAME
work=$(mktemp -d)
pids=()
cli_test_cleanup() {
  for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null; done
  rm -rf "$work"
}
trap cli_test_cleanup EXIT
failures=0
pass=0
check() {  # check NAME CONDITION...
  local name="$1"; shift
  if "$@"; then pass=$((pass + 1)); else echo "FAIL: $name"; failures=$((failures + 1)); fi
}
wait_port_file() {  # wait_port_file FILE: up to 10 s for a program to write its endpoints
  for _ in $(seq 200); do [ -s "$1" ] && return 0; sleep 0.05; done
  return 1
}
json() {  # json FILE PYTHON-EXPRESSION-ON-r
  python3 -c "import json,sys; r=json.load(open(sys.argv[1])); print($2)" "$1"
}
cli_test_finish() {  # cli_test_finish NAME: the closing count line and the exit status
  echo "$1: $pass passed, $failures failed"
  [ "$failures" -eq 0 ]
}
