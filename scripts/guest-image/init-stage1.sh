#!/bin/busybox sh
# Stage 1 (initramfs /init): load the virtio and ext4 modules, mount the
# shared read-only root disk (/dev/vda) and hand over to it. Kept tiny so the
# kernel unpacks it in no time even under TCG.
/bin/busybox mkdir -p /proc /sys /dev /newroot
/bin/busybox mount -t proc proc /proc
/bin/busybox mount -t sysfs sysfs /sys
/bin/busybox mount -t devtmpfs devtmpfs /dev
fail() { echo "EXPERT-BOOT-FAILED: $*" >/dev/console; exec /bin/busybox sh; }
for m in $(/bin/busybox cat /modules/order); do
  /bin/busybox insmod "/modules/$m.ko" || fail "insmod $m"
done
i=0
while [ ! -b /dev/vda ]; do
  i=$((i + 1)); [ $i -gt 500 ] && fail "no /dev/vda (root disk)"
  /bin/busybox usleep 10000
done
/bin/busybox mount -t ext4 -o ro /dev/vda /newroot || fail "mount root disk"
/bin/busybox mount --move /dev /newroot/dev
/bin/busybox umount /proc /sys
exec /bin/busybox switch_root /newroot /sbin/init
