#!/usr/bin/env bash
# Builds (or finds in the cache) the testbed's guest image from Debian packages
# only, and prints the image directory on stdout.
#
#   vmlinuz      Debian's linux-image-amd64 kernel (the .deb from the apt archive)
#   initrd.img   tiny initramfs: busybox + the virtio/ext4 modules; mounts root.img
#   root.img     ext2 root disk, shared read-only by every guest: busybox, dash,
#                bash, dropbear, fio, iozone, coreutils dd, vmstat/iostat/mpstat
#                and their shared libraries (from this machine's Debian packages)
#   dropbear_ed25519_host_key.pub   the guests' host key (OpenSSH format), for known_hosts
#   manifest.json  the inputs (package versions) and the hash
#
# The directory is ~/.cache/expert/guest/<hash> (EXPERT_CACHE_DIR or
# XDG_CACHE_HOME move it), where <hash> covers every input: package versions
# and these scripts. A second call with the same inputs returns at once.
set -euo pipefail
# mke2fs and modinfo live in /usr/sbin, which a normal user's PATH lacks.
export PATH="$PATH:/usr/local/sbin:/usr/sbin:/sbin"
here=$(cd "$(dirname "$0")" && pwd)
cache=${EXPERT_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/expert}
log() { printf '[guest-image] %s\n' "$*" >&2; }
die() { printf '[guest-image] error: %s\n' "$*" >&2; exit 1; }

tools=(busybox-static dropbear-bin fio iozone3 coreutils procps sysstat dash bash libc6)
binaries=(/usr/sbin/dropbear /usr/bin/fio /usr/bin/iozone /bin/dd /usr/bin/vmstat /usr/bin/iostat /usr/bin/mpstat /usr/bin/pidstat /usr/bin/dash /usr/bin/bash)
modules=(virtio_pci virtio_blk virtio_net virtio-rng crc32c_generic ext4)

versions=""
for p in "${tools[@]}"; do
  v=$(dpkg-query -W -f='${Version}' "$p" 2>/dev/null) || die "Debian package $p is not installed (run scripts/setup.sh; iozone3 needs the non-free component)"
  versions+="$p=$v "
done
# Asking apt takes a second or two: remember its answer until the apt lists change.
mkdir -p "$cache/guest"
apt_stamp="$(stat -c %Y /var/lib/apt/lists /var/cache/apt/pkgcache.bin 2>/dev/null | tr '\n' ' ' || true)"
resolved="$cache/guest/.kernel-package"
kpkg="" kver=""
if [ -f "$resolved" ] && [ "$(sed -n 1p "$resolved")" = "$apt_stamp" ]; then
  kpkg=$(sed -n 2p "$resolved"); kver=$(sed -n 3p "$resolved")
fi
if [ -z "$kpkg" ]; then
  kpkg=$(apt-cache depends linux-image-amd64 2>/dev/null | awk '/Depends: linux-image-[0-9]/{print $2; exit}' || true)
  kver=""
  [ -z "$kpkg" ] || kver=$(apt-cache policy "$kpkg" 2>/dev/null | awk '/Candidate:/{print $2}' || true)
  if [ -z "$kpkg" ] || [ -z "$kver" ] || [ "$kver" = "(none)" ]; then
    # No apt lists (a slimmed container): take the kernel .deb downloaded before, if any.
    cached=$(ls -t "$cache/debs"/linux-image-*_amd64.deb 2>/dev/null | head -1 || true)
    [ -n "$cached" ] || die "apt cannot resolve linux-image-amd64 and no kernel package is cached in $cache/debs (run apt-get update)"
    base=$(basename "$cached" _amd64.deb)
    kpkg=${base%%_*}
    kver=${base#*_}; kver=${kver//%3a/:}
  fi
  printf '%s\n%s\n%s\n' "$apt_stamp" "$kpkg" "$kver" >"$resolved"
fi
versions+="$kpkg=$kver"
hash=$( { echo "$versions"; cat "$here"/build.sh "$here"/init-stage1.sh "$here"/rc.sh "$here"/inittab; } | sha256sum | cut -c1-16)
out="$cache/guest/$hash"
if [ -f "$out/manifest.json" ]; then echo "$out"; exit 0; fi

mkdir -p "$cache/guest" "$cache/debs"
exec 9>"$cache/guest/.lock"
flock 9
if [ -f "$out/manifest.json" ]; then echo "$out"; exit 0; fi
log "building guest image $hash ($versions)"
work=$(mktemp -d "$cache/guest/.build.XXXXXX")
trap 'rm -rf "$work"' EXIT

# --- kernel and modules: Debian's linux-image .deb, not installed, just unpacked
deb=$(ls "$cache/debs/${kpkg}_"*"_amd64.deb" 2>/dev/null | grep -F "_${kver//:/%3a}_" | head -1 || true)
if [ -z "$deb" ]; then
  log "downloading $kpkg $kver from the apt archive"
  (cd "$cache/debs" && apt-get download -q "$kpkg=$kver" >&2) || die "apt-get download $kpkg failed"
  deb=$(ls "$cache/debs/${kpkg}_"*"_amd64.deb" | head -1)
fi
mkdir -p "$work/kernel"
dpkg-deb --fsys-tarfile "$deb" | tar -x -C "$work/kernel" --wildcards './boot/vmlinuz-*' './lib/modules/*/kernel/drivers/virtio/*' \
  './lib/modules/*/kernel/drivers/block/virtio_blk.ko' './lib/modules/*/kernel/drivers/net/*' './lib/modules/*/kernel/drivers/char/hw_random/*' \
  './lib/modules/*/kernel/fs/*' './lib/modules/*/kernel/net/core/*' './lib/modules/*/kernel/lib/*' './lib/modules/*/kernel/crypto/*' 2>/dev/null || true
cp "$work/kernel"/boot/vmlinuz-* "$work/vmlinuz"
# Also the uncompressed ELF kernel: QEMU boots it through its PVH entry
# (CONFIG_PVH=y), which spares every guest the xz decompression (slow under TCG).
off=$(LC_ALL=C grep -obUa $'\xfd''7zXZ' "$work/vmlinuz" | head -1 | cut -d: -f1 || true)
if [ -n "$off" ]; then
  tail -c +$((off + 1)) "$work/vmlinuz" | xz -dcq 2>/dev/null >"$work/vmlinux" || true
  case "$(head -c 4 "$work/vmlinux" | od -An -c | tr -d ' ')" in *ELF*) ;; *) rm -f "$work/vmlinux" ;; esac
fi
moddir=$(ls -d "$work/kernel"/lib/modules/*)

# Load order: each module after its dependencies (modinfo's `depends`).
declare -A seen=()
order=()
add_module() {
  local name=$1 file dep
  [ -n "${seen[$name]:-}" ] && return 0
  seen[$name]=1
  file=$(find "$moddir" \( -name "$name.ko" -o -name "${name//_/-}.ko" -o -name "${name//-/_}.ko" \) | head -1)
  [ -n "$file" ] || die "module $name not found in $kpkg"
  for dep in $(modinfo -F depends "$file" | tr ',' ' '); do add_module "$dep"; done
  cp "$file" "$work/modules.tmp/$name.ko"
  order+=("$name")
}
mkdir -p "$work/modules.tmp"
for m in "${modules[@]}"; do add_module "$m"; done

# --- initramfs: busybox + modules + stage-1 init
ird="$work/initrd"
mkdir -p "$ird/bin" "$ird/modules"
cp /bin/busybox "$ird/bin/busybox"
cp "$work/modules.tmp"/*.ko "$ird/modules/"
printf '%s\n' "${order[@]}" >"$ird/modules/order"
install -m 755 "$here/init-stage1.sh" "$ird/init"
(cd "$ird" && find . -print0 | LC_ALL=C sort -z | cpio --null -o -H newc --quiet --reproducible 2>/dev/null || find . -print0 | LC_ALL=C sort -z | cpio --null -o -H newc --quiet) | gzip -6 >"$work/initrd.img"

# --- root disk
root="$work/root"
mkdir -p "$root"/{bin,sbin,etc/dropbear,usr/bin,usr/sbin,usr/lib64,usr/lib/x86_64-linux-gnu,proc,sys,dev,run,tmp,var,root,data,newroot}
ln -s usr/lib "$root/lib"
ln -s usr/lib64 "$root/lib64"
copy_lib() { # $1: a path as the loader names it; keeps that path (under /usr when merged)
  local p=$1 dst
  case "$p" in /lib/*|/lib64/*) dst="$root/usr$p" ;; *) dst="$root$p" ;; esac
  [ -e "$dst" ] && return 0
  mkdir -p "$(dirname "$dst")"
  cp -L "$p" "$dst"
}
for b in "${binaries[@]}"; do
  case "$b" in /bin/*) cp -L "$b" "$root/usr/bin/$(basename "$b")" ;; *) cp -L "$b" "$root$b" ;; esac
  while read -r lib; do copy_lib "$lib"; done < <(ldd "$b" | awk '/=> \//{print $3} /^[ \t]*\/[^ ]*ld-linux/{print $1}')
done
cp /bin/busybox "$root/bin/busybox"
for applet in $(/bin/busybox --list-full); do
  # Real Debian programs win over busybox applets; busybox fills the rest in /bin and /sbin.
  name=$(basename "$applet")
  [ -e "$root/usr/bin/$name" ] || [ -e "$root/usr/sbin/$name" ] && continue
  case "$applet" in sbin/*|usr/sbin/*) d=sbin ;; *) d=bin ;; esac
  [ -e "$root/$d/$name" ] || ln -s /bin/busybox "$root/$d/$name"
done
ln -sf /usr/bin/dash "$root/bin/sh"
ln -sf /usr/bin/bash "$root/bin/bash"
ln -sf /bin/busybox "$root/sbin/init"
install -m 755 "$here/rc.sh" "$root/etc/rc.expert"
install -m 644 "$here/inittab" "$root/etc/inittab"
printf 'root:x:0:0:root:/root:/bin/sh\n' >"$root/etc/passwd"
printf 'root:*:19000:0:99999:7:::\n' >"$root/etc/shadow"; chmod 600 "$root/etc/shadow"
printf 'root:x:0:\ntty:x:5:\n' >"$root/etc/group"
printf '/bin/sh\n/bin/bash\n/usr/bin/dash\n/usr/bin/bash\n' >"$root/etc/shells"
printf 'passwd: files\ngroup: files\nshadow: files\nhosts: files\n' >"$root/etc/nsswitch.conf"
printf '127.0.0.1 localhost\n' >"$root/etc/hosts"
# The tools are this Debian release's: say so (provenance and `cat /etc/os-release` in a guest).
[ -r /etc/os-release ] && cp -L /etc/os-release "$root/etc/os-release"
ln -s /proc/self/mounts "$root/etc/mtab"
dropbearkey -t ed25519 -f "$root/etc/dropbear/dropbear_ed25519_host_key" >/dev/null 2>&1
dropbearkey -y -f "$root/etc/dropbear/dropbear_ed25519_host_key" | awk '/^ssh-/{print $1, $2}' >"$work/dropbear_ed25519_host_key.pub"
size_kb=$(( $(du -sk "$root" | cut -f1) * 12 / 10 + 8192 ))
mke2fs -q -t ext2 -L expert-root -b 4096 -N 4096 -d "$root" -E root_owner=0:0 "$work/root.img" "${size_kb}k" >&2
chmod 755 "$work"

cat >"$work/manifest.json" <<JSON
{"hash": "$hash", "kernel": "$kpkg $kver", "packages": "$versions", "modules": "${order[*]}", "built_at": "$(date -u +%FT%TZ)"}
JSON
rm -rf "$work/kernel" "$work/modules.tmp" "$ird" "$root"
mv "$work" "$out"
trap - EXIT
# Keep this image and the one before it (a running testbed may still use it).
ls -1dt "$cache/guest"/*/ 2>/dev/null | tail -n +3 | xargs -r rm -rf
log "guest image ready: $out"
echo "$out"
