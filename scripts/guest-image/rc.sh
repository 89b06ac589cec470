#!/bin/sh
# Stage 2 (busybox init's sysinit): the root disk is read-only and shared by
# every guest, so everything a guest writes lives in tmpfs or on its own data
# disk (/dev/vdb, formatted by the host), which /tmp points at so workloads'
# files go through virtio-blk.
PATH=/usr/sbin:/usr/bin:/sbin:/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mkdir -p /dev/pts /dev/shm
mount -t devpts -o gid=5,mode=620 devpts /dev/pts
mount -t tmpfs -o mode=1777 tmpfs /dev/shm
mount -t tmpfs -o mode=755 tmpfs /run
mount -t tmpfs -o mode=700 tmpfs /root
mount -t tmpfs -o mode=755 tmpfs /var
mkdir -p /var/log /var/tmp /var/run /run/dropbear
hostname "$(sed -n 's/.*expert\.hostname=\([^ ]*\).*/\1/p' /proc/cmdline)"
if [ -b /dev/vdb ] && mount -t ext4 -o noatime /dev/vdb /data; then
  mkdir -p /data/tmp && chmod 1777 /data/tmp && mount --bind /data/tmp /tmp
else
  echo "EXPERT-WARNING: no data disk, /tmp is tmpfs" >/dev/console
  mount -t tmpfs -o mode=1777 tmpfs /tmp
fi
# The testbed's public key comes on the kernel command line (expert.key=TYPE:BASE64),
# so one cached image serves every testbed, each with its own key.
mkdir -p /root/.ssh && chmod 700 /root/.ssh
sed -n 's/.*expert\.key=\([^ :]*\):\([^ ]*\).*/\1 \2 expert-testbed/p' /proc/cmdline >/root/.ssh/authorized_keys
chmod 600 /root/.ssh/authorized_keys
ip link set lo up
ip link set eth0 up
ip addr add 10.0.2.15/24 dev eth0
ip route add default via 10.0.2.2
