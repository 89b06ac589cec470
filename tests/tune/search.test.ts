/**
 * `tune search`: candidates run as real batches (runBatch + Tune's hook) on a
 * paused QEMU guest; the workload reports the guest main thread's niceness as
 * it sees it mid-run, so the objective tells which policy was really in force.
 * Plus the pure parts: candidate generation, strategies, the t interval.
 */
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import quantile from '@stdlib/stats-base-dists-t-quantile';
import { openStore } from '../../src/store/store.js';
import type { ExpertStore } from '../../src/store/types.js';
import type { ResolvedBatchConfig } from '../../src/batch/config/types.js';
import { runSearch } from '../../src/tune/search/run.js';
import { candidatesOf, checkSpec, parseSpecText, type SearchSpec } from '../../src/tune/search/spec.js';
import { summarize } from '../../src/tune/search/stats.js';
import { exhaustive, successiveHalving } from '../../src/tune/search/strategy.js';
import { startPausedGuest, type PausedGuest } from './guests.js';

let dir: string;
let store: ExpertStore;
let guest: PausedGuest;
const onWarning = (message: string) => console.error(`runner warning: ${message}`);

// Braces of the shell are doubled: single braces are batch placeholders.
// Unique per test process: two suites running at once on this machine must not tune each other's guests.
const GUEST = `search-a-${process.pid}`;
const NICE_OF_GUEST = `for p in $(echo {guest_pids} | tr , ' '); do if grep -q 'guest=${GUEST},' /proc/$p/cmdline; then s=$(cat /proc/$p/stat); set -- \${{s##*) }}; echo \${{17}}; fi; done`;
const OBJECTIVE = `SELECT CAST(l.text AS DOUBLE) AS value FROM line l JOIN process p USING (process_id) WHERE p.batch_id = {batch_id} AND p.role = 'workload' AND l.stream = 'stdout'`;

const base: ResolvedBatchConfig = {
  name: 'search-test',
  machines: { nodes: [{ name: 'n1', host: 'local' }] },
  monitors: [],
  tests: [{ name: 'nice-seen', on: 'nodes', command: NICE_OF_GUEST }],
  policies: [],
};

const CANDIDATES = [
  { name: 'baseline' },
  { name: 'nice2', identify: { vms: [GUEST] }, nice: 2 },
  { name: 'nice5', identify: { vms: [GUEST] }, nice: 5 },
  { name: 'pin0-nice1', identify: { vms: [GUEST] }, pin: { cpus: [0] }, nice: 1 },
];

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'expert-tune-search-'));
  store = await openStore(join(dir, 'search.duckdb'));
  guest = await startPausedGuest(GUEST, { smp: 1, iothreads: 0 });
});
after(async () => {
  await guest.stop();
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

test('exhaustive search over 4 policies: every trial a batch, best = the highest nice actually in force', async () => {
  const spec: SearchSpec = { batch: base, candidates: CANDIDATES, objective: { sql: OBJECTIVE, direction: 'max' }, repetitions: 2, budget: { trials: 10 } };
  const result = await runSearch(spec, { store, base, journalPath: join(dir, 'j1.json'), onWarning });
  assert.equal(result.ended, 'done');
  assert.equal(result.trials.length, 4);
  assert.deepEqual(result.ranking.map((r) => [r.name, r.summary.n, r.summary.mean]), [['nice5', 2, 5], ['nice2', 2, 2], ['pin0-nice1', 2, 1], ['baseline', 2, 0]]);
  assert.equal(result.best!.name, 'nice5');
  const batches = await store.query(`SELECT count(DISTINCT batch_id)::INTEGER FROM process WHERE batch_id IN (${result.trials.map((t) => t.batchId).join(',')})`);
  assert.equal(batches.rows[0]![0], 4);
  const unrestored = await store.query(`SELECT count(*)::INTEGER FROM tuning WHERE restored_at IS NULL`);
  assert.equal(unrestored.rows[0]![0], 0);
});

test('the trial budget stops the search and the best so far is reported', async () => {
  const spec: SearchSpec = { batch: base, candidates: CANDIDATES, objective: { sql: OBJECTIVE, direction: 'min' }, repetitions: 1, budget: { trials: 2 } };
  const result = await runSearch(spec, { store, base, journalPath: join(dir, 'j2.json'), onWarning });
  assert.equal(result.ended, 'trial budget');
  assert.equal(result.trials.length, 2);
  assert.equal(result.best!.name, 'baseline');
});

test('successive halving keeps the better half and gives it more repetitions', async () => {
  const spec: SearchSpec = { batch: base, candidates: CANDIDATES, objective: { sql: OBJECTIVE, direction: 'max' }, repetitions: 2, strategy: 'halving' };
  const result = await runSearch(spec, { store, base, journalPath: join(dir, 'j3.json'), onWarning });
  assert.deepEqual(result.trials.map((t) => [t.candidate, t.repetitions]), [['baseline', 2], ['nice2', 2], ['nice5', 2], ['pin0-nice1', 2], ['nice5', 4], ['nice2', 4]]);
  assert.equal(result.best!.name, 'nice5');
  assert.equal(result.best!.summary.n, 6);
});

test('expert tune search from a spec file prints the ranking and the best with its interval', async () => {
  const specFile = join(dir, 'spec.yaml');
  writeFileSync(join(dir, 'batch.yaml'), `name: search-cli\nmachines: {nodes: [{name: n1, host: local}]}\ntests:\n  - name: nice-seen\n    on: nodes\n    command: ${JSON.stringify(NICE_OF_GUEST)}\n`);
  writeFileSync(specFile, `batch: batch.yaml\ngenerate: {guests: [${GUEST}], nice: [3]}\ncandidates:\n  - {name: nice7, identify: {vms: [${GUEST}]}, nice: 7}\n  - {name: nice1, identify: {vms: [${GUEST}]}, nice: 1}\nobjective:\n  sql: ${JSON.stringify(OBJECTIVE)}\n  direction: max\nrepetitions: 2\nbudget: {trials: 8, time: 5m}\n`);
  const r = await new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'tune', 'search', specFile, '--store', join(dir, 'cli.duckdb'), '--format', 'json'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    child.once('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
  assert.equal(r.code, 0, r.stderr);
  if (/warning/.test(r.stderr)) console.error(r.stderr);
  const ranking = JSON.parse(r.stdout) as Array<{ policy: string; n: number; mean: number }>;
  assert.deepEqual(ranking.map((x) => x.policy), ['nice7', `${GUEST}+nice3`, 'nice1', 'baseline']);
  assert.match(r.stderr, /best \(max\): nice7 = 7 \(n=2|best \(max\): nice7 = 7 ± 0 \(95% CI, n=2\)/);
});

test('candidate generation, strategies and the t interval (pure)', () => {
  const generated = candidatesOf({ batch: 'x', generate: { guests: ['a', 'b'], cpus: [[0], '1'], nice: [5] }, objective: { sql: '{batch_id}', direction: 'max' } });
  // baseline + (a, b, all) × (none, pin 0, pin 1) × (0, 5) minus the 3 no-ops.
  assert.equal(generated.length, 1 + 3 * 3 * 2 - 3);
  assert.equal(generated[0]!.name, 'baseline');
  assert.ok(generated.some((p) => p.name === 'pin-all-1+nice5' && p.identify?.vms === 'all'));
  assert.throws(() => checkSpec({ batch: 'x', candidates: [], objective: { sql: 'SELECT 1', direction: 'max' } }, 's.yaml'), /\{batch_id\}/);
  // A spec file's mistakes are reported at file:line:column, inline batch and candidates included.
  const head = 'batch: b.yaml\nobjective: {sql: "x {batch_id}", direction: max}\n';
  assert.throws(() => parseSpecText(head + 'candidats: []\n', 's.yaml'), /ConfigError: s\.yaml:3:1: candidats: unknown key `candidats`; did you mean `candidates`\?$/);
  assert.throws(() => parseSpecText(head + 'candidates:\n  - name: a\n    nicety: 3\n', 's.yaml'), /s\.yaml:5:5: candidates\[0\]\.nicety: unknown key/);
  assert.throws(() => parseSpecText('batch: {name: t, tests: [{name: a, comand: x}]}\nobjective: {sql: "x {batch_id}", direction: max}\ngenerate: {guests: [a]}\n', 's.yaml'), /s\.yaml:1:36: batch\.tests\[0\]\.comand: unknown key/);
  assert.throws(() => parseSpecText('batch: b.yaml\nobjective: [1\n', 's.yaml'), /s\.yaml:\d+:\d+: broken YAML/);
  assert.throws(() => parseSpecText(head + 'generate: {guests: [a], cpus: [0, "2-x"]}\n', 's.yaml'), /s\.yaml:3:35: generate\.cpus\[1\]: not a CPU list: '2-x'/);
  assert.deepEqual(exhaustive(['a', 'b'], 3).next(new Map()), { candidates: ['a', 'b'], repetitions: 3 });
  const halving = successiveHalving(['a', 'b', 'c', 'd'], 2, 'min');
  assert.deepEqual(halving.next(new Map()), { candidates: ['a', 'b', 'c', 'd'], repetitions: 2 });
  assert.deepEqual(halving.next(new Map([['a', [4, 4]], ['b', [1, 1]], ['c', [3, 3]], ['d', [2, 2]]])), { candidates: ['b', 'd'], repetitions: 4 });
  assert.equal(halving.next(new Map([['b', [1]], ['d', [2]]])), undefined);
  const values = [10, 12, 11, 13];
  const s = summarize(values);
  const sd = Math.sqrt(values.reduce((a, v) => a + (v - 11.5) ** 2, 0) / 3);
  assert.equal(s.mean, 11.5);
  assert.ok(Math.abs(s.ci95 - (quantile(0.975, 3) * sd) / 2) < 1e-12);
  assert.ok(Number.isNaN(summarize([1]).ci95));
});
