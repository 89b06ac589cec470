#!/usr/bin/env bash
# The main job on the embedded defaults: set up, bring the local testbed up
# (two QEMU guests), run examples/quickstart.yaml into ./expert.duckdb, write
# the HTML report, and take the testbed down again if this script brought it up.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
expert() { node dist/src/cli/main.js "$@"; }

brought_up=0
if ! expert testbed status --format csv >/dev/null 2>&1; then
  expert testbed up --vms "${EXPERT_VMS:-2}"
  brought_up=1
fi
down() { if [ "$brought_up" = 1 ]; then expert testbed down; fi; }
trap down EXIT

status=0
expert run examples/quickstart.yaml --store "${EXPERT_STORE:-expert.duckdb}" || status=$?
if [ "$status" -le 1 ]; then
  expert mine summary --store "${EXPERT_STORE:-expert.duckdb}" --format table || true
  expert report latest --store "${EXPERT_STORE:-expert.duckdb}" --out expert-report.html
  echo "store: ${EXPERT_STORE:-expert.duckdb}   report: expert-report.html"
fi
exit "$status"
