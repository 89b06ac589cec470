/**
 * Captures the response surface `npm run bench:search` replays, ONCE, from
 * the real testbed: `expert testbed up --vms 3 --accel tcg`, then
 * `expert tune search` with strategy exhaustive over every placement of the
 * space below (each round one interleaved batch; here one round with every
 * candidate and REPS runs each), the objective the node's total dd write
 * rate per run (Mine's run values, the run as the unit). Writes
 * tests/fixtures/search/surface.json: the space, every candidate's measured
 * values per run, and the provenance (when, where, the commit, QEMU and the
 * accelerator, the spec and batch). Heavy: run it under the shared lock,
 *   flock /tmp/expert-heavy.lock npx tsx scripts/capture-search-surface.ts
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, hostname, release, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { openStore } from '../src/store/store.js';
import { runValues } from '../src/mine/run-values.js';
import { parseSpecText } from '../src/tune/search/spec.js';
import { searchCandidates } from '../src/tune/search/candidates.js';

const REPS = Number(process.env.REPS ?? 4);
/**
 * GUESTS=3 (default): vm1, vm2 {cpus: any|0|1, nice: 0|10}, vm3 {cpus}: 108 placements, into surface.json.
 * GUESTS=5: five guests {cpus: any|0|1}: 243 placements, into surface-5.json (the crowded case: 5 guests on 2 CPUs).
 */
const GUESTS = Number(process.env.GUESTS ?? 3);
if (GUESTS !== 3 && GUESTS !== 5) throw new Error(`GUESTS must be 3 or 5, got ${process.env.GUESTS}`);
/** Monitor figures captured beside the objective, run by run: the side information the model strategy may use. */
const SIDE = ['perf_context_switches', 'perf_cpu_clock'];
const OUT = resolve(GUESTS === 3 ? 'tests/fixtures/search/surface.json' : `tests/fixtures/search/surface-${GUESTS}.json`);
const CLI = resolve('src/cli/main.ts');
const TSX = import.meta.resolve('tsx');

const BATCH = `name: search-surface
machines: testbed
monitors:
  - name: perf
    on: nodes
    command: perf stat -x, -I 250 -e context-switches,cpu-clock -p {guest_pids}
tests:
  - name: dd-write
    on: vms
    command: dd if=/dev/zero of=/tmp/dd.tmp bs=64k count=48 conv=fsync
    timeout: 2m
`;
const SPEC = `name: surface
batch: batch.yaml
strategy: exhaustive
repetitions: ${REPS}
objective: {metric: dd_rate_bps, direction: max}
space:
  guests:
${
  GUESTS === 3
    ? '    vm1: {cpus: [any, 0, 1], nice: [0, 10]}\n    vm2: {cpus: [any, 0, 1], nice: [0, 10]}\n    vm3: {cpus: [any, 0, 1]}\n'
    : Array.from({ length: GUESTS }, (_, i) => `    vm${i + 1}: {cpus: [any, 0, 1]}\n`).join('')
}`;

function expert(cwd: string, ...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((done, reject) => {
    const child = spawn(process.execPath, ['--import', TSX, CLI, ...args], { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr!.on('data', (d: Buffer) => {
      stderr += d.toString();
      process.stderr.write(d);
    });
    child.once('error', reject);
    child.once('close', (code) => done({ code: code ?? -1, stdout, stderr }));
  });
}

const dir = mkdtempSync(join(tmpdir(), 'expert-surface-'));
const started = new Date();
try {
  const up = await expert(dir, 'testbed', 'up', '--vms', String(GUESTS), '--accel', 'tcg');
  if (up.code !== 0) throw new Error(`testbed up failed: ${up.stderr}`);
  writeFileSync(join(dir, 'batch.yaml'), BATCH);
  writeFileSync(join(dir, 'spec.yaml'), SPEC);
  // A pilot of two candidates first, so a broken set-up fails in seconds rather than after the whole capture.
  writeFileSync(join(dir, 'pilot.yaml'), SPEC.replace(/space:[\s\S]*$/, 'space:\n  guests:\n    vm1: {cpus: [any, 0]}\n').replace(/repetitions: \d+/, 'repetitions: 1'));
  const pilot = await expert(dir, 'tune', 'search', 'pilot.yaml', '--store', 'pilot.duckdb', '--format', 'json');
  if (pilot.code !== 0 || JSON.parse(pilot.stdout).length !== 2) throw new Error(`the pilot search failed (${pilot.code}): ${pilot.stdout}`);
  const t0 = Date.now();
  const search = await expert(dir, 'tune', 'search', 'spec.yaml', '--store', 'surface.duckdb', '--format', 'json');
  const searchSeconds = (Date.now() - t0) / 1000;
  if (search.code !== 0) throw new Error(`tune search failed (${search.code})`);
  const spec = parseSpecText(SPEC, 'spec.yaml');
  const { candidates, enumeration } = searchCandidates(spec);
  const store = await openStore(join(dir, 'surface.duckdb'), { readOnly: true });
  let surface;
  let batchIds: number[];
  try {
    const batches = await store.query(`SELECT batch_id FROM batch ORDER BY batch_id`);
    batchIds = batches.rows.map((r) => Number(r[0]));
    const values = await runValues(store, batchIds, { metric: 'dd_rate_bps' });
    const sideOf = new Map<string, Array<number | null>>();
    for (const [k, metric] of SIDE.entries()) {
      for (const run of (await runValues(store, batchIds, { metric })).runs) {
        const key = `${run.batch_id}:${run.run}`;
        if (!sideOf.has(key)) sideOf.set(key, SIDE.map(() => null));
        sideOf.get(key)![k] = run.value;
      }
    }
    const byPolicy = new Map<string, Array<{ position: number; value: number; side: Array<number | null> }>>();
    const position = await store.query(`SELECT DISTINCT batch_id, run, position FROM process WHERE role = 'workload'`);
    const positionOf = new Map(position.rows.map((r) => [`${r[0]}:${r[1]}`, Number(r[2])]));
    for (const run of values.runs) {
      if (!byPolicy.has(run.policy)) byPolicy.set(run.policy, []);
      const key = `${run.batch_id}:${run.run}`;
      // A run whose monitor gave no sample in its window keeps null there: the model then goes without.
      const side = sideOf.get(key) ?? SIDE.map(() => null);
      byPolicy.get(run.policy)!.push({ position: positionOf.get(key) ?? 0, value: run.value, side });
    }
    surface = candidates.map((c, i) => {
      const measured = (byPolicy.get(c.name) ?? []).sort((a, b) => a.position - b.position);
      return { name: c.name, placement: enumeration!.placements[i], runs: measured.map((r) => r.value), side: measured.map((r) => r.side) };
    });
    const missing = surface.filter((s) => s.runs.length < REPS);
    if (missing.length) throw new Error(`${missing.length} candidates lack runs (e.g. ${missing[0]!.name}): ${values.excluded.slice(0, 3).map((e) => e.reason).join('; ')}`);
  } finally {
    await store.close();
  }
  const git = (...args: string[]) => execFileSync('git', args, { encoding: 'utf8' }).trim();
  const qemu = execFileSync('qemu-system-x86_64', ['--version'], { encoding: 'utf8' }).split('\n')[0];
  mkdirSync(resolve('tests/fixtures/search'), { recursive: true });
  writeFileSync(
    OUT,
    JSON.stringify(
      {
        provenance: {
          captured_by: 'scripts/capture-search-surface.ts',
          started_at: started.toISOString(),
          search_seconds: searchSeconds,
          commit: git('rev-parse', 'HEAD'),
          host: { hostname: hostname(), kernel: release(), cpu: cpus()[0]?.model, cpus: cpus().length },
          qemu,
          testbed: `expert testbed up --vms ${GUESTS} --accel tcg (1 node, ${GUESTS} guests, 1 vCPU and 256 MiB each, on a 2-CPU machine shared with other work, so the noise is real)`,
          objective: `dd_rate_bps: the node total of the ${GUESTS} guests' dd write rates in one run (bytes/s), as Mine's run values give it`,
          side: 'side[i] of a candidate: the node\'s perf stat figures (per 250 ms interval, over the QEMU processes) averaged over run i\'s workload window, in side_metrics order',
          batches: batchIds,
          batch: BATCH,
          spec: SPEC,
        },
        metric: 'dd_rate_bps',
        side_metrics: SIDE,
        direction: 'max',
        space: spec.space,
        candidates: surface,
      },
      null,
      1,
    ) + '\n',
  );
  console.log(`captured ${surface.length} candidates × ${REPS} runs in ${searchSeconds.toFixed(0)} s into ${OUT}`);
} finally {
  await expert(dir, 'testbed', 'down');
  rmSync(dir, { recursive: true, force: true });
}
