#!/usr/bin/env bash
# Builds the testbed's guest image (or finds it in ~/.cache/expert/guest/), so
# CI and the README's main command start guests without waiting for a build.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
dir=$(bash "$here/guest-image/build.sh")
echo "[setup] guest image: $dir"
