/**
 * `npm run bench:mine`: cold on-demand parse of 10 million vmstat lines and
 * 10 million `perf stat -x, -I` lines held in a store, a warm re-query, and
 * the baseline measured in the same run: awk extracting the same columns from
 * the same lines in a text file. Lines are generated inside DuckDB from the
 * shapes of the captured fixtures (random figures), not appended one by one.
 * Last line: one JSON object with the figures.
 *
 * Options (env): MINE_BENCH_LINES (per tool, default 10000000), MINE_BENCH_DIR.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureParsed } from '../src/mine/engine.js';
import { openStore } from '../src/store/store.js';

const LINES = Number(process.env.MINE_BENCH_LINES ?? 10_000_000);
const dir = process.argv[2] === '--build' ? process.argv[3]! : mkdtempSync(join(process.env.MINE_BENCH_DIR ?? tmpdir(), 'expert-bench-mine-'));

function seconds(start: bigint): number {
  return Number(process.hrtime.bigint() - start) / 1e9;
}

function rssMb(): number {
  return process.resourceUsage().maxRSS / 1024;
}

/** Building the store (not measured) may use more memory. */
const SETTINGS = { memory_limit: '512MB', preserve_insertion_order: 'false' };

/** Child process: builds the store and the text files, so its memory does not count in the parse's peak RSS. */
async function build(dir: string): Promise<void> {
  const storePath = join(dir, 'bench.duckdb');
  const store = await openStore(storePath, { settings: SETTINGS });
  const c = store.connection;
  try {
    const batchId = await store.createBatch({ name: 'bench-mine', config: {}, provenance: {} });
    const vmstat = await store.createProcess({ batchId, label: 'vmstat', host: 'local', role: 'monitor', command: 'vmstat -n 1' });
    const perf = await store.createProcess({ batchId, label: 'perf', host: 'local', role: 'monitor', command: 'perf stat -x, -I 1000 -e context-switches,cache-misses,cpu-migrations,page-faults -a' });
    for (const id of [vmstat, perf]) await store.updateProcess(id, { status: 'exited', startedAt: Date.UTC(2026, 0, 1), endedAt: Date.UTC(2026, 0, 2) });

    let t = process.hrtime.bigint();
    // vmstat: two header lines, then data rows shaped like `vmstat -n 1` (fixtures/vmstat/plain).
    await c.run(`INSERT INTO line
      SELECT ${vmstat}, i, TIMESTAMPTZ '2026-01-01 00:00:00+00' + to_microseconds(i * 1000), 'stdout',
        CASE WHEN i = 0 THEN 'procs -----------memory---------- ---swap-- -----io---- -system-- ------cpu-----'
             WHEN i = 1 THEN ' r  b   swpd   free   buff  cache   si   so    bi    bo   in   cs us sy id wa st'
             ELSE printf('%2d %2d %6d %6d %6d %6d %4d %4d %5d %5d %4d %4d %2d %2d %2d %2d %2d',
               i % 7, i % 3, 0, 23000000 + i % 99991, 39404, 1353908 + i % 777, 0, 0, i % 4096, (i * 7) % 9000,
               100 + i % 900, 200 + (i * 13) % 5000, i % 60, i % 20, 99 - i % 80, i % 5, 0) END, NULL
      FROM range(${LINES}) r(i)`);
    // perf stat -x, -I: interval, value, unit, event, run time, run %, metric, metric unit (fixtures/perf-stat/interval).
    await c.run(`INSERT INTO line
      SELECT ${perf}, i, TIMESTAMPTZ '2026-01-01 00:00:00+00' + to_microseconds(i * 1000), 'stderr',
        CASE i % 4
          WHEN 0 THEN printf('%16.9f,%d,,context-switches,%d,100.00,%.3f,K/sec', (i // 4) + 0.000621811, 1000 + i % 4099, 500000000 + i % 991, (i % 997) / 100.0)
          WHEN 1 THEN printf('%16.9f,<not supported>,,cache-misses,0,100.00,,', (i // 4) + 0.000621811)
          WHEN 2 THEN printf('%16.9f,%d,,cpu-migrations,%d,100.00,%.3f,/sec', (i // 4) + 0.000621811, i % 37, 500000000 + i % 991, (i % 37) / 2.0)
          ELSE printf('%16.9f,%d,,page-faults,%d,100.00,%.3f,K/sec', (i // 4) + 0.000621811, i % 5000, 500000000 + i % 991, (i % 5000) / 10.0) END, NULL
      FROM range(${LINES}) r(i)`);
    await c.run('CHECKPOINT');
    const buildS = seconds(t);
    console.log(`built store: ${LINES} vmstat + ${LINES} perf-stat lines in ${buildS.toFixed(1)} s (${(statSync(storePath).size / 1e6).toFixed(0)} MB)`);

    // The same lines as text files for awk.
    const vmstatTxt = join(dir, 'vmstat.txt');
    const perfTxt = join(dir, 'perf.txt');
    for (const [id, file] of [[vmstat, vmstatTxt], [perf, perfTxt]] as const) {
      await c.run(`COPY (SELECT text FROM line WHERE process_id = ${id} ORDER BY seq) TO '${file}' (FORMAT csv, HEADER false, QUOTE '', ESCAPE '', DELIMITER '\t')`);
    }
    const lineCount = (file: string) => Number(execFileSync('wc', ['-l', file], { encoding: 'utf8' }).trim().split(/\s+/)[0]);
    if (lineCount(vmstatTxt) !== LINES || lineCount(perfTxt) !== LINES) throw new Error('text files do not hold the same lines');
    console.log(`built: ${JSON.stringify({ buildS })}`);
  } finally {
    await store.close();
  }
}

async function main(): Promise<void> {
  // Build in a child process (same script, --build DIR).
  const child = spawnSync(process.execPath, [process.argv[1]!, '--build', dir], { stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8', env: process.env });
  process.stdout.write(child.stdout);
  if (child.status !== 0) throw new Error(`building the bench store failed (exit ${child.status})`);
  const buildS = Number(/built: \{"buildS":([0-9.]+)\}/.exec(child.stdout)![1]);
  const storePath = join(dir, 'bench.duckdb');
  const vmstatTxt = join(dir, 'vmstat.txt');
  const perfTxt = join(dir, 'perf.txt');
  // The parse runs with the settings a user gets (a writable store's 128 MB cap, which Mine raises while it parses).
  const store = await openStore(storePath);
  const c = store.connection;
  let t: bigint;
  try {
    // Baseline: awk extracting the same columns (all 17 vmstat figures; interval, value, unit, event, run time, run %, metric).
    // Wall time, and CPU time (user + sys, from bash's `time`) since the machine may be shared.
    const awkCpu: number[] = [];
    const awk = (program: string, file: string, fieldSeparator?: string) => {
      const fs = fieldSeparator ? `-F '${fieldSeparator}'` : '';
      const start = process.hrtime.bigint();
      const result = spawnSync('bash', ['-c', `TIMEFORMAT='%U %S'; time awk ${fs} '${program}' '${file}' > /dev/null`], { encoding: 'utf8' });
      const wall = seconds(start);
      if (result.status !== 0) throw new Error(`awk failed: ${result.stderr}`);
      const [user, sys] = result.stderr.trim().split('\n').at(-1)!.split(' ').map(Number);
      awkCpu.push(user! + sys!);
      return wall;
    };
    const awkVmstat = awk('$1 ~ /^[0-9]/ { print $1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16,$17 }', vmstatTxt);
    const awkPerf = awk('{ print $1,$2,$3,$4,$5,$6,$7,$8 }', perfTxt, ',');
    const awkS = awkVmstat + awkPerf;
    const awkVersion = spawnSync('awk', ['-W', 'version'], { encoding: 'utf8' }).stdout.split('\n')[0] ?? 'awk';
    console.log(`awk (${awkVersion.trim()}): vmstat ${awkVmstat.toFixed(2)} s, perf-stat ${awkPerf.toFixed(2)} s`);

    // Cold parse, on demand.
    const cpuStart = process.cpuUsage();
    t = process.hrtime.bigint();
    const vmstatReport = await ensureParsed(store, 'vmstat');
    const vmstatS = seconds(t);
    t = process.hrtime.bigint();
    const perfReport = await ensureParsed(store, 'perf-stat');
    const perfS = seconds(t);
    const coldS = vmstatS + perfS;
    const coldCpu = process.cpuUsage(cpuStart);
    const coldCpuS = (coldCpu.user + coldCpu.system) / 1e6;
    const awkCpuS = awkCpu[0]! + awkCpu[1]!;
    const load = execFileSync('cat', ['/proc/loadavg'], { encoding: 'utf8' }).split(' ').slice(0, 3).join(' ');
    console.log(`cold parse: vmstat ${vmstatS.toFixed(2)} s (${vmstatReport.rows} rows, ${vmstatReport.errors} errors), perf-stat ${perfS.toFixed(2)} s (${perfReport.rows} rows, ${perfReport.errors} errors)`);
    if (vmstatReport.rows !== LINES - 2 || perfReport.rows !== LINES) throw new Error('parsed row counts do not match the lines');

    // Warm: the cache is reused (no re-parse) and the parsed tables answer a typical question.
    t = process.hrtime.bigint();
    const again = await ensureParsed(store, 'vmstat');
    const againPerf = await ensureParsed(store, 'perf-stat');
    const warmCheck = await c.runAndReadAll(`SELECT avg(cs), avg(us), avg(bi), count(*) FILTER (WHERE since_boot) FROM parsed.vmstat`);
    const warmPerf = await c.runAndReadAll(`SELECT event, avg(value), count(*) FROM parsed."perf-stat" GROUP BY event ORDER BY event`);
    const warmS = seconds(t);
    if (again.parsedProcesses !== 0 || againPerf.parsedProcesses !== 0) throw new Error('warm call re-parsed');
    console.log(`warm re-query ${warmS.toFixed(3)} s: vmstat avg cs ${Number(warmCheck.getRows()[0]![0]).toFixed(1)}; perf events ${warmPerf.getRows().length}`);

    const perTenMillion = coldS / 2 * (10_000_000 / LINES);
    const figures = {
      lines_per_tool: LINES,
      cold_parse_s: round(perTenMillion),
      cold_parse_total_s: round(coldS),
      cold_vmstat_s: round(vmstatS),
      cold_perf_stat_s: round(perfS),
      awk_s: round(awkS / 2 * (10_000_000 / LINES)),
      awk_total_s: round(awkS),
      ratio: round(coldS / awkS),
      warm_query_s: round(warmS),
      cold_parse_cpu_s: round(coldCpuS),
      awk_cpu_s: round(awkCpuS),
      cpu_ratio: round(coldCpuS / awkCpuS),
      load_average: load,
      peak_rss_mb: Math.round(rssMb()),
      build_s: round(buildS),
      targets: { cold_parse_s: 1.5, ratio: 0.5, peak_rss_mb: 1024 },
    };
    console.log(`cold parse ${figures.cold_parse_s} s per 10M lines (target <= 1.5), ratio vs awk ${figures.ratio} (target <= 0.5), peak RSS ${figures.peak_rss_mb} MB (target <= 1024)`);
    console.log(JSON.stringify(figures));
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

function round(x: number): number {
  return Math.round(x * 1000) / 1000;
}

if (process.argv[2] === '--build') {
  build(process.argv[3]!).catch((error) => {
    console.error(error);
    process.exit(1);
  });
} else {
  main().catch((error) => {
    console.error(error);
    rmSync(dir, { recursive: true, force: true });
    process.exit(1);
  });
}
