#!/usr/bin/env bash
# Runs every test file under tests/ with Node's test runner (TypeScript through tsx).
# Test files run one at a time: several start sshd, QEMU guests or Chromium.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build.sh
shopt -s globstar nullglob
files=(tests/**/*.test.ts)
[ ${#files[@]} -gt 0 ] || { echo "no test files under tests/" >&2; exit 1; }
exec node --import tsx --test --test-concurrency=1 --test-reporter=spec "$@" "${files[@]}"
