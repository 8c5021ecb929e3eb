#!/usr/bin/env bash
# Reproduces the figures of the 2025 Nature Electronics RRAM matrix-solver paper
# (doi 10.1038/s41928-025-01477-0; DESIGN.md §1) with amimo:
# builds Release in build/ (installing the Debian packages it needs, like tools/amimo.sh
# build), then runs `amimo-report paper`, which writes CSV/JSON/PNG files and
# paper_reproduction.md into results/paper (or the folder given with --out).
#
#   tools/reproduce_paper.sh                 full effort (a few minutes on 2 cores)
#   tools/reproduce_paper.sh --quick         quick effort (seconds; what the test runs)
#   tools/reproduce_paper.sh --seed 7 --threads 4 --out results/paper-seed7
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$root/tools/amimo.sh" build
report="$root/build/apps/amimo-report"
if [ ! -x "$report" ]; then
  echo "reproduce_paper.sh: $report was not built" >&2
  exit 1
fi
# A later --out on the command line overrides this default (the option takes its last value).
exec "$report" paper --out "$root/results/paper" "$@"
