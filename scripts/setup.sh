#!/usr/bin/env bash
# Installs everything ExPerT-TS needs on a Debian (bookworm) machine, idempotently:
# Debian packages (with the non-free component, for iozone3), npm packages, the
# build, then every step in scripts/setup.d/ (guest image, kernelspec, ...).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(dirname "$here")
cd "$top"

log() { printf '[setup] %s\n' "$*"; }
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else
  echo "[setup] need root (or sudo) to run: $*" >&2; exit 1; fi; }

enable_non_free() {
  # iozone3 lives in Debian's non-free component of the same archive.
  local f=/etc/apt/sources.list.d/debian.sources
  if [ -f "$f" ] && grep -q '^Components:' "$f" && ! grep -q '^Components:.*non-free\b' "$f"; then
    log "enabling Debian's non-free component in $f (for iozone3)"
    as_root sed -i -E 's/^(Components:.*\bmain\b.*)$/\1 non-free/' "$f"
    return 0
  fi
  if [ -f /etc/apt/sources.list ] && grep -qE '^deb .* main' /etc/apt/sources.list && ! grep -qE '^deb .* non-free( |$)' /etc/apt/sources.list; then
    log "enabling Debian's non-free component in /etc/apt/sources.list (for iozone3)"
    as_root sed -i -E '/^deb .* main/ s/$/ non-free/' /etc/apt/sources.list
    return 0
  fi
  return 1
}

mapfile -t wanted < <(grep -vE '^\s*(#|$)' "$here/apt-packages.txt")
missing=()
for p in "${wanted[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  enable_non_free || true
  log "installing Debian packages: ${missing[*]}"
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
else
  log "Debian packages: all ${#wanted[@]} present"
fi

# npm packages: reinstall only when the lock file changed since the last install.
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  log "installing npm packages (npm ci)"
  npm ci --no-audit --no-fund
else
  log "npm packages: up to date"
fi

log "building (tsc)"
bash scripts/build.sh

for step in "$here"/setup.d/*.sh; do
  [ -e "$step" ] || continue
  log "step $(basename "$step")"
  bash "$step"
done
log "ready"
