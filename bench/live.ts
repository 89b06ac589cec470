/**
 * Live benchmark (`npm run bench:live`): a batch that `expert run` writes,
 * read from this (another) process through the writer's live socket.
 *
 * - visible_ms: a workload (local: a shell loop) prints its own clock
 *   (`date +%s%3N`) every 200 ms; this process polls the last line through
 *   openStore() (a LiveStore) every 20 ms; the delay is "seen here" minus
 *   "printed there". Target: median ≤ 1000 ms.
 * - dashboard_ms: the same batch (and the loaded ingest runs) run with vmstat and `--dashboard`; this process listens
 *   to /events like the page does and takes, for each new vmstat point, the
 *   time it arrives here minus the time its line arrived at the writer
 *   (line.ts). Target: median ≤ 2000 ms.
 * - ingest_ratio_with_reader: lines per second that `expert run` stores from
 *   a workload printing as fast as it can (`seq 1 N`), with a reader querying
 *   every 100 ms and the dashboard open (SSE), over the same without them:
 *   runs alternate (baseline, loaded, baseline, ...) in the same benchmark
 *   run and the medians are compared. Target: ≥ 0.9.
 *
 *   npm run bench:live -- [--lines N] [--rounds R] [--samples S]
 *
 * The last line is one JSON object: visible_ms_p50, visible_ms_p95, dashboard_ms_p50,
 * ingest_ratio_with_reader, and the rates it came from.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { LiveWriterGoneError } from '../src/live/client.js';
import { openStore } from '../src/store/store.js';

const { values: args } = parseArgs({
  options: { lines: { type: 'string', default: '1000000' }, rounds: { type: 'string', default: '5' }, samples: { type: 'string', default: '40' } },
});
const LINES = Number(args.lines);
const ROUNDS = Number(args.rounds);
const SAMPLES = Number(args.samples);
const CLI = resolve(import.meta.dirname, '..', 'src', 'cli', 'main.js');
const dir = mkdtempSync(join(tmpdir(), 'expert-bench-live-'));
const children = new Set<ChildProcess>();

function quantile(values: number[], q: number): number {
  const s = [...values].sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  const at = (s.length - 1) * q;
  const lo = Math.floor(at);
  return s[lo]! + (s[Math.ceil(at)]! - s[lo]!) * (at - lo);
}

function batch(name: string, command: string, monitors = true): string {
  const file = join(dir, `${name}.yaml`);
  writeFileSync(
    file,
    `name: ${name}
machines: {nodes: [{name: local, host: local}]}
${monitors ? 'monitors:\n  - {name: vmstat, on: nodes, command: vmstat -n 1}\n' : ''}tests:
  - name: ${name}
    on: nodes
    command: ${JSON.stringify(command)}
`,
  );
  return file;
}

/** Starts `expert run`; resolves once its store is served (socket there) and, with --dashboard, with the dashboard URL. */
async function startRun(config: string, store: string, extra: string[] = []): Promise<{ child: ChildProcess; done: Promise<number | null>; url: string | undefined }> {
  const child = spawn(process.execPath, [CLI, 'run', config, '--store', store, ...extra], { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
  children.add(child);
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const done = new Promise<number | null>((r) => child.on('close', (code) => (children.delete(child), r(code))));
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    const url = /dashboard: (\S+)/.exec(stderr)?.[1];
    if (existsSync(`${store}.sock`) && (!extra.includes('--dashboard') || url)) return { child, done, url };
    if (child.exitCode !== null) break;
    await delay(20);
  }
  throw new Error(`expert run did not start serving: ${stderr}`);
}

/** Print-to-query delays, and (the same batch runs with vmstat and --dashboard) line-to-dashboard delays. */
async function visibleDelays(): Promise<{ delays: number[]; dashboard: number[] }> {
  const store = join(dir, 'visible.duckdb');
  const run = await startRun(batch('visible', `for i in $(seq 1 ${SAMPLES + 10}); do date +%s%3N; sleep 0.2; done`), store, ['--dashboard']);
  const sse = listen(run.url!);
  const live = await openStore(store);
  const delays: number[] = [];
  let lastSeq = -1;
  try {
    while (run.child.exitCode === null && delays.length < SAMPLES) {
      let rows: unknown[][];
      try {
        // Every line that became visible since the last poll (a flush may bring several): each has its own delay.
        ({ rows } = await live.query(
          `SELECT l.seq, l.text FROM line l JOIN process p USING (process_id) WHERE p.role = 'workload' AND l.seq > $1 ORDER BY l.seq`,
          [lastSeq],
        ));
      } catch (error) {
        if (error instanceof LiveWriterGoneError) break; // the batch ended
        throw error;
      }
      const now = Date.now();
      for (const [seq, text] of rows) {
        lastSeq = Number(seq);
        if (delays.length < SAMPLES) delays.push(now - Number(text));
      }
      await delay(20);
    }
  } finally {
    await live.close().catch(() => undefined);
  }
  await run.done;
  sse.stop();
  return { delays, dashboard: sse.delays };
}

/** Listens to /events like the page; returns its delays and a way to stop. */
function listen(url: string): { delays: number[]; stop(): void } {
  const delays: number[] = [];
  const controller = new AbortController();
  void (async () => {
    const events = new URL('/events', url);
    events.search = new URL(url).search;
    const response = await fetch(events, { signal: controller.signal });
    const decoder = new TextDecoder();
    let pending = '';
    for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
      pending += decoder.decode(chunk, { stream: true });
      let end: number;
      while ((end = pending.indexOf('\n\n')) >= 0) {
        const message = pending.slice(0, end);
        pending = pending.slice(end + 2);
        if (!message.startsWith('event: update')) continue;
        const data = JSON.parse(message.slice(message.indexOf('data: ') + 6)) as { points: Array<[string, number, number]> };
        const now = Date.now();
        const seen = new Set<number>();
        for (const [key, t] of data.points) if (key.endsWith('|vmstat_cs') && !seen.has(t)) (seen.add(t), delays.push(now - t));
      }
    }
  })().catch(() => undefined);
  return { delays, stop: () => controller.abort() };
}

/** Lines per second stored from `seq 1 LINES` (first to last line's arrival at the writer). */
async function ingestRate(round: number, loaded: boolean): Promise<{ rate: number; dashboardDelays: number[] }> {
  const store = join(dir, `ingest-${round}-${loaded ? 'loaded' : 'base'}.duckdb`);
  const run = await startRun(batch(`ingest${round}${loaded ? 'l' : 'b'}`, `sleep 1; seq 1 ${LINES}; sleep 2`), store, loaded ? ['--dashboard'] : []);
  let reader: Promise<void> | undefined;
  let sse: ReturnType<typeof listen> | undefined;
  if (loaded) {
    sse = listen(run.url!);
    reader = (async () => {
      const live = await openStore(store);
      try {
        while (run.child.exitCode === null) {
          await live.query('SELECT count(*) FROM line').catch(() => undefined);
          await delay(100);
        }
      } finally {
        await live.close().catch(() => undefined);
      }
    })();
  }
  await run.done;
  sse?.stop();
  await reader;
  const s = await openStore(store, { readOnly: true });
  try {
    const { rows } = await s.query(
      `SELECT count(*), epoch_us(max(l.ts)) - epoch_us(min(l.ts)) FROM line l JOIN process p USING (process_id) WHERE p.role = 'workload'`,
    );
    const [n, us] = rows[0] as [number, number];
    if (n !== LINES) throw new Error(`round ${round}: ${n} of ${LINES} lines stored`);
    return { rate: n / (Number(us) / 1e6), dashboardDelays: sse?.delays ?? [] };
  } finally {
    await s.close();
  }
}

try {
  const { delays: visible, dashboard: firstDashboard } = await visibleDelays();
  console.log(`visible to a query from another process: median ${quantile(visible, 0.5).toFixed(0)} ms, p95 ${quantile(visible, 0.95).toFixed(0)} ms (${visible.length} lines)`);
  const base: number[] = [];
  const loaded: number[] = [];
  const dashboard: number[] = [...firstDashboard];
  for (let round = 0; round < ROUNDS; round++) {
    base.push((await ingestRate(round, false)).rate);
    const r = await ingestRate(round, true);
    loaded.push(r.rate);
    dashboard.push(...r.dashboardDelays);
    console.log(`round ${round + 1}: ${base.at(-1)!.toFixed(0)} lines/s alone, ${r.rate.toFixed(0)} lines/s with a reader every 100 ms and the dashboard open`);
  }
  const ratio = quantile(loaded, 0.5) / quantile(base, 0.5);
  console.log(`on the dashboard: median ${quantile(dashboard, 0.5).toFixed(0)} ms after the line arrived (${dashboard.length} points)`);
  console.log(`ingest with reader and dashboard / without: ${ratio.toFixed(3)} (target ≥ 0.9)`);
  console.log(
    JSON.stringify({
      visible_ms_p50: Math.round(quantile(visible, 0.5)),
      visible_ms_p95: Math.round(quantile(visible, 0.95)),
      dashboard_ms_p50: Math.round(quantile(dashboard, 0.5)),
      ingest_ratio_with_reader: Number(ratio.toFixed(3)),
      ingest_lines_per_s_alone: Math.round(quantile(base, 0.5)),
      ingest_lines_per_s_with_reader: Math.round(quantile(loaded, 0.5)),
      lines: LINES,
      rounds: ROUNDS,
    }),
  );
} finally {
  for (const child of children) child.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
}
