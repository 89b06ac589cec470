#!/usr/bin/env bash
# Installs (or refreshes) the `expert` Jupyter kernelspec, pointing at this checkout's build.
set -euo pipefail
cd "$(dirname "$0")/../.."
node dist/src/cli/main.js kernel install
