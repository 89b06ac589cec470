#!/usr/bin/env bash
# Prepares this machine for `expert testbed up --manager libvirt`, idempotently.
# Debian's libvirt-daemon, libvirt-daemon-driver-qemu and libvirt-clients (from
# apt-packages.txt) install without libvirt-daemon-system, which would pull in
# systemd; what that package would have set up is done here instead:
# - the folders libvirtd's QEMU driver writes to,
# - the libvirt-qemu user and group (libvirtd looks them up at start even when
#   qemu.conf runs guests as root),
# - /etc/libvirt/qemu.conf: guests run as root (the testbed's image lives in
#   root's cache), no file relabelling (several guests share one read-only root
#   disk), no security driver (none is loaded in a container).
# The daemons are started by `expert testbed up`, not here (no systemd).
set -euo pipefail
log() { printf '[setup] libvirt: %s\n' "$*"; }
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else
  echo "[setup] libvirt: need root (or sudo) to run: $*" >&2; exit 1; fi; }

if ! command -v libvirtd >/dev/null 2>&1 && [ ! -x /usr/sbin/libvirtd ]; then
  log "libvirtd is not installed (apt-packages.txt lists libvirt-daemon): skipped"
  exit 0
fi

for d in /var/log/libvirt/qemu /var/lib/libvirt/qemu /var/cache/libvirt/qemu /etc/libvirt/qemu; do
  [ -d "$d" ] || { log "creating $d"; as_root mkdir -p "$d"; }
done

if ! getent group libvirt-qemu >/dev/null; then
  log "creating group libvirt-qemu"
  as_root groupadd --system libvirt-qemu
fi
if ! getent passwd libvirt-qemu >/dev/null; then
  log "creating user libvirt-qemu"
  as_root useradd --system --gid libvirt-qemu --no-create-home --home-dir /var/lib/libvirt --shell /usr/sbin/nologin libvirt-qemu
fi

conf=/etc/libvirt/qemu.conf
want() { grep -qE "^$1 = $2\$" "$conf" 2>/dev/null; }
if ! { want user '"root"' && want group '"root"' && want dynamic_ownership 0 && want remember_owner 0 && want security_driver '"none"'; }; then
  log "writing $conf (guests as root, no relabelling, no security driver)"
  tmp=$(mktemp)
  # Keep what the file already says about other settings; ours replace any earlier value.
  if [ -f "$conf" ]; then grep -vE '^(user|group|dynamic_ownership|remember_owner|security_driver) =' "$conf" > "$tmp" || true; fi
  cat >> "$tmp" <<'EOF'
# Written by ExPerT-TS scripts/setup.d/40-libvirt.sh for the libvirt testbed.
user = "root"
group = "root"
dynamic_ownership = 0
remember_owner = 0
security_driver = "none"
EOF
  as_root install -m 0644 "$tmp" "$conf"
  rm -f "$tmp"
else
  log "$conf: as wanted"
fi
log "ready (libvirt $(libvirtd --version 2>/dev/null | awk '{print $NF}'))"
