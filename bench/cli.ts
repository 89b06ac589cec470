/**
 * CLI start-up benchmark (`npm run bench:cli`).
 *
 * Median wall time of three commands through the installed `expert` (a
 * symlink to the built entry point, as `npm link` makes, run by its shebang):
 *   - `expert --version`
 *   - `expert mine sql "select 1"` on a small store
 *   - `expert mine summary` on the same store
 * beside two baselines measured in the same run, interleaved with them:
 *   - `node -e 0` (the floor for any Node program)
 *   - a bare Node script that opens the same store read-only with
 *     @duckdb/node-api and runs `select 1` (the floor for any verb that queries).
 * The store is made first with a tiny local batch (`expert run`, not timed);
 * each command runs once untimed (the summary's first call parses).
 *
 *   npm run bench:cli -- [--runs N]
 *
 * Targets: `--version` ≤ 2 × `node -e 0`; `mine sql "select 1"` ≤ 1.3 × the DuckDB floor.
 * The last line is one JSON object: version_ms, sql_ms, summary_ms, node_ms, duckdb_floor_ms and the ratios.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { packageRoot } from '../src/package-root.js';

const { values: args } = parseArgs({ options: { runs: { type: 'string', default: '21' } } });
const runs = Number(args.runs);
if (!(Number.isInteger(runs) && runs > 0)) throw new Error(`--runs: expected a whole number, got ${args.runs}`);

const dir = mkdtempSync(join(tmpdir(), 'expert-bench-cli-'));
const root = packageRoot();

/** The installed command: <dir>/bin/expert → the package's bin, like npm link's symlink. */
function install(): string {
  const bin = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { bin: Record<string, string> }).bin.expert!;
  mkdirSync(join(dir, 'bin'));
  const expert = join(dir, 'bin', 'expert');
  symlinkSync(join(root, bin), expert);
  return expert;
}

/** Runs a command to completion; its wall time in ms. A failure stops the benchmark (a fast wrong answer is no figure). */
function timed(command: string, commandArgs: string[]): number {
  const start = process.hrtime.bigint();
  const result = spawnSync(command, commandArgs, { cwd: dir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  if (result.status !== 0) throw new Error(`${command} ${commandArgs.join(' ')} failed (exit ${result.status}): ${result.stderr}`);
  if (result.stdout.length === 0) throw new Error(`${command} ${commandArgs.join(' ')} printed nothing`);
  return ms;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

function loadAverage(): string {
  return readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
}

const round = (x: number, digits = 1) => Math.round(x * 10 ** digits) / 10 ** digits;

function main(): void {
  const expert = install();
  const store = join(dir, 'bench.duckdb');
  writeFileSync(join(dir, 'tiny.yaml'), 'name: bench-cli\ntests:\n  - name: dd\n    command: dd if=/dev/zero of=/dev/null bs=64k count=16\n    repeat: 3\n');
  timed(expert, ['run', 'tiny.yaml', '--store', store]);

  // The DuckDB floor: what any querying verb must at least do (load the binding, open the store, one query, print).
  const duckdb = pathToFileURL(createRequire(join(root, 'package.json')).resolve('@duckdb/node-api')).href;
  const floorScript = join(dir, 'duckdb-floor.mjs');
  writeFileSync(
    floorScript,
    `import { DuckDBInstance } from ${JSON.stringify(duckdb)};
const instance = await DuckDBInstance.create(${JSON.stringify(store)}, { access_mode: 'READ_ONLY' });
const connection = await instance.connect();
const reader = await connection.runAndReadAll('select 1');
process.stdout.write(JSON.stringify(reader.getRows().map((r) => r.map(Number))) + '\\n');
connection.closeSync();
instance.closeSync();
`,
  );

  const commands: Record<string, [string, string[]]> = {
    node: ['node', ['-e', 'process.stdout.write("0\\n")']],
    duckdb_floor: ['node', [floorScript]],
    version: [expert, ['--version']],
    sql: [expert, ['mine', 'sql', 'select 1', '--store', store, '--format', 'csv']],
    summary: [expert, ['mine', 'summary', '--store', store, '--format', 'csv']],
  };
  const times: Record<string, number[]> = Object.fromEntries(Object.keys(commands).map((k) => [k, []]));
  for (const [command, commandArgs] of Object.values(commands)) timed(command, commandArgs); // warm-up (and the summary's parse)
  const loadBefore = loadAverage();
  // Interleaved, so a burst of load on the shared machine touches every command alike.
  for (let i = 0; i < runs; i++) for (const [name, [command, commandArgs]] of Object.entries(commands)) times[name]!.push(timed(command, commandArgs));
  const loadAfter = loadAverage();

  const ms = Object.fromEntries(Object.entries(times).map(([k, v]) => [k, median(v)])) as Record<keyof typeof commands, number>;
  const figures = {
    runs,
    version_ms: round(ms.version),
    sql_ms: round(ms.sql),
    summary_ms: round(ms.summary),
    node_ms: round(ms.node),
    duckdb_floor_ms: round(ms.duckdb_floor),
    version_ratio: round(ms.version / ms.node, 2),
    sql_ratio: round(ms.sql / ms.duckdb_floor, 2),
    summary_ratio: round(ms.summary / ms.duckdb_floor, 2),
    load_average: { before: loadBefore, after: loadAfter },
    targets: { version_ratio: 2, sql_ratio: 1.3 },
  };
  for (const [name, values] of Object.entries(times)) {
    const sorted = [...values].sort((a, b) => a - b);
    console.log(`${name.padEnd(13)} median ${median(values).toFixed(1).padStart(7)} ms   min ${sorted[0]!.toFixed(1).padStart(7)} ms   max ${sorted.at(-1)!.toFixed(1).padStart(7)} ms`);
  }
  console.log(`expert --version: ${figures.version_ratio} × node -e 0 (target <= 2)`);
  console.log(`expert mine sql "select 1": ${figures.sql_ratio} × the DuckDB floor (target <= 1.3)`);
  console.log(`expert mine summary: ${figures.summary_ratio} × the DuckDB floor`);
  console.log(`load average ${loadBefore} before, ${loadAfter} after (${runs} runs of each, interleaved)`);
  console.log(JSON.stringify(figures));
}

try {
  main();
} finally {
  rmSync(dir, { recursive: true, force: true });
}
