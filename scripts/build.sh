#!/usr/bin/env bash
# The build: tsc into dist/, then the CLI entry made executable (tsc writes it
# 0644; `npm link` and installs chmod it, a checkout's own symlink does not).
set -euo pipefail
cd "$(dirname "$0")/.."
npx tsc -p tsconfig.json
chmod +x dist/src/cli/main.js
