/**
 * The discovery script: ONE POSIX sh script per node, reading /proc and /sys
 * only (plus `od`/`tr`/`grep`, which busybox has), so it runs on any node a
 * user can log into. It prints tab-separated records; parsing is pure TS
 * (discover-parse.ts) so it can be tested on captured output.
 *
 * Records:
 *   K <kernel release>
 *   X <tool> <0|1>                      whether taskset/renice/ionice/chrt/virsh are on PATH
 *   C <cpu> <socket> <core>             one per online CPU
 *   L <cpu> <level> <type> <shared_cpu_list>
 *   P <pid> <cmdline as hex>            a QEMU candidate (TS checks argv[0])
 *   T <pid> <tid> <Cpus_allowed_list> <stat after the last ') '> <comm>
 *   V <pid> <Cpus_allowed_list> <stat after the last ') '> <comm>    a `vhost-<pid>` kernel thread
 *   N <pid> <libvirt domain name as hex>  from /run/libvirt/qemu/<name>.pid
 *   D <pid> <status XML extract as hex>    libvirt's <uuid>, <vcpu id pid> and live <cputune> lines
 *   M <v1|v2> <mount point>                the cgroup v1 cpuset hierarchy / the cgroup v2 hierarchy
 *   G <pid> <tid> <v1|v2> <cgroup path> <effective CPUs of its cpuset, or empty>
 */
export const DISCOVERY_SCRIPT = `
LC_ALL=C; export LC_ALL
T=$(printf '\\t')
hex() { od -An -v -tx1 | tr -d ' \\n'; }
r=; read r 2>/dev/null < /proc/sys/kernel/osrelease
echo "K$T$r"
for tool in taskset renice ionice chrt virsh; do
  if command -v "$tool" >/dev/null 2>&1; then echo "X$T$tool\${T}1"; else echo "X$T$tool\${T}0"; fi
done
for c in /sys/devices/system/cpu/cpu[0-9]*; do
  [ -d "$c" ] || continue
  n=\${c##*/cpu}
  o=1; [ -r "$c/online" ] && read o < "$c/online"
  [ "$o" = 0 ] && continue
  s=0; k=$n
  [ -r "$c/topology/physical_package_id" ] && read s < "$c/topology/physical_package_id"
  [ -r "$c/topology/core_id" ] && read k < "$c/topology/core_id"
  echo "C$T$n$T$s$T$k"
  for x in "$c"/cache/index[0-9]*; do
    [ -r "$x/shared_cpu_list" ] || continue
    l=; t=; sh=
    read l < "$x/level"; read t < "$x/type"; read sh < "$x/shared_cpu_list"
    echo "L$T$n$T$l$T$t$T$sh"
  done
done
# cgroups: the v1 cpuset hierarchy when there is one (hybrid hosts), else v2.
V1=; V2=
while read -r dev mnt fstype opts rest; do
  case $fstype in
    cgroup) case ,$opts, in *,cpuset,*) V1=$mnt; echo "M\${T}v1$T$mnt";; esac ;;
    cgroup2) [ -z "$V2" ] && { V2=$mnt; echo "M\${T}v2$T$mnt"; } ;;
  esac
done < /proc/self/mounts
# cgroup_of TASKDIR: sets cgv (v1|v2), cgp (path) and cga (effective CPUs, empty when unknown)
cgroup_of() {
  cgv=; cgp=; cga=; v2p=
  while IFS= read -r l; do
    r=\${l#*:}; ctl=\${r%%:*}; path=\${r#*:}
    case ,$ctl, in
      *,cpuset,*) [ -n "$V1" ] && { cgv=v1; cgp=$path; } ;;
      ,,) v2p=$path ;;
    esac
  done < "$1/cgroup"
  if [ -z "$cgv" ] && [ -n "$V2" ] && [ -n "$v2p" ]; then cgv=v2; cgp=$v2p; fi
  [ -n "$cgv" ] || return 0
  if [ "$cgv" = v1 ]; then
    read -r cga 2>/dev/null < "$V1$cgp/cpuset.effective_cpus" || read -r cga 2>/dev/null < "$V1$cgp/cpuset.cpus" || cga=
  else
    # v2: the nearest cgroup up the tree with the cpuset controller says it.
    q=$cgp
    while :; do
      if [ -r "$V2$q/cpuset.cpus.effective" ]; then read -r cga < "$V2$q/cpuset.cpus.effective"; break; fi
      [ -z "$q" ] || [ "$q" = / ] && break
      q=\${q%/*}
    done
  fi
}
status_cpus() {
  cpus=
  while IFS= read -r line; do
    case $line in Cpus_allowed_list:*) cpus=\${line#Cpus_allowed_list:};; esac
  done < "$1/status"
  set -- $cpus
  cpus=$1
}
emit_threads() {
  for t in /proc/$1/task/[0-9]*; do
    tid=\${t##*/}
    c=; st=
    read -r c 2>/dev/null < "$t/comm" || continue
    read -r st 2>/dev/null < "$t/stat" || continue
    status_cpus "$t" 2>/dev/null || continue
    echo "T$T$1$T$tid$T$cpus$T\${st##*) }$T$c"
    cgroup_of "$t" 2>/dev/null && [ -n "$cgv" ] && echo "G$T$1$T$tid$T$cgv$T$cgp$T$cga"
  done
}
cands=
for d in /proc/[0-9]*; do
  p=\${d##*/}
  c=; read -r c 2>/dev/null < "$d/comm" || continue
  case $c in
    qemu-*|*qemu*|kvm) cands="$cands $p" ;;
    vhost-[0-9]*)
      st=; read -r st 2>/dev/null < "$d/stat" || continue
      status_cpus "$d" 2>/dev/null || continue
      echo "V$T$p$T$cpus$T\${st##*) }$T$c" ;;
  esac
done
# Processes renamed with -name ...,process=X keep qemu in their command line.
for f in $(grep -l qemu /proc/[0-9]*/cmdline 2>/dev/null); do
  p=\${f#/proc/}; p=\${p%/cmdline}
  case " $cands " in *" $p "*) ;; *) cands="$cands $p" ;; esac
done
for p in $cands; do
  [ "$p" = "$$" ] && continue
  a=$({ hex < /proc/$p/cmdline; } 2>/dev/null) || continue
  [ -n "$a" ] || continue
  echo "P$T$p$T$a"
  emit_threads "$p"
done
for f in /run/libvirt/qemu/*.pid; do
  [ -r "$f" ] || continue
  p=; read p < "$f"
  n=\${f##*/}; n=\${n%.pid}
  echo "N$T$p$T$(printf %s "$n" | hex)"
  x=\${f%.pid}.xml
  [ -r "$x" ] && echo "D$T$p$T$(sed -n -e '/<uuid>/p' -e '/<vcpu id=/p' -e '/<cputune>/,/<\\/cputune>/p' "$x" | hex)"
done
exit 0
`;
