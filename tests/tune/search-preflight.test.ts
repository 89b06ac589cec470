/**
 * What `expert tune search` refuses before its first round, through the real
 * CLI on a `host: local` node with a paused QEMU guest: a guest that runs on
 * no node and a CPU that is not online (Tune's real discovery), an objective
 * or side column no parser of the batch gives (also in the dry run), a batch
 * file that is missing or broken (dry run), constraints that leave no
 * placement; and what a search that runs reports: each candidate's own
 * failures, distinct candidates beside trials, `batches` as a list in JSON,
 * `--columns` for search and discover; usage refused before any work
 * (`--sample` without `--dry-run`, the other output's columns), a trial
 * budget that leaves no room for confirmation (said, with the budget it
 * takes), and what an interrupt says in a round and between rounds.
 */
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openStore } from '../../src/store/store.js';
import type { ResolvedBatchConfig } from '../../src/batch/config/types.js';
import { runSearch } from '../../src/tune/search/run.js';
import { batchColumns, checkSummaryColumns } from '../../src/tune/search/columns.js';
import { parseSpecText } from '../../src/tune/search/spec.js';
import { startPausedGuest, type PausedGuest } from './guests.js';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { expert, type CliResult } from '../helpers/cli.js';

let dir: string;
let guest: PausedGuest;
// Unique per test process: other suites on this machine run guests of their own.
const GUEST = `preflight-${process.pid}`;
const NICE_OF_GUEST = `for p in $(echo {guest_pids} | tr , ' '); do if grep -q 'guest=${GUEST},' /proc/$p/cmdline; then s=$(cat /proc/$p/stat); set -- \${{s##*) }}; echo \${{17}}; fi; done`;
const OBJECTIVE = `SELECT CAST(l.text AS DOUBLE) AS value, p.policy FROM line l JOIN process p USING (process_id) WHERE p.batch_id = {batch_id} AND p.role = 'workload' AND l.stream = 'stdout'`;
const ONLINE = readFileSync('/sys/devices/system/cpu/online', 'utf8').trim();
const ABSENT_CPU = Number(ONLINE.split(/[-,]/).pop()) + 6;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'expert-search-preflight-'));
  guest = await startPausedGuest(GUEST, { smp: 1, iothreads: 0 });
  writeFileSync(join(dir, 'batch.yaml'), `name: preflight\nmachines: {nodes: [{name: node1, host: local}]}\nmonitors:\n  - {name: vmstat, on: nodes, command: vmstat -n 1}\ntests:\n  - name: write\n    on: nodes\n    command: dd if=/dev/zero of=${join(dir, 'dd.out')} bs=64k count=4\n`);
});
after(async () => {
  await guest.stop();
  rmSync(dir, { recursive: true, force: true });
});


/** A search of baseline against nice 3 on the guest, its batch inline; `extra` lines follow the common ones. */
function twoCandidates(name: string, command: string, sql: string, extra: string[]): string[] {
  return [
    'batch:',
    `  name: ${name}`,
    '  machines: {nodes: [{name: n1, host: local}]}',
    '  tests: [{name: seen, on: nodes, command: ' + JSON.stringify(command) + '}]',
    `candidates: [{name: baseline}, {name: nice3, identify: {vms: [${GUEST}]}, nice: 3}]`,
    `objective: {sql: ${JSON.stringify(sql)}, direction: max}`,
    'strategy: random',
    ...extra,
  ];
}

function spec(name: string, lines: string[]): string {
  const file = join(dir, name);
  writeFileSync(file, lines.join('\n') + '\n');
  return file;
}

async function batchesIn(store: string): Promise<number> {
  const s = await openStore(store, { readOnly: true });
  try {
    return Number((await s.query('SELECT count(*) FROM batch')).rows[0]![0]);
  } finally {
    await s.close();
  }
}

test('a guest no node runs and a CPU no node has online are refused before the first round, at their spec key, with what the nodes have', async () => {
  const head = ['batch: batch.yaml', 'objective: {metric: dd_rate_bps, direction: max}', 'repetitions: 1'];
  const store = join(dir, 'refused.duckdb');
  const missing = spec('missing-guest.yaml', [...head, 'space:', '  guests:', `    ${GUEST}: {cpus: [any, 0]}`, `    vm9-${process.pid}: {cpus: [any, 0]}`]);
  let r = await expert('tune', 'search', missing, '--store', store);
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, new RegExp(`missing-guest\\.yaml:7:5: space\\.guests\\.vm9-${process.pid}: guest vm9-${process.pid} runs on none of node1 \\(QEMU guests found: [^)]*node1/${GUEST}`));
  assert.doesNotMatch(r.stderr, /round 1|warning/);

  const cpu = spec('absent-cpu.yaml', [...head, 'space:', '  guests:', `    ${GUEST}: {cpus: [any, ${ABSENT_CPU}]}`]);
  r = await expert('tune', 'search', cpu, '--store', store);
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, new RegExp(`absent-cpu\\.yaml:6:\\d+: space\\.guests\\.${GUEST}\\.cpus\\[1\\]: CPU ${ABSENT_CPU} not online on node1 \\(it has CPUs ${ONLINE}\\)`));

  // Listed and generated candidates name guests and CPUs too.
  const listed = spec('listed.yaml', [...head, 'candidates:', `  - {name: a, identify: {vms: [${GUEST}]}, pin: {cpus: [0, ${ABSENT_CPU}]}}`]);
  r = await expert('tune', 'search', listed, '--store', store);
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, new RegExp(`listed\\.yaml:5:\\d+: candidates\\[0\\]\\.pin\\.cpus: CPUs 0,${ABSENT_CPU}: ${ABSENT_CPU} not online on node1`));
  const generated = spec('generated.yaml', [...head, `generate: {guests: [${GUEST}, nope-${process.pid}], nice: [3]}`]);
  r = await expert('tune', 'search', generated, '--store', store);
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, new RegExp(`generated\\.yaml:4:\\d+: generate\\.guests\\[1\\]: guest nope-${process.pid} runs on none of node1`));
  assert.equal(await batchesIn(store), 0, 'no round was run');
});

test('an objective or side column no parser of the batch gives is refused before any run, in the dry run too, with a did-you-mean and what the batch gives', async () => {
  const space = ['space:', '  guests:', `    ${GUEST}: {cpus: [any, 0]}`, 'repetitions: 1'];
  const typo = spec('typo.yaml', ['batch: batch.yaml', 'objective:', '  metric: dd_rate_bpz', '  direction: max', ...space]);
  const store = join(dir, 'typo.duckdb');
  for (const extra of [[], ['--dry-run']]) {
    const r = await expert('tune', 'search', typo, '--store', store, ...extra);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /typo\.yaml:3:11: objective\.metric: no run summary column 'dd_rate_bpz' can come from this batch's tests and monitors; did you mean `dd_rate_bps`\? They give: duration_s \(every run\); dd_rate_bps \(test write \(dd\)\); vmstat_r, .*vmstat_cs.* \(monitor vmstat \(vmstat\)\)$/m);
    assert.doesNotMatch(r.stderr, /round 1/);
  }
  const side = spec('side.yaml', ['batch: batch.yaml', 'objective: {metric: dd_rate_bps, direction: max}', 'side: [vmstat_cs, perf_context_switches]', ...space]);
  const r = await expert('tune', 'search', side, '--dry-run');
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, /side\.yaml:3:19: side\[1\]: no run summary column 'perf_context_switches' can come from this batch's tests and monitors\. They give: /);
  assert.equal(await batchesIn(store), 0);

  // Pure: what each parser gives; what cannot be told before the batch runs is let through.
  const base = { name: 'b', tests: [{ name: 'w', on: 'nodes' as const, command: 'fio --name=x' }], monitors: [{ name: 'p', on: 'vms' as const, command: 'perf stat -x, -I 1000 -e cs -p {guest_pids}' }] };
  const columns = batchColumns(base)!;
  assert.deepEqual(columns.sources.map((s) => [s.what, s.names.length, s.prefixes]), [['test w (fio)', 9, []], ['monitor p (perf-stat)', 0, ['guest_perf_']]]);
  const objective = (metric: string) => parseSpecText(`batch: x.yaml\nobjective: {metric: ${metric}, direction: max}\ncandidates: [{name: a}]\n`, 's.yaml');
  checkSummaryColumns(objective('fio_write_iops'), base);
  checkSummaryColumns(objective('guest_perf_cs'), base);
  assert.throws(() => checkSummaryColumns(objective('perf_cs'), base), /s\.yaml:2:21: objective\.metric: no run summary column 'perf_cs'/);
  assert.equal(batchColumns({ ...base, tests: [{ name: 'w', on: 'nodes', command: 'mytool', parser: 'mine' }] }), undefined, 'a parser Mine does not have (a user parser): cannot tell');
  checkSummaryColumns(objective('anything'), { ...base, tests: [{ name: 'w', on: 'nodes', command: 'mytool', parser: 'mine' }] });
  checkSummaryColumns(parseSpecText(`batch: x.yaml\nobjective: {sql: "SELECT 1 WHERE {batch_id} > 0", direction: max}\ncandidates: [{name: a}]\n`, 's.yaml'), base);
});

test('the dry run does not load the machines but refuses a batch file that is missing or broken', async () => {
  const space = ['objective: {metric: dd_rate_bps, direction: max}', 'space:', '  guests:', '    vm1: {cpus: [any, 0]}'];
  let r = await expert('tune', 'search', spec('nobatch.yaml', ['batch: gone.yaml', ...space]), '--dry-run');
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, /nobatch\.yaml:1:8: batch: cannot read the batch config .*gone\.yaml: ENOENT/);
  writeFileSync(join(dir, 'broken.yaml'), 'name: b\ntests: [{name: t, on: nodes, comand: x}]\n');
  r = await expert('tune', 'search', spec('broken-spec.yaml', ['batch: broken.yaml', ...space]), '--dry-run');
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, /broken\.yaml:2:30: tests\[0\]\.comand: unknown key `comand`; did you mean `command`\?/);
  writeFileSync(join(dir, 'testbed.yaml'), 'name: b\nmachines: testbed\ntests: [{name: t, on: vms, command: "dd if=/dev/zero of=/dev/null count=1"}]\n');
  r = await expert('tune', 'search', spec('testbed-spec.yaml', ['batch: testbed.yaml', ...space]), '--dry-run', '--format', 'json');
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual((JSON.parse(r.stdout) as Array<{ policy: string }>).map((x) => x.policy), ['baseline', 'vm1@0']);
});

test('constraints that leave no placement: the dry run and the search exit 2 at the constraints, with the counts', async () => {
  const file = spec('empty.yaml', [
    'batch: batch.yaml',
    'objective: {metric: dd_rate_bps, direction: max}',
    'space:',
    '  guests:',
    `    ${GUEST}: {cpus: [0, 1]}`,
    '    b: {cpus: [0, 1]}',
    '    c: {cpus: [0, 1]}',
    '  symmetric: [[b, c]]',
    '  constraints:',
    '    - max_guests_per_cpu: 1',
  ]);
  const store = join(dir, 'empty.duckdb');
  for (const extra of [['--dry-run'], ['--store', store]]) {
    const r = await expert('tune', 'search', file, ...extra);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /empty\.yaml:9:3: space\.constraints: the constraints \(max_guests_per_cpu: 1\) leave no placement: they rule out all 6 combinations of 3 knobs that are not swaps of interchangeable guests \(8 in all\)/);
  }
  assert.equal(await batchesIn(store), 0);
});

test("a candidate's note is about its own runs: one that failed is marked, the one beside it in the same round is not", async () => {
  const store = await openStore(join(dir, 'own.duckdb'));
  try {
    // The workload fails under nice4 only (it still prints what it saw).
    const base: ResolvedBatchConfig = { name: 'own', machines: { nodes: [{ name: 'n1', host: 'local' }] }, monitors: [], policies: [], tests: [{ name: 'seen', on: 'nodes', command: `${NICE_OF_GUEST}; [ {policy} != nice4 ]` }] };
    const candidates = [{ name: 'baseline' }, { name: 'nice4', identify: { vms: [GUEST] }, nice: 4 }];
    const result = await runSearch({ batch: base, candidates, objective: { sql: OBJECTIVE, direction: 'max' }, repetitions: 2 }, { store, base, journalPath: join(dir, 'own.json') });
    assert.equal(new Set(result.trials.map((t) => t.batchId)).size, 1, 'one round');
    assert.deepEqual(result.trials.map((t) => [t.candidate, t.ok, t.values]), [['baseline', true, [0, 0]], ['nice4', false, [4, 4]]]);
  } finally {
    await store.close();
  }
});

test('a search reports distinct candidates beside trials, batches as a list in JSON and as text in CSV, and takes --columns; so does discover', async () => {
  const file = spec('listed-ok.yaml', twoCandidates('ok', NICE_OF_GUEST, OBJECTIVE, ['confirm: {top: 2, rounds: 1}', 'repetitions: 1']));
  const store = join(dir, 'ok.duckdb');
  const json = await expert('tune', 'search', file, '--store', store, '--format', 'json');
  assert.equal(json.code, 0, json.stderr);
  const ranking = JSON.parse(json.stdout) as Array<{ policy: string; batches: number[] }>;
  assert.deepEqual(ranking.map((x) => x.policy), ['nice3', 'baseline']);
  assert.ok(ranking.every((x) => Array.isArray(x.batches) && x.batches.every((b) => Number.isInteger(b))), json.stdout);
  // Random measures both, the confirmation round both again: 4 trials of 2 distinct candidates.
  assert.match(json.stderr, /^4 trials of 2 distinct candidates of the 2 in the space \(4 runs in 2 rounds\), /m);
  const csv = await expert('tune', 'search', file, '--store', store, '--format', 'csv', '--columns', 'policy,batches,n');
  assert.equal(csv.code, 0, csv.stderr);
  assert.match(csv.stdout, /^policy,batches,n\nnice3,\d+ \d+,2\nbaseline,\d+ \d+,2\n$/);
  const table = await expert('tune', 'search', file, '--store', store, '--format', 'table', '--columns', 'policy,n');
  assert.match(table.stdout, /^policy +n\n[─ ]+\nnice3 +2\nbaseline +2\n\(2 rows\)\n$/);
  const typo = await expert('tune', 'search', file, '--store', store, '--columns', 'policy,medain');
  assert.equal(typo.code, 2);
  assert.match(typo.stderr, /--columns: no column 'medain' in the ranking; its columns are: rank, policy, n, median, /);
  assert.doesNotMatch(typo.stderr, /round 1/, 'refused before the search');
  const dry = await expert('tune', 'search', file, '--dry-run', '--columns', 'policy', '--format', 'json');
  assert.equal(dry.code, 0, dry.stderr);
  assert.deepEqual(JSON.parse(dry.stdout), [{ policy: 'baseline' }, { policy: 'nice3' }]);

  for (const format of ['csv', 'json', 'table']) {
    const d = await expert('tune', 'discover', '--columns', 'guest,kind,tid', '--format', format);
    assert.equal(d.code, 0, d.stderr);
    if (format === 'csv') assert.match(d.stdout, new RegExp(`^guest,kind,tid\\n(.*\\n)*${GUEST},emulator,${guest.pid}\\n`));
    if (format === 'json') assert.ok((JSON.parse(d.stdout) as Array<Record<string, unknown>>).some((x) => x.guest === GUEST && x.kind === 'emulator' && x.tid === guest.pid && Object.keys(x).length === 3));
    if (format === 'table') assert.match(d.stdout, new RegExp(`^guest +kind +tid\\n`));
  }
  const bad = await expert('tune', 'discover', '--columns', 'guest,kinds');
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /--columns: no column 'kinds'; the columns are: node, guest, pid, /);
});

test('usage the search refuses before any work: --sample without --dry-run, and --columns of the other output (the dry run has its own columns)', async () => {
  const file = spec('usage.yaml', [
    'batch: batch.yaml',
    `candidates: [{name: baseline}, {name: nice3, identify: {vms: [${GUEST}]}, nice: 3}]`,
    'objective: {metric: dd_rate_bps, direction: max}',
  ]);
  const store = join(dir, 'usage.duckdb');
  // Without the refusal the whole search ran.
  const sample = await expert('tune', 'search', file, '--store', store, '--sample', '3');
  assert.equal(sample.code, 2, sample.stderr);
  assert.equal(sample.stderr, "error: --sample only goes with --dry-run (it is how many candidates the dry run shows); a search measures what its strategy and budget say\nRun 'expert tune search --help' for usage.\n");
  assert.equal(existsSync(store), false, 'nothing ran, no store opened');
  const dryRank = await expert('tune', 'search', file, '--dry-run', '--columns', 'policy,rank');
  assert.equal(dryRank.code, 2, dryRank.stderr);
  assert.equal(dryRank.stderr, "expert: --columns: no column 'rank' in the dry run; its columns are: candidate, policy, applies ('rank' is a column of the search's ranking, without --dry-run)\n");
  const dryTypo = await expert('tune', 'search', file, '--dry-run', '--columns', 'polcy');
  assert.match(dryTypo.stderr, /^expert: --columns: no column 'polcy' in the dry run; its columns are: candidate, policy, applies \(rank, n, median, ci_low, ci_high, ci_level, batches are the search's ranking's, without --dry-run\)\n$/);
  const applies = await expert('tune', 'search', file, '--store', store, '--columns', 'applies');
  assert.equal(applies.code, 2, applies.stderr);
  assert.match(applies.stderr, /^expert: --columns: no column 'applies' in the ranking; its columns are: rank, policy, n, median, ci_low, ci_high, ci_level, batches \('applies' is a column of the dry run \(--dry-run\)\)\n$/);
  assert.equal(existsSync(store), false);
});

test('a trial budget spent exploring says the confirmation was skipped and what budget it takes; a runner-up with one run says why it has no interval', async () => {
  const file = spec('skipped.yaml', twoCandidates('skipped', NICE_OF_GUEST, OBJECTIVE, ['confirm: {top: 2, rounds: 1}', 'repetitions: 1', 'budget: {trials: 2}']));
  const r = await expert('tune', 'search', file, '--store', join(dir, 'skipped.duckdb'));
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /^2 trials of 2 distinct candidates of the 2 in the space \(2 runs in 1 round\), [\d.]+ s, strategy random, ended: trial budget\nconfirmation skipped: the trial budget \(2\) was spent exploring \(it keeps 2 trials for confirmation only when at least 3 are left to explore\); raise budget\.trials to at least 4 for confirm: top 2 × 1 round\n/m);
  assert.match(r.stderr, /^how sure: not sure: .*; runner-up baseline -100\.0% \(no interval: 1 run each, 3 each give one\)/m);
  // With room for it the confirmation runs and nothing is said about it.
  const roomy = spec('roomy.yaml', readFileSync(file, 'utf8').trimEnd().split('\n').map((l) => (l.startsWith('budget:') ? 'budget: {trials: 4}' : l)));
  const ok = await expert('tune', 'search', roomy, '--store', join(dir, 'skipped.duckdb'));
  assert.equal(ok.code, 0, ok.stderr);
  assert.match(ok.stderr, /^4 trials of 2 distinct candidates of the 2 in the space \(4 runs in 2 rounds\), /m);
  assert.doesNotMatch(ok.stderr, /confirmation (skipped|cut short)/);
});

/** `expert ARGS` (as tests/helpers/cli.ts runs it) that gets SIGINT `delayMs` after its stderr matches `when`. */
function interruptedWhen(when: RegExp, delayMs: number, ...args: string[]): Promise<CliResult & { interruptedAt: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', import.meta.resolve('tsx'), fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url)), ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let interruptedAt = '';
    child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr!.on('data', (d: Buffer) => {
      stderr += d.toString();
      if (!interruptedAt && when.test(stderr)) {
        interruptedAt = stderr;
        setTimeout(() => child.kill('SIGINT'), delayMs);
      }
    });
    child.once('error', reject);
    child.once('close', (code) => resolve({ code: code ?? -1, stdout, stderr, interruptedAt }));
  });
}

test('an interrupt says what it stops: a round in progress is cut off; between rounds nothing runs and the results so far are kept', async () => {
  const lines = (command: string, sql: string) => twoCandidates('interrupted', command, sql, ['round: 1', 'confirm: {rounds: 0}', 'repetitions: 1']);
  const store = join(dir, 'interrupted.duckdb');
  // In a round: the workload prints what it saw, then sleeps; the interrupt comes 3 s into the round.
  const during = await interruptedWhen(/^round 1: /m, 3000, 'tune', 'search', spec('during.yaml', lines(`${NICE_OF_GUEST}; sleep 30`, OBJECTIVE)), '--store', store);
  assert.equal(during.code, 130, during.stderr);
  assert.match(during.stderr, /^stopping the search: round 1 is cut off \(its finished runs count\) and its tuning restored…$/m);
  assert.match(during.stderr, /, ended: interrupted$/m);
  assert.doesNotMatch(during.stderr, /between rounds|round 2: /);
  assert.match(during.stderr, /^  baseline: batch \d+, values 0 \(some workloads failed or were cut off\)$/m, 'its finished output counts');
  // Interrupted before its workload printed anything: nothing measured, still exit 130 (not 1 with a hint about the objective).
  const early = await interruptedWhen(/^round 1: /m, 0, 'tune', 'search', spec('early.yaml', lines(`sleep 30; ${NICE_OF_GUEST}`, OBJECTIVE)), '--store', store);
  assert.equal(early.code, 130, early.stderr);
  assert.match(early.stderr, /^interrupted before any candidate was measured$/m);
  assert.doesNotMatch(early.stderr, /check the objective/);
  // Between rounds: round 1's batch has ended and its values are being read (an objective that takes a while to
  // compute); the interrupt was told a round was being cut off and restored when none ran.
  const slow = `${OBJECTIVE} AND (SELECT count(*) FROM range(150000000) t(x) WHERE x % 7 = 3) > 0`;
  const between = await interruptedWhen(/^round 1: batch \d+ ended; reading its values$/m, 0, 'tune', 'search', spec('between.yaml', lines(NICE_OF_GUEST, slow)), '--store', store);
  assert.equal(between.code, 130, between.stderr);
  const batch = /^round 1: batch (\d+) ended/m.exec(between.stderr)![1];
  assert.match(between.stderr, new RegExp(`^stopping the search between rounds: nothing is running \\(round 1's batch ${batch} had ended\\); the results so far are kept and no new round starts$`, 'm'));
  assert.doesNotMatch(between.stderr, /cut off|round 2: /);
  assert.match(between.stderr, /^  \S+: batch \d+, values \d/m, 'round 1 counted');
  assert.match(between.stderr, /^1 trial of 1 distinct candidate of the 2 in the space \(1 run in 1 round\), [\d.]+ s, strategy random, ended: interrupted$/m);
});
