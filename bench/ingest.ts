/**
 * Ingest benchmark: N realistic tool-output lines (~100 bytes: vmstat- and
 * iozone-like) from K concurrent simulated processes, cut by the batch
 * runner's LineSplitter and written through the store's LineWriter, exactly
 * the path a batch uses. Baseline in the same run: the same chunks, cut by the
 * same splitter, each line copied into a big buffer written to a plain file
 * (the cheapest durable sink there is).
 *
 *   npm run bench:ingest -- [--lines N] [--processes K] [--dir D] [--chunk BYTES]
 *
 * The last line printed is one JSON object with the figures.
 */
import { mulberry32 } from '../src/batch/plan/order.js';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, statSync, writeSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { LineSplitter } from '../src/batch/line-splitter.js';
import type { LineSink } from '../src/batch/executor.js';
import { openStore } from '../src/store/store.js';

const { values: args } = parseArgs({
  options: {
    lines: { type: 'string', default: '10000000' },
    processes: { type: 'string', default: '8' },
    dir: { type: 'string' },
    chunk: { type: 'string', default: '65536' },
    keep: { type: 'boolean', default: false },
    /** A DuckDB setting for the store, e.g. `--setting memory_limit=256MB` (repeatable). */
    setting: { type: 'string', multiple: true, default: [] },
  },
});
const totalLines = positiveInt(args.lines!, '--lines');
const processCount = positiveInt(args.processes!, '--processes');
const chunkBytes = positiveInt(args.chunk!, '--chunk');

function positiveInt(text: string, flag: string): number {
  const value = Number(text.replace(/_/g, ''));
  if (!Number.isInteger(value) || value <= 0) {
    console.error(`${flag} wants a positive integer, got ${JSON.stringify(text)}`);
    process.exit(2);
  }
  return value;
}

// ---------- realistic lines ----------

function pad(value: number | string, width: number): string {
  return String(value).padStart(width, ' ');
}

function vmstatLine(rand: () => number, second: number): string {
  const int = (max: number) => Math.floor(rand() * max);
  const us = int(60);
  const sy = int(30);
  const wa = int(10);
  const id = Math.max(0, 100 - us - sy - wa);
  const time = new Date(Date.UTC(2026, 0, 1, 0, 0, second)).toISOString().slice(0, 19).replace('T', ' ');
  return (
    `${pad(int(8), 2)} ${pad(int(3), 2)} ${pad(int(50000), 6)} ${pad(int(20000000), 8)} ${pad(int(900000), 6)} ` +
    `${pad(int(9000000), 8)} ${pad(int(50), 4)} ${pad(int(50), 4)} ${pad(int(90000), 5)} ${pad(int(90000), 5)} ` +
    `${pad(int(20000), 5)} ${pad(int(40000), 5)} ${pad(us, 2)} ${pad(sy, 2)} ${pad(id, 2)} ${pad(wa, 2)}  0 ${time}`
  );
}

function iozoneLine(rand: () => number): string {
  const kb = 1 << (6 + Math.floor(rand() * 14));
  const reclen = 1 << (2 + Math.floor(rand() * 12));
  const cell = () => pad(Math.floor(100000 + rand() * 9000000), 9);
  return `${pad(kb, 16)}${pad(reclen, 8)}${cell()}${cell()}${cell()}${cell()}${cell()}${cell()}${cell()}${cell()}`;
}

const POOL_LINES = 10_000;

/**
 * The output of one simulated process: a pool of ~1 MB of distinct lines,
 * pre-built (so generating them costs neither run), cut into chunks at
 * arbitrary byte offsets like a pipe delivers, replayed until the process has
 * printed its share. Only the pools stay in memory, not all N lines.
 */
interface SimulatedOutput {
  lines: number;
  bytes: number;
  /** Chunks of one full pool, and of the final partial pass. */
  pool: Buffer[];
  poolPasses: number;
  tail: Buffer[];
}

function cut(all: Buffer): Buffer[] {
  const chunks: Buffer[] = [];
  for (let offset = 0; offset < all.length; offset += chunkBytes) chunks.push(all.subarray(offset, offset + chunkBytes));
  return chunks;
}

function simulate(processIndex: number, lines: number): SimulatedOutput {
  const rand = mulberry32(1000 + processIndex);
  // Lines go straight into one Buffer: no big array of strings to linger in the heap.
  const make = (count: number, first: number) => {
    const text = Buffer.allocUnsafe(count * 160);
    let used = 0;
    for (let i = 0; i < count; i++) {
      const line = processIndex % 2 === 0 ? vmstatLine(rand, first + i) : iozoneLine(rand);
      used += text.write(line, used, 'latin1');
      text[used++] = 0x0a;
    }
    return Buffer.from(text.subarray(0, used));
  };
  const poolLines = Math.min(POOL_LINES, lines);
  const poolText = make(poolLines, 0);
  const poolPasses = Math.floor(lines / poolLines);
  const tailText = make(lines - poolPasses * poolLines, poolLines);
  return {
    lines,
    bytes: poolText.length * poolPasses + tailText.length,
    pool: cut(poolText),
    poolPasses,
    tail: cut(tailText),
  };
}

function* chunksOf(output: SimulatedOutput): Generator<Buffer, void, undefined> {
  for (let pass = 0; pass < output.poolPasses; pass++) for (const chunk of output.pool) yield chunk;
  for (const chunk of output.tail) yield chunk;
}

// ---------- measurement helpers ----------

let peakRss = 0;
function sampleRss(): void {
  peakRss = Math.max(peakRss, process.memoryUsage.rss());
}
/** The kernel's high-water mark of resident memory (catches peaks between samples). */
function vmHwmBytes(): number | undefined {
  try {
    const match = /VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'));
    return match ? Number(match[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Feeds every process's chunks, round-robin one chunk per process per turn,
 * yielding to the event loop between turns (so timers such as the writer's
 * flush run, as they would while real pipes deliver data).
 */
async function feed(outputs: SimulatedOutput[], sinkFor: (processIndex: number) => LineSink): Promise<void> {
  const splitters = outputs.map((_, i) => new LineSplitter(i % 3 === 2 ? 'stderr' : 'stdout', sinkFor(i)));
  const sources = outputs.map(chunksOf);
  let live = sources.length;
  const done = sources.map(() => false);
  for (let turn = 0; live > 0; turn++) {
    for (let p = 0; p < sources.length; p++) {
      if (done[p]) continue;
      const next = sources[p]!.next();
      if (next.done) {
        done[p] = true;
        live--;
      } else {
        splitters[p]!.push(next.value);
      }
    }
    if (turn % 4 === 3) {
      sampleRss();
      await new Promise((resolve) => setImmediate(resolve));
    }
  }
  for (const splitter of splitters) splitter.end();
}

// ---------- the runs ----------

async function main(): Promise<void> {
  const dir = args.dir ?? mkdtempSync(join(tmpdir(), 'expert-bench-ingest-'));
  const perProcess = Math.ceil(totalLines / processCount);
  console.log(`building ${totalLines.toLocaleString()} lines from ${processCount} processes...`);
  const outputs = Array.from({ length: processCount }, (_, p) =>
    simulate(p, Math.max(0, Math.min(perProcess, totalLines - p * perProcess))),
  ).filter((o) => o.lines > 0);
  const totalBytes = outputs.reduce((sum, o) => sum + o.bytes, 0);
  const lines = outputs.reduce((sum, o) => sum + o.lines, 0);
  global.gc?.();
  const rssBefore = process.memoryUsage.rss();
  console.log(`input: ${(totalBytes / 1e6).toFixed(0)} MB, ${(totalBytes / lines).toFixed(0)} bytes/line; RSS before ingest (line pools built) ${(rssBefore / 1e6).toFixed(0)} MB`);

  // Store path: the same LineSplitter -> LineWriter as a batch.
  const storePath = join(dir, 'bench.duckdb');
  rmSync(storePath, { force: true });
  rmSync(`${storePath}.wal`, { force: true });
  const settings = Object.fromEntries(
    args.setting!.map((pair) => {
      const at = pair.indexOf('=');
      return [pair.slice(0, at), pair.slice(at + 1)];
    }),
  );
  const store = await openStore(storePath, { settings });
  const batchId = await store.createBatch({ name: 'bench-ingest', config: { lines, processCount }, provenance: {} });
  const processIds: number[] = [];
  for (let p = 0; p < processCount; p++) {
    processIds.push(await store.createProcess({ batchId, label: `p${p}`, host: 'local', role: 'workload', command: 'bench' }));
  }
  const rssSampler = setInterval(sampleRss, 50);
  const storeStart = performance.now();
  const storeCpu = process.cpuUsage();
  const writer = store.lineWriter();
  let mark = { at: performance.now(), count: 0, cpu: process.cpuUsage() };
  const progress = setInterval(() => {
    const now = performance.now();
    const cpu = process.cpuUsage(mark.cpu);
    const rate = ((writer.count - mark.count) / (now - mark.at)) * 1000;
    const perCpu = (writer.count - mark.count) / ((cpu.user + cpu.system) / 1e6);
    if (process.env.BENCH_PROGRESS) {
      console.log(`  ${fmt(writer.count)} lines, ${fmt(rate)} lines/s, ${fmt(perCpu)} lines/CPU-s, RSS ${(process.memoryUsage.rss() / 1e6).toFixed(0)} MB`);
    }
    mark = { at: now, count: writer.count, cpu: process.cpuUsage() };
  }, 1000);
  await feed(outputs, (p) => {
    const id = processIds[p]!;
    return (line) => writer.append(id, line);
  });
  clearInterval(progress);
  await writer.close();
  const storeSeconds = (performance.now() - storeStart) / 1000;
  const storeCpuUsage = process.cpuUsage(storeCpu);
  const storeCpuSeconds = (storeCpuUsage.user + storeCpuUsage.system) / 1e6;
  clearInterval(rssSampler);
  sampleRss();
  const storePeakRss = Math.max(peakRss, vmHwmBytes() ?? 0);
  const check = await store.query('SELECT count(*), count(DISTINCT process_id), max(seq) FROM line');
  if (process.env.BENCH_PROGRESS) {
    const memory = await store.query(`SELECT tag, memory_usage_bytes // 1000000 AS mb FROM duckdb_memory() WHERE memory_usage_bytes > 0`);
    console.log(`  DuckDB memory: ${memory.rows.map(([tag, mb]) => `${tag} ${mb} MB`).join(', ')}`);
  }
  await store.close();
  const [storedLines] = check.rows[0] as [number, number, number];
  if (storedLines !== lines) throw new Error(`store holds ${storedLines} lines, expected ${lines}`);
  const storeFileBytes = statSync(storePath).size;

  // Baseline: the same chunks and splitter; each line copied into a 1 MiB buffer written to a plain file.
  const baselinePath = join(dir, 'baseline.txt');
  const fd = openSync(baselinePath, 'w');
  const buffer = Buffer.allocUnsafe(1 << 20);
  let used = 0;
  let baselineLines = 0;
  const writeLine: LineSink = (line) => {
    const need = line.bytes.length + 1;
    if (used + need > buffer.length) {
      writeSync(fd, buffer, 0, used);
      used = 0;
      if (need > buffer.length) {
        writeSync(fd, line.bytes);
        writeSync(fd, '\n');
        baselineLines++;
        return;
      }
    }
    used += line.bytes.copy(buffer, used);
    buffer[used++] = 0x0a;
    baselineLines++;
  };
  const baselineStart = performance.now();
  const baselineCpu = process.cpuUsage();
  await feed(outputs, () => writeLine);
  if (used > 0) writeSync(fd, buffer, 0, used);
  closeSync(fd);
  const baselineSeconds = (performance.now() - baselineStart) / 1000;
  const baselineCpuUsage = process.cpuUsage(baselineCpu);
  const baselineCpuSeconds = (baselineCpuUsage.user + baselineCpuUsage.system) / 1e6;
  if (baselineLines !== lines) throw new Error(`baseline wrote ${baselineLines} lines, expected ${lines}`);

  if (!args.keep && !args.dir) rmSync(dir, { recursive: true, force: true });

  const linesPerSecond = lines / storeSeconds;
  const baselineLinesPerSecond = lines / baselineSeconds;
  const result = {
    lines,
    processes: processCount,
    bytes: totalBytes,
    seconds: round(storeSeconds, 3),
    lines_per_s: Math.round(linesPerSecond),
    mb_per_s: round(totalBytes / 1e6 / storeSeconds, 1),
    baseline_seconds: round(baselineSeconds, 3),
    baseline_lines_per_s: Math.round(baselineLinesPerSecond),
    baseline_mb_per_s: round(totalBytes / 1e6 / baselineSeconds, 1),
    ratio: round(linesPerSecond / baselineLinesPerSecond, 3),
    peak_rss_mb: Math.round(storePeakRss / 1e6),
    // CPU seconds of this process (all threads): steadier than wall time on a shared machine.
    cpu_seconds: round(storeCpuSeconds, 3),
    lines_per_cpu_s: Math.round(lines / storeCpuSeconds),
    baseline_cpu_seconds: round(baselineCpuSeconds, 3),
    cpu_ratio: round(baselineCpuSeconds / storeCpuSeconds, 3),
    load_average_1m: round(loadavg()[0]!, 2),
    cores: availableParallelism(),
    input_rss_mb: Math.round(rssBefore / 1e6),
    store_file_mb: Math.round(storeFileBytes / 1e6),
    targets: { lines_per_s: 1_500_000, ratio: 0.25, peak_rss_mb: 400 },
  };
  console.log(`store:    ${fmt(linesPerSecond)} lines/s, ${result.mb_per_s} MB/s (${result.seconds} s), file ${result.store_file_mb} MB`);
  console.log(`baseline: ${fmt(baselineLinesPerSecond)} lines/s, ${result.baseline_mb_per_s} MB/s (${result.baseline_seconds} s)`);
  console.log(`CPU:      store ${result.cpu_seconds} s (${fmt(result.lines_per_cpu_s)} lines per CPU-second), baseline ${result.baseline_cpu_seconds} s; load average ${result.load_average_1m} on ${result.cores} cores`);
  console.log(`ratio ${result.ratio}; peak RSS ${result.peak_rss_mb} MB (${result.input_rss_mb} MB before ingest)`);
  console.log(JSON.stringify(result));
}

function round(value: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}
function fmt(value: number): string {
  return Math.round(value).toLocaleString('en-US');
}

await main();
