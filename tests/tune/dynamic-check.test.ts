/**
 * A `dynamic:` policy the climb could never use is refused at load (exit 2 at
 * the key, with a did-you-mean) or warned about when the run starts, instead
 * of a run that silently makes no move: a monitor column the vmstat parser
 * does not give, a perf event the perf monitor does not count, a window
 * shorter than the monitor's interval, a guest not in the machine map or not
 * running, a CPU not online (and then never tried). Real loader, real paused
 * QEMU guests, real vmstat.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { parseBatchConfigText } from '../../src/batch/config/index.js';
import { expandPlan } from '../../src/batch/plan/index.js';
import { runBatch } from '../../src/batch/runner/index.js';
import { defaultHooks } from '../../src/batch/runner/default-hooks.js';
import { ConfigError } from '../../src/errors.js';
import { vmstatParser } from '../../src/mine/parsers/vmstat.js';
import { climbPolicyLines, withGuestAndStore } from './guests.js';

const yaml = (o: { monitors?: string[]; vms?: string[]; policy: string[]; sleep?: number }) =>
  [
    'name: check',
    `machines: {nodes: [{name: n1, host: local, vms: [${(o.vms ?? ['vm1', 'vm2']).map((v) => `{name: ${v}}`).join(', ')}]}]}`,
    ...(o.monitors?.length ? ['monitors:', ...o.monitors.flatMap((c, i) => [`  - name: m${i}`, '    on: nodes', `    command: ${JSON.stringify(c)}`])] : []),
    'tests:',
    '  - name: wait',
    '    on: nodes',
    `    command: sleep ${o.sleep ?? 1}`,
    'policies:',
    ...o.policy,
    '',
  ].join('\n');

/** The ConfigError loading `text` gives: exit 2, at `line` of the file, its message. */
async function refused(text: string, line: number): Promise<string> {
  try {
    await parseBatchConfigText(text, { file: 'b.yaml', env: {} });
  } catch (e) {
    assert.ok(e instanceof ConfigError, String(e));
    assert.equal(e.exitCode, 2);
    assert.equal(e.position.line, line, e.message);
    return e.message;
  }
  assert.fail('expected a ConfigError');
}

const VMSTAT = 'vmstat -n 1';
const PERF = 'perf stat -x, -I 1000 -e cache-misses,context-switches -a';
// Lines: without monitors the objective is on 11, interval 12, cpus 15, guests 17; monitors add their 3 lines each and `monitors:` once (1 monitor: +4, 2: +7).

test('load: a monitor-column objective names a column the vmstat parser gives, or an event the perf monitor counts', async () => {
  const lines = (objective: string, monitors = [VMSTAT, PERF]) => yaml({ monitors, policy: climbPolicyLines('vm1', { objective, interval: '2s' }) });
  const typo = await refused(lines('vmstat_css'), 18);
  assert.match(typo, /policies\[0\]\.dynamic\.objective: no vmstat column `css`/);
  assert.match(typo, /did you mean `vmstat_cs`\?/);
  // Every numeric column of the parser's definition is accepted (the list is the parser's, not one kept beside it).
  const numeric = vmstatParser.columns.filter((c) => c.type === 'BIGINT').map((c) => c.name);
  assert.ok(numeric.includes('free') && numeric.includes('st'));
  for (const column of numeric) await parseBatchConfigText(lines(`vmstat_${column}`), { file: 'b.yaml', env: {} });
  for (const column of numeric) assert.ok(typo.includes(`vmstat_${column}`), `the message lists vmstat_${column}`);

  const perf = await refused(lines('perf_context_switch'), 18);
  assert.match(perf, /dynamic\.objective: no perf event gives `perf_context_switch`: the perf monitor `m1` counts \(-e\) perf_cache_misses, perf_context_switches; did you mean `perf_context_switches`\?/);
  assert.match(await refused(lines('perf_cycles'), 18), /add the event to -e, or use one of: perf_cache_misses, perf_context_switches/);
  await parseBatchConfigText(lines('perf_cache_misses'), { file: 'b.yaml', env: {} });
  // perf's default events depend on the machine: without -e the event is not checked at load.
  await parseBatchConfigText(lines('perf_cycles', ['perf stat -x, -I 1000 -a']), { file: 'b.yaml', env: {} });
  // No perf monitor at all: the run-start warning says so (below), not a load error.
  await parseBatchConfigText(lines('perf_cycles', [VMSTAT]), { file: 'b.yaml', env: {} });
});

test('load: the window is at least the monitor\'s own interval; named guests exist; CPU choices parse', async () => {
  const short = await refused(yaml({ monitors: [VMSTAT], policy: climbPolicyLines('vm1', { objective: 'vmstat_cs', interval: '500ms' }) }), 16);
  assert.match(short, /dynamic\.interval: interval 500ms is shorter than the vmstat monitor's own interval \(1 s, `vmstat -n 1`\): windows would often hold no sample; use an interval of at least 1s/);
  assert.match(await refused(yaml({ monitors: ['perf stat -x, -I 2000 -e cs -a'], policy: climbPolicyLines('vm1', { objective: 'perf_cs', interval: '1s' }) }), 16), /shorter than the perf monitor's own interval \(2 s/);
  assert.match(await refused(yaml({ monitors: ['perf stat -x, -e cs -a'], policy: climbPolicyLines('vm1', { objective: 'perf_cs', interval: '1s' }) }), 16), /perf monitor `perf stat -x, -e cs -a` prints none \(no -I: totals at the end\); give perf stat an interval, e.g. `-I 1000`/);
  // The window does not matter for a /proc objective; a monitor interval a placeholder decides is not checked.
  await parseBatchConfigText(yaml({ monitors: [VMSTAT], policy: climbPolicyLines('vm1', { objective: 'cpu_pct', interval: '300ms' }) }), { file: 'b.yaml', env: {} });
  await parseBatchConfigText(yaml({ monitors: ['vmstat -n {rep}'], policy: climbPolicyLines('vm1', { objective: 'vmstat_cs', interval: '300ms' }) }), { file: 'b.yaml', env: {} });

  assert.match(await refused(yaml({ policy: climbPolicyLines('vm9') }), 17), /policies\[0\]\.dynamic\.guests\[0\]: no guest named `vm9` in the machine map; did you mean `vm1`\?/);
  assert.match(await refused(yaml({ policy: climbPolicyLines('vm1', { cpus: ['any', '"0-x"'] }) }), 15), /policies\[0\]\.dynamic\.cpus\[1\]: not a CPU list: '0-x'/);
});

test('run start: a named guest not running and a CPU not online are warned about; the climb never pins to that CPU', { timeout: 120_000 }, async () => {
  const name = `climbchk-${process.pid}`;
  const ghost = `ghost-${process.pid}`;
  await withGuestAndStore(name, { smp: 1, iothreads: 0 }, async ({ dir, guest: g, store }) => {
    const policy = climbPolicyLines(name, { moves: ['pin'], cpus: ['any', 0, 4095] }).map((l) => (l.includes('guests:') ? `      guests: [${name}, ${ghost}]` : l));
    const plan = expandPlan(await parseBatchConfigText(yaml({ vms: [name, ghost], policy, sleep: 4 }), { file: 'b.yaml', cwd: dir, env: {} }));
    const warnings: string[] = [];
    const outcome = await runBatch(plan, { store, hooks: defaultHooks(plan, { journalPath: join(dir, 'journal.json') }), onEvent: (e) => e.type === 'warning' && warnings.push(e.message) });
    assert.equal(outcome.ok, true);
    const said = warnings.join('\n');
    assert.match(said, new RegExp(`policy 'climb': dynamic\\.guests: \`${ghost}\` is not running on the run's node \\(n1; found: [^)]*${name}`));
    assert.match(said, /policy 'climb': dynamic\.cpus: `4095` names a CPU not online on n1 \(online: 0[,)0-9 ]*\): the climb leaves it out/);
    const moves = await store.query(`SELECT "before"::VARCHAR, "after"::VARCHAR FROM dynamic_move WHERE batch_id = $1`, [outcome.batchId]);
    assert.ok(moves.rows.length >= 2, 'the climb still moves the running guest between the CPUs that are online');
    for (const row of moves.rows) for (const s of row) assert.doesNotMatch(String(s), /4095/, 'never pinned to an offline CPU');
    const left = await store.query(`SELECT count(*)::INTEGER FROM tuning WHERE restored_at IS NULL`);
    assert.equal(left.rows[0]![0], 0, 'nothing left tuned');
  });
});

test('run start: a perf_* objective with no perf monitor is warned about, like vmstat', { timeout: 60_000 }, async () => {
  const name = `climbperf-${process.pid}`;
  await withGuestAndStore(name, { smp: 1, iothreads: 0 }, async ({ dir, guest: g, store }) => {
    const plan = expandPlan(await parseBatchConfigText(yaml({ vms: [name], monitors: [VMSTAT], policy: climbPolicyLines(name, { objective: 'perf_context_switches', interval: '1s' }) }), { file: 'b.yaml', cwd: dir, env: {} }));
    const warnings: string[] = [];
    const outcome = await runBatch(plan, { store, hooks: defaultHooks(plan, { journalPath: join(dir, 'journal.json') }), onEvent: (e) => e.type === 'warning' && warnings.push(e.message) });
    assert.equal(outcome.ok, true);
    assert.ok(warnings.some((w) => /dynamic\.objective perf_context_switches is read from a perf monitor, and this batch has none .*: the climb will make no move/.test(w)), warnings.join('\n'));
  });
});

test('a climb on a vmstat column the live views do not show (vmstat_free) measures it', { timeout: 120_000 }, async () => {
  const name = `climbfree-${process.pid}`;
  await withGuestAndStore(name, { smp: 1, iothreads: 0 }, async ({ dir, guest: g, store }) => {
    const policy = climbPolicyLines(name, { objective: 'vmstat_free', interval: '1500ms', moves: ['nice'], cpus: null });
    const plan = expandPlan(await parseBatchConfigText(yaml({ vms: [name], monitors: [VMSTAT], policy, sleep: 9 }), { file: 'b.yaml', cwd: dir, env: {} }));
    const outcome = await runBatch(plan, { store, hooks: defaultHooks(plan, { journalPath: join(dir, 'journal.json') }) });
    assert.equal(outcome.ok, true);
    const moves = await store.query(`SELECT objective_before, objective_after FROM dynamic_move WHERE batch_id = $1`, [outcome.batchId]);
    assert.ok(moves.rows.length >= 1, 'at least one move in 9 s of 1.5 s windows');
    const free = await store.query(`SELECT min(free)::DOUBLE, max(free)::DOUBLE FROM parsed.vmstat x JOIN process p USING (process_id) WHERE p.batch_id = $1 AND NOT x.since_boot AND NOT x.parse_error`, [outcome.batchId]);
    const [lo, hi] = free.rows[0] as [number, number];
    for (const row of moves.rows) for (const v of row as number[]) assert.ok(v >= lo && v <= hi, `${v} within vmstat's free range [${lo}, ${hi}]`);
  });
});
