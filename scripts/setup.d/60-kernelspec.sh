#!/usr/bin/env bash
# Installs (or refreshes) the `expert` Jupyter kernelspec. It is a launcher that starts the kernel of the project
# the notebook is in (a clone, or a project with expert-ts in node_modules/), so re-running this from another
# clone changes nothing for notebooks of this one; this checkout is only the fallback for notebooks outside any project.
set -euo pipefail
cd "$(dirname "$0")/../.."
node dist/src/cli/main.js kernel install
