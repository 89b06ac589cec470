/**
 * Per-guest activity counters from /proc, read by one sh script per node:
 * CPU time (stat utime+stime, all threads), I/O bytes (/proc/PID/io) and
 * context switches (summed over /proc/PID/task/* /status). Two samples give
 * rates: for `identify: {top: ...}` and for dynamic policies' snapshots.
 */
import type { Executor } from '../batch/executor.js';

export interface GuestCounters {
  pid: number;
  /** utime + stime in clock ticks (the whole process). */
  cpuTicks: number;
  readBytes: number;
  writeBytes: number;
  rchar: number;
  wchar: number;
  ctxSwitches: number;
}

export interface CounterSample {
  at: number;
  /** Clock ticks per second on the node (getconf CLK_TCK, 100 when unknown). */
  ticksPerSecond: number;
  byPid: Map<number, GuestCounters>;
}

export function counterScript(pids: readonly number[]): string {
  return `LC_ALL=C; export LC_ALL
T=$(printf '\\t')
hz=$(getconf CLK_TCK 2>/dev/null) || hz=100
echo "H$T$hz"
for p in ${pids.map((p) => String(Math.trunc(p))).join(' ')}; do
  st=; read -r st 2>/dev/null < /proc/$p/stat || continue
  io=; rb=0; wb=0; rc=0; wc=0
  while read -r k v; do
    case $k in read_bytes:) rb=$v;; write_bytes:) wb=$v;; rchar:) rc=$v;; wchar:) wc=$v;; esac
  done 2>/dev/null < /proc/$p/io
  cs=0
  for s in /proc/$p/task/*/status; do
    while read -r k v; do
      case $k in voluntary_ctxt_switches:|nonvoluntary_ctxt_switches:) cs=$((cs + v));; esac
    done 2>/dev/null < "$s"
  done
  echo "S$T$p$T\${st##*) }$T$rb$T$wb$T$rc$T$wc$T$cs"
done
exit 0
`;
}

export function parseCounters(output: string, at: number): CounterSample {
  const byPid = new Map<number, GuestCounters>();
  let ticksPerSecond = 100;
  for (const line of output.split('\n')) {
    const f = line.split('\t');
    if (f[0] === 'H' && Number(f[1]) > 0) ticksPerSecond = Number(f[1]);
    if (f[0] !== 'S' || f.length < 8) continue;
    const stat = (f[2] ?? '').trim().split(/\s+/);
    // stat fields 14 and 15 (utime, stime) are indexes 11 and 12 after the comm.
    const cpuTicks = Number(stat[11]) + Number(stat[12]);
    byPid.set(Number(f[1]), { pid: Number(f[1]), cpuTicks, readBytes: Number(f[3]), writeBytes: Number(f[4]), rchar: Number(f[5]), wchar: Number(f[6]), ctxSwitches: Number(f[7]) });
  }
  return { at, ticksPerSecond, byPid };
}

export async function sampleCounters(executor: Executor, pids: readonly number[]): Promise<CounterSample> {
  const result = await executor.exec('sh -s', { stdin: counterScript(pids), timeoutMs: 30_000 });
  return parseCounters(result.stdout, Date.now());
}

export interface GuestRates {
  pid: number;
  /** Percent of one CPU (200 = two CPUs busy). */
  cpuPct: number;
  readBps: number;
  writeBps: number;
  /** read + write bytes/s at the block layer, or rchar+wchar when the block counters stay 0 (e.g. page-cache I/O). */
  ioBps: number;
  ctxSwitchesPerSec: number;
}

export function ratesBetween(first: CounterSample, second: CounterSample): Map<number, GuestRates> {
  const seconds = Math.max((second.at - first.at) / 1000, 1e-3);
  const rates = new Map<number, GuestRates>();
  for (const [pid, b] of second.byPid) {
    const a = first.byPid.get(pid);
    if (!a) continue;
    const readBps = Math.max(0, b.readBytes - a.readBytes) / seconds;
    const writeBps = Math.max(0, b.writeBytes - a.writeBytes) / seconds;
    const charBps = (Math.max(0, b.rchar - a.rchar) + Math.max(0, b.wchar - a.wchar)) / seconds;
    rates.set(pid, {
      pid,
      cpuPct: (100 * Math.max(0, b.cpuTicks - a.cpuTicks)) / second.ticksPerSecond / seconds,
      readBps,
      writeBps,
      ioBps: readBps + writeBps > 0 ? readBps + writeBps : charBps,
      ctxSwitchesPerSec: Math.max(0, b.ctxSwitches - a.ctxSwitches) / seconds,
    });
  }
  return rates;
}

/** I/O rate per guest PID over `windowMs`. */
export async function sampleIoRates(executor: Executor, pids: readonly number[], windowMs: number, signal?: AbortSignal): Promise<Map<number, number>> {
  const first = await sampleCounters(executor, pids);
  await new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, windowMs);
    signal?.addEventListener('abort', () => (clearTimeout(timer), resolve()), { once: true });
  });
  const second = await sampleCounters(executor, pids);
  return new Map([...ratesBetween(first, second)].map(([pid, r]) => [pid, r.ioBps]));
}
