#!/usr/bin/env bash
# Prepares this machine for the local Slurm that the Slurm tests (and
# `expert testbed up --slurm`) start, idempotently. Debian's slurmctld, slurmd,
# slurm-client and munge (from apt-packages.txt) install without systemd
# running; what their units would do is done by src/slurm/local-cluster.ts
# (munged as user munge with /run/munge, then slurmctld -f CONF, slurmd -f CONF -N NAME).
# Here: a munge key, and munge's folders with the owners munged insists on.
set -euo pipefail
log() { printf '[setup] slurm: %s\n' "$*"; }
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else
  echo "[setup] slurm: need root (or sudo) to run: $*" >&2; exit 1; fi; }

if ! command -v slurmctld >/dev/null 2>&1 && [ ! -x /usr/sbin/slurmctld ]; then
  log "slurmctld is not installed (apt-packages.txt lists it): skipped"
  exit 0
fi
if ! getent passwd munge >/dev/null; then
  log "no user munge (the munge package creates it): skipped"
  exit 0
fi

for d in /etc/munge /var/lib/munge /var/log/munge /run/munge; do
  [ -d "$d" ] || { log "creating $d"; as_root mkdir -p "$d"; }
done
as_root chown munge:munge /etc/munge /var/lib/munge /var/log/munge /run/munge
as_root chmod 0700 /etc/munge /var/log/munge
as_root chmod 0711 /var/lib/munge
as_root chmod 0755 /run/munge

key=/etc/munge/munge.key
if [ ! -s "$key" ]; then
  log "creating $key"
  if command -v mungekey >/dev/null 2>&1; then as_root mungekey --create --keyfile="$key" --force
  else as_root dd if=/dev/urandom of="$key" bs=1 count=1024 status=none; fi
fi
as_root chown munge:munge "$key"
as_root chmod 0400 "$key"
log "ready (slurm $(slurmctld -V 2>/dev/null | awk '{print $2}'), munge key in $key)"
