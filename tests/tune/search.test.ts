/**
 * `tune search`: each round runs its candidates as one real interleaved batch
 * (runBatch + Tune's hook) on a paused QEMU guest; the workload reports the
 * guest main thread's niceness as it sees it mid-run, so the objective tells
 * which policy was really in force. Also a space searched by the model and
 * its winner applied, and the pure candidate generation.
 */
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openStore } from '../../src/store/store.js';
import type { ExpertStore } from '../../src/store/types.js';
import type { ResolvedBatchConfig } from '../../src/batch/config/types.js';
import { runSearch } from '../../src/tune/search/run.js';
import { candidatesOf, checkSpec, parseSpecText, type SearchSpec } from '../../src/tune/search/spec.js';
import { procState, startPausedGuest, threadComms, type PausedGuest } from './guests.js';
import { expert } from '../helpers/cli.js';

let dir: string;
let store: ExpertStore;
let guest: PausedGuest;
const onWarning = (message: string) => console.error(`runner warning: ${message}`);

// Braces of the shell are doubled: single braces are batch placeholders.
// Unique per test process: two suites running at once on this machine must not tune each other's guests.
const GUEST = `search-a-${process.pid}`;
const NICE_OF_GUEST = `for p in $(echo {guest_pids} | tr , ' '); do if grep -q 'guest=${GUEST},' /proc/$p/cmdline; then s=$(cat /proc/$p/stat); set -- \${{s##*) }}; echo \${{17}}; fi; done`;
const OBJECTIVE = `SELECT CAST(l.text AS DOUBLE) AS value, p.policy FROM line l JOIN process p USING (process_id) WHERE p.batch_id = {batch_id} AND p.role = 'workload' AND l.stream = 'stdout'`;

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

test('exhaustive search over 4 policies: one interleaved batch, best = the highest nice actually in force', async () => {
  const spec: SearchSpec = { batch: base, candidates: CANDIDATES, objective: { sql: OBJECTIVE, direction: 'max' }, repetitions: 3, budget: { trials: 10 } };
  const result = await runSearch(spec, { store, base, journalPath: join(dir, 'j1.json'), onWarning });
  assert.equal(result.ended, 'done');
  assert.equal(result.trials.length, 4);
  assert.equal(result.runs, 12);
  assert.deepEqual(result.ranking.map((r) => [r.name, r.n, r.median, r.ciLow, r.ciHigh]), [['nice5', 3, 5, 5, 5], ['nice2', 3, 2, 2, 2], ['pin0-nice1', 3, 1, 1, 1], ['baseline', 3, 0, 0, 0]]);
  assert.equal(result.best!.name, 'nice5');
  assert.equal(result.certainty.separated, true);
  assert.match(result.certainty.statement, /^sure: /);
  assert.equal(new Set(result.trials.map((t) => t.batchId)).size, 1, 'one round, one batch');
  // Interleaved: every repetition runs each candidate once, in rotating order.
  const order = await store.query(`SELECT rep, policy FROM process WHERE batch_id = $1 AND role = 'workload' ORDER BY position`, [result.trials[0]!.batchId]);
  const reps = order.rows.map((r) => r[0]);
  assert.deepEqual(reps, [1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3]);
  assert.notDeepEqual(order.rows.slice(0, 4).map((r) => r[1]), order.rows.slice(4, 8).map((r) => r[1]));
  const unrestored = await store.query(`SELECT count(*)::INTEGER FROM tuning WHERE restored_at IS NULL`);
  assert.equal(unrestored.rows[0]![0], 0);
});

test('the trial budget stops the search and the best so far is reported', async () => {
  const spec: SearchSpec = { batch: base, candidates: CANDIDATES, objective: { sql: OBJECTIVE, direction: 'min' }, repetitions: 1, budget: { trials: 2 } };
  const result = await runSearch(spec, { store, base, journalPath: join(dir, 'j2.json'), onWarning });
  assert.equal(result.ended, 'trial budget');
  assert.deepEqual(result.trials.map((t) => t.candidate), ['baseline', 'nice2']);
  assert.equal(result.best!.name, 'baseline');
  assert.match(result.certainty.statement, /^not sure/);
});

test('successive halving keeps the better half, doubles its runs, and stops once the best is separated', async () => {
  const spec: SearchSpec = { batch: base, candidates: CANDIDATES, objective: { sql: OBJECTIVE.replace(', p.policy', '') + ' AND p.policy = {policy}', direction: 'max' }, repetitions: 2, strategy: 'halving' };
  const result = await runSearch(spec, { store, base, journalPath: join(dir, 'j3.json'), onWarning });
  assert.deepEqual(result.trials.map((t) => [t.candidate, t.round, t.repetitions]), [['baseline', 1, 2], ['nice2', 1, 2], ['nice5', 1, 2], ['pin0-nice1', 1, 2], ['nice5', 2, 2], ['nice2', 2, 2]]);
  assert.equal(result.rounds, 2);
  assert.equal(result.best!.name, 'nice5');
  assert.equal(result.best!.n, 4);
  // Separated from nice2 (both 4 runs), but the candidates halved away after 2 runs have no interval to clear.
  assert.equal(result.certainty.separated, false);
  assert.equal(result.certainty.runnerUp, 1);
});

test('a space searched by the model within its trial budget; the winner applied with --apply, restorable', async () => {
  const specFile = join(dir, 'space.yaml');
  // A vmstat monitor beside a workload that lasts over a second: the model gets its figures as side information.
  writeFileSync(join(dir, 'space-batch.yaml'), `name: search-space\nmachines: {nodes: [{name: n1, host: local}]}\nmonitors:\n  - {name: vmstat, on: nodes, command: vmstat -n 1}\ntests:\n  - name: nice-seen\n    on: nodes\n    command: ${JSON.stringify(`sleep 1.3; ${NICE_OF_GUEST}`)}\n`);
  writeFileSync(specFile, `batch: space-batch.yaml\nspace:\n  guests:\n    ${GUEST}: {cpus: [any, 0], nice: [0, 2, 4, 6]}\nstrategy: model\nround: 2\nobjective:\n  sql: ${JSON.stringify(OBJECTIVE)}\n  direction: max\nrepetitions: 1\nconfirm: {rounds: 1}\nbudget: {trials: 9, time: 5m}\n`);
  const storeFile = join(dir, 'space.duckdb');
  const before = new Map([...threadComms(guest.pid).keys()].map((tid) => [tid, procState(guest.pid, tid)]));
  const r = await expert('tune', 'search', specFile, '--store', storeFile, '--format', 'json', '--apply');
  assert.equal(r.code, 0, r.stderr);
  const ranking = JSON.parse(r.stdout) as Array<{ policy: string; n: number; median: number }>;
  assert.equal(ranking[0]!.median, 6);
  assert.match(ranking[0]!.policy, new RegExp(`^${GUEST}@(\\*|0)\\+n6$`));
  const summary = /^(\d) trials of (\d) distinct candidates of the 8 in the space \((\d+) runs in (\d) rounds?\), [\d.]+ s, strategy model, ended: (done|trial budget)$/m.exec(r.stderr);
  assert.ok(summary, r.stderr);
  // Confirmation re-measures the best few: trials count each measuring, distinct candidates each once.
  assert.equal(Number(summary[2]), new Set(ranking.map((x) => x.policy)).size);
  assert.ok(Number(summary[2]) < Number(summary[1]), summary[0]);
  assert.match(r.stderr, /^how sure: /m);
  assert.match(r.stderr, /^side information: vmstat_cs, vmstat_sy, vmstat_us$/m, 'picked from the monitors, none named in the spec');
  assert.match(r.stderr, /^applied .*: \d+\/\d+ actions verified; undo with: expert tune restore$/m);
  for (const [tid] of before) assert.equal(procState(guest.pid, tid).nice, 6, 'the winner is in force');
  const restored = await expert('tune', 'restore', '--store', storeFile, '--format', 'json');
  assert.equal(restored.code, 0, restored.stderr);
  for (const [tid, s] of before) assert.deepEqual(procState(guest.pid, tid), s, 'restore puts every thread back');
});

test('expert tune search from a spec file prints the ranking and the best with its interval', async () => {
  const specFile = join(dir, 'spec.yaml');
  writeFileSync(join(dir, 'batch.yaml'), `name: search-cli\nmachines: {nodes: [{name: n1, host: local}]}\ntests:\n  - name: nice-seen\n    on: nodes\n    command: ${JSON.stringify(NICE_OF_GUEST)}\n`);
  writeFileSync(specFile, `batch: batch.yaml\ngenerate: {guests: [${GUEST}], nice: [3]}\ncandidates:\n  - {name: nice7, identify: {vms: [${GUEST}]}, nice: 7}\n  - {name: nice1, identify: {vms: [${GUEST}]}, nice: 1}\nobjective:\n  sql: ${JSON.stringify(OBJECTIVE)}\n  direction: max\nrepetitions: 2\nbudget: {trials: 8, time: 5m}\n`);
  const r = await expert('tune', 'search', specFile, '--store', join(dir, 'cli.duckdb'), '--format', 'json');
  assert.equal(r.code, 0, r.stderr);
  if (/warning/.test(r.stderr)) console.error(r.stderr);
  const ranking = JSON.parse(r.stdout) as Array<{ policy: string; n: number; median: number }>;
  assert.deepEqual(ranking.map((x) => x.policy), ['nice7', `${GUEST}+nice3`, 'nice1', 'baseline']);
  assert.match(r.stderr, /^best \(max\): nice7 = 7 \(median, no interval \(n=2\)\)$/m);
  assert.match(r.stderr, /^4 trials of 4 distinct candidates of the 4 in the space \(8 runs in 1 round\), /m);
});


test('candidate generation and spec errors (pure)', () => {
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
});
