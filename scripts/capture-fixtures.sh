#!/usr/bin/env bash
# Captures tool output fixtures for the Mine parsers from the REAL tools installed
# on this machine (never typed by hand). Each fixture is three files under
# tests/fixtures/<tool>/: <variant>.cmd (the command), <variant>.stdout and
# <variant>.stderr (exact bytes). Re-run to refresh; tests read whatever is here
# and check parsed values against numbers read off the raw text.
#
# Monitors run under LC_ALL=C as in a batch; a 12-hour-clock variant is captured
# with LC_TIME=en_US.UTF-8, compiled into a private LOCPATH when the system does
# not have that locale (needs localedef and /usr/share/i18n/locales/en_US).
set -euo pipefail
cd "$(dirname "$0")/.."
out=tests/fixtures
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

export LC_ALL=C
# Optional arguments: only these tools or tool/variant pairs
# (e.g. `scripts/capture-fixtures.sh perf-stat dd` or `scripts/capture-fixtures.sh vmstat/no-first`).
only=" $* "

# capture <tool> <variant> <command...>: runs the command in $work, keeps its stdout/stderr.
capture() {
  local tool=$1 variant=$2; shift 2
  [ "$only" = "  " ] || [[ "$only" == *" $tool "* || "$only" == *" $tool/$variant "* ]] || return 0
  mkdir -p "$out/$tool"
  printf '%s\n' "$*" > "$out/$tool/$variant.cmd"
  (cd "$work" && env "$@") > "$out/$tool/$variant.stdout" 2> "$out/$tool/$variant.stderr" || true
  echo "captured $tool/$variant ($(wc -l < "$out/$tool/$variant.stdout") stdout, $(wc -l < "$out/$tool/$variant.stderr") stderr lines)"
}

# A 12-hour locale for the time-format variants.
twelve=()
if locale -a 2>/dev/null | grep -qi '^en_US\.utf-\?8$'; then
  twelve=(LC_ALL= LC_TIME=en_US.UTF-8)
elif command -v localedef >/dev/null && [ -f /usr/share/i18n/locales/en_US ]; then
  mkdir -p "$work/locale"
  localedef -i en_US -f UTF-8 "$work/locale/en_US.UTF-8" 2>/dev/null || true
  if [ -d "$work/locale/en_US.UTF-8" ]; then
    twelve=(LOCPATH="$work/locale" LC_ALL= LC_TIME=en_US.UTF-8)
  fi
fi
[ ${#twelve[@]} -gt 0 ] || echo "no en_US.UTF-8 locale and cannot build one: 12-hour variants skipped" >&2

# ---- vmstat (procps) ----
capture vmstat plain vmstat 1 4
capture vmstat timestamped vmstat -n -t 1 4
capture vmstat wide vmstat -w -t 1 3
# Without a terminal vmstat repeats its two header lines after every 21 rows: 22 samples show it once.
capture vmstat header-repeat vmstat 1 22
# -y leaves out the since-boot first row: every row is an interval.
capture vmstat no-first vmstat -y 1 3

# ---- iozone ----
capture iozone auto-read-write iozone -a -n 64k -g 128k -i 0 -i 1 -f io.tmp
capture iozone auto-all iozone -a -n 64k -g 64k -y 16k -q 64k -f io.tmp
capture iozone auto-gaps iozone -a -n 64k -g 64k -y 32k -q 64k -i 0 -i 2 -f io.tmp
capture iozone report iozone -a -R -n 64k -g 128k -y 32k -q 64k -i 0 -i 1 -f io.tmp
capture iozone throughput iozone -t 2 -s 512k -r 64k -i 0 -i 1 -F t1.tmp t2.tmp

# ---- fio ----
fio_job=(--name=randrw --rw=randrw --size=4m --bs=4k --filename=fio.tmp --runtime=2 --ioengine=psync)
capture fio json fio "${fio_job[@]}" --output-format=json
capture fio json-two-jobs fio --name=seqw --rw=write --size=2m --bs=64k --filename=fio1.tmp --name=seqr --rw=read --size=2m --bs=64k --filename=fio2.tmp --output-format=json
capture fio terse fio "${fio_job[@]}" --output-format=terse --terse-version=3
capture fio terse-two-jobs fio --name=seqw --rw=write --size=2m --bs=64k --filename=fio1.tmp --name=seqr --rw=read --size=2m --bs=64k --filename=fio2.tmp --output-format=terse --terse-version=3
capture fio normal fio "${fio_job[@]}"
capture fio normal-write fio --name=seqw --rw=write --size=2m --bs=64k --filename=fio1.tmp

# ---- sysstat: sar / sadf ----
(cd "$work" && sar -o sa.data 1 3 >/dev/null 2>&1) || true
capture sar cpu sar -u 1 3
capture sar cswch sar -w 1 3
capture sar disk sar -d 1 2
# Interval 0: one report of averages since boot.
capture sar since-boot sar -u 0
capture sadf json-cpu sadf -j sa.data -- -u
capture sadf json-disk sadf -j sa.data -- -d
capture sadf json-cswch sadf -j sa.data -- -w
capture sadf db-cpu sadf -d sa.data -- -u
capture sadf db-disk sadf -d sa.data -- -d
capture sadf db-cswch sadf -d sa.data -- -w
[ ${#twelve[@]} -gt 0 ] && capture sar cpu-12h "${twelve[@]}" sar -u 1 2

# ---- iostat / mpstat / pidstat ----
capture iostat extended iostat -x 1 2
capture iostat extended-timed iostat -x -t 1 2
# -y leaves out the since-boot first report.
capture iostat no-first iostat -y -x 1 2
[ ${#twelve[@]} -gt 0 ] && capture iostat extended-timed-12h "${twelve[@]}" iostat -x -t 1 2
capture mpstat all mpstat -P ALL 1 2
# No interval: one report of averages since boot.
capture mpstat since-boot mpstat -P ALL
[ ${#twelve[@]} -gt 0 ] && capture mpstat all-12h "${twelve[@]}" mpstat -P ALL 1 2
capture pidstat cpu pidstat -u 1 2
# No interval: one report of averages since each task started.
capture pidstat since-boot pidstat -u
capture pidstat disk pidstat -d 1 2
# -d with a writer running, so there are rows (dd's own messages are dropped)
capture pidstat disk-busy sh -c 'dd if=/dev/zero of=pd.tmp bs=1M count=200 oflag=direct 2>/dev/null & pidstat -d 1 2; wait'
capture pidstat switches pidstat -w 1 2
capture pidstat threads pidstat -t -u 1 1
[ ${#twelve[@]} -gt 0 ] && capture pidstat cpu-12h "${twelve[@]}" pidstat -u 1 2

# ---- perf stat -x, (hardware events are honestly <not supported> in a VM) ----
events=context-switches,cpu-migrations,page-faults,task-clock,cache-misses,cycles
capture perf-stat once perf stat -x, -e $events -- dd if=/dev/zero of=/dev/null bs=64k count=20000
capture perf-stat interval perf stat -x, -I 500 -e $events -- sleep 2
# --per-thread on a busy process (yes), so the counts are real: prefixes are "<comm>-<tid>".
capture perf-stat per-thread sh -c 'yes > /dev/null & p=$!; perf stat -x, --per-thread -e context-switches,task-clock,page-faults -p $p -- sleep 1; kill $p'
capture perf-stat interval-per-thread sh -c 'yes > /dev/null & p=$!; perf stat -x, -I 300 --per-thread -e context-switches,task-clock -p $p -- sleep 1; kill $p'
capture perf-stat interval-per-cpu perf stat -x, -I 500 -a -A -e context-switches,cpu-migrations -- sleep 1
capture perf-stat per-core perf stat -x, --per-core -a -e context-switches,cpu-migrations -- sleep 0.5
capture perf-stat interval-per-socket perf stat -x, -I 250 --per-socket -a -e context-switches,cache-misses -- sleep 0.6

# ---- dd (prints its summary on stderr) ----
capture dd write dd if=/dev/zero of=dd.tmp bs=1M count=16 conv=fsync
capture dd read dd if=dd.tmp of=/dev/null bs=64k
capture dd small dd if=/dev/zero of=/dev/null bs=1 count=100
