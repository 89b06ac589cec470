/**
 * `expert compare` end to end: the built CLI on real batches of tiny local
 * workloads (dd reading from a pipe that a `sleep` holds back, so dd's own
 * rate is size / sleep), 3 policies × 2 sizes × 5 repetitions. Every figure of
 * the rows is recomputed in the test by SciPy from the store's dd rates (one
 * workload per run, so a run's value is its rate). A second batch whose policy
 * `b` sleeps longer makes `--threshold 5%` exit 1; a rerun of the first exits 0.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { openStore } from '../../src/store/store.js';
import { rows } from '../helpers/store.js';
import { scipy, close } from '../helpers/scipy.js';

const CLI = resolve('dist/src/cli/main.js');
let dir: string;
let store: string;
const batch: Record<'first' | 'slowed' | 'again', string> = { first: '', slowed: '', again: '' };

interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
}

function cli(args: string[]): Promise<Result> {
  const child = spawn(process.execPath, [CLI, ...args], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((done) => child.on('close', (code) => done({ code, stdout, stderr })));
}

function config(name: string, command: string): string {
  const path = join(dir, `${name}.yaml`);
  writeFileSync(
    path,
    `name: ${name}
machines: {nodes: [{name: local, host: local}]}
tests:
  - name: dd-pipe
    command: ${JSON.stringify(command)}
    params: {size: [262144, 524288]}
    repeat: 5
    parser: dd
policies: [{name: baseline}, {name: a}, {name: b}]
`,
  );
  return path;
}

async function runBatch(name: string, command: string): Promise<string> {
  const result = await cli(['run', config(name, command), '--store', store]);
  assert.equal(result.code, 0, result.stderr);
  return /batch (\d+)/.exec(result.stdout)![1]!;
}

const STEADY = '(sleep 0.3; head -c {size} /dev/zero) | dd of=/dev/null bs=64k';
// Policy b sleeps half as long again: its rate drops by a third.
const SLOWED = 'd=0.3; [ {policy} = b ] && d=0.45; (sleep $d; head -c {size} /dev/zero) | dd of=/dev/null bs=64k';

before(async () => {
  assert.ok(existsSync(CLI), 'build first: npx tsc -p tsconfig.json');
  dir = mkdtempSync(join(tmpdir(), 'expert-cli-compare-'));
  store = join(dir, 'compare.duckdb');
  batch.first = await runBatch('steady', STEADY);
  batch.slowed = await runBatch('slowed', SLOWED);
  batch.again = await runBatch('steady', STEADY);
});

after(() => {
  rmSync(dir, { recursive: true, force: true });
});

async function runRates(batchId: string): Promise<{ run: number; policy: string; size: string; rate: number }[]> {
  const s = await openStore(store, { readOnly: true });
  try {
    const found = await rows(
      s,
      `SELECT p.run, p.policy, json_extract_string(p.params, '$.size') AS size, d.rate_bps AS rate
       FROM parsed.dd d JOIN process p USING (process_id) WHERE p.batch_id = $1 AND NOT d.parse_error ORDER BY p.run`,
      [Number(batchId)],
    );
    return found.map((r) => ({ run: Number(r.run), policy: String(r.policy), size: String(r.size), rate: Number(r.rate) }));
  } finally {
    await s.close();
  }
}

type Row = Record<string, number | string | boolean | null | Record<string, unknown>>;

test('one row per size and policy; every figure as SciPy computes it from the runs', async () => {
  const result = await cli(['compare', batch.first, '--metric', 'dd_rate_bps', '--format', 'json', '--seed', '7', '--store', store]);
  assert.equal(result.code, 0, result.stderr);
  const got = JSON.parse(result.stdout) as Row[];
  assert.match(result.stderr, /Mann–Whitney U.*Holm/, 'the footer (on stderr for json) names the test and the correction');
  const rates = await runRates(batch.first);
  assert.equal(rates.length, 30, '3 policies × 2 sizes × 5 repetitions, one dd each');
  const cells: Record<string, Record<string, number[]>> = {};
  for (const r of rates) ((cells[r.size] ??= {})[r.policy] ??= []).push(r.rate);
  const expected = scipy<Record<string, Record<string, Record<string, number | null>>>>(`
from scipy.stats import binom
def median_ci(x, level=0.95):
    x = np.sort(np.array(x)); n = len(x); a = 1 - level
    k = int(binom.ppf(a / 2, n, 0.5))
    if binom.cdf(k, n, 0.5) > a / 2: k -= 1
    j = max(k + 1, 1)
    return x[j - 1], x[n - j]
res = {}
for size, groups in data.items():
    base = np.array(groups['baseline'])
    raw = {g: stats.mannwhitneyu(v, base, alternative='two-sided', method='auto').pvalue for g, v in groups.items() if g != 'baseline'}
    order = sorted(raw, key=lambda g: raw[g]); m = len(order); running = 0; holm = {}
    for i, g in enumerate(order):
        running = max(running, min(1, (m - i) * raw[g])); holm[g] = running
    res[size] = {}
    for g, v in groups.items():
        v = np.array(v); lo, hi = median_ci(v)
        row = dict(n=len(v), median=np.median(v), ci_low=lo, ci_high=hi, mean=stats.hmean(v))
        if g != 'baseline':
            bs = stats.bootstrap((v, base), lambda x, y, axis: np.median(x, axis=axis) / np.median(y, axis=axis), vectorized=True,
                n_resamples=9999, method='percentile', random_state=np.random.RandomState(7))
            row.update(delta_pct=100 * (np.median(v) / np.median(base) - 1), delta_ci_low=100 * (bs.confidence_interval.low - 1),
                delta_ci_high=100 * (bs.confidence_interval.high - 1), p_raw=raw[g], p_value=holm[g])
        res[size][g] = row
out(res)`, cells);
  assert.equal(got.length, 6, 'one row per (size, policy)');
  for (const row of got) {
    const size = String((row.params as Record<string, unknown>).size);
    const e = expected[size]![String(row.group)]!;
    assert.equal(row.test, 'dd-pipe');
    for (const key of Object.keys(e)) {
      assert.ok(close(Number(row[key]), e[key] as number, 1e-6), `size=${size} ${row.group} ${key}: got ${row[key]}, SciPy ${e[key]}`);
    }
    if (row.group === 'baseline') assert.equal(row.p_value, null);
    else assert.equal(row.significant, (row.p_value as number) < 0.05);
    assert.ok((row.ci_low as number) > 0, 'a positive rate keeps a positive interval');
  }

  const table = await cli(['compare', batch.first, '--metric', 'dd_rate_bps', '--format', 'table', '--store', store]);
  assert.equal(table.code, 0, table.stderr);
  assert.match(table.stdout, /^test\s+params\s+group\s+n\s+median/m);
  assert.match(table.stdout, /# p: two-sided Mann–Whitney U .*Holm-corrected/);
  assert.match(table.stdout, /# unit: the run; a run's dd_rate_bps is the node total/);
});

test('a slowed policy in a second batch: --threshold 5% exits 1 and names the cells; an unchanged rerun exits 0', async () => {
  const slowed = await cli(['compare', batch.first, batch.slowed, '--metric', 'dd_rate_bps', '--threshold', '5%', '--format', 'csv', '--store', store]);
  assert.equal(slowed.code, 1, slowed.stderr);
  assert.match(slowed.stderr, /2 cell\(s\) significantly worse than 'steady' by more than 5%: dd-pipe\[size=262144\] b slowed -\d+(\.\d+)?%; dd-pipe\[size=524288\] b slowed/);
  const csv = slowed.stdout.trim().split('\n').map((l) => l.split(','));
  const header = csv[0]!;
  assert.deepEqual(header.slice(0, 5), ['test', 'params', 'policy', 'group', 'n']);
  const regressions = csv.slice(1).filter((r) => r[header.indexOf('regression')] === 'true').map((r) => `${r[1]} ${r[2]}`);
  assert.deepEqual(regressions, ['size=262144 b', 'size=524288 b']);

  const again = await cli(['compare', batch.first, batch.again, '--metric', 'dd_rate_bps', '--threshold', '5%', '--format', 'csv', '--store', store]);
  assert.equal(again.code, 0, again.stderr + again.stdout);
  assert.equal(again.stdout.trim().split('\n').length, 1 + 2 * 3 * 2, 'one row per size, policy and batch');
});

test('an unknown metric exits 2 listing the summary columns; batches by name and latest', async () => {
  const unknown = await cli(['compare', 'latest', '--metric', 'dd_rate', '--store', store]);
  assert.equal(unknown.code, 2);
  assert.match(unknown.stderr, /unknown metric 'dd_rate': the run summary of batch \d+ has .*dd_rate_bps/);
  const byName = await cli(['compare', 'slowed', '--metric', 'dd_rate_bps', '--by', 'param:size', '--baseline', '262144', '--format', 'json', '--store', store]);
  assert.equal(byName.code, 0, byName.stderr);
  const rowsByName = JSON.parse(byName.stdout) as Row[];
  assert.equal(rowsByName.length, 6, 'one row per policy and size');
  assert.ok(rowsByName.filter((r) => r.group === '524288').every((r) => (r.delta_pct as number) > 50), 'twice the bytes in the same sleep: about twice the rate');
  const badBaseline = await cli(['compare', 'latest', '--metric', 'dd_rate_bps', '--baseline', 'nope', '--store', store]);
  assert.equal(badBaseline.code, 2);
  assert.match(badBaseline.stderr, /--baseline: no group 'nope'; the groups \(by policy\) are baseline, a, b/);
});

test('a gate that compares nothing does not pass, and a baseline without values is not replaced silently', async () => {
  // A batch whose workloads print nothing dd can parse: it has no dd_rate_bps at all.
  const mute = await runBatch('mute', 'true');
  const gate = await cli(['compare', batch.first, mute, '--metric', 'dd_rate_bps', '--threshold', '5%', '--store', store]);
  assert.equal(gate.code, 2, `a regression gate pointed at a batch without the metric: ${gate.stderr}`);
  assert.match(gate.stderr, /batch 'mute' has no run with a value of dd_rate_bps/);
  const reverse = await cli(['compare', mute, batch.first, '--metric', 'dd_rate_bps', '--threshold', '5%', '--store', store]);
  assert.equal(reverse.code, 2, reverse.stderr);
  // Within one batch: the 'baseline' policy's runs lack the figure (its command prints nothing dd reads).
  const partial = await runBatch('partial', "[ {policy} = baseline ] && exit 0; (head -c {size} /dev/zero) | dd of=/dev/null bs=64k");
  const noBase = await cli(['compare', partial, '--metric', 'dd_rate_bps', '--store', store, '--format', 'csv']);
  assert.equal(noBase.code, 2, noBase.stdout);
  assert.match(noBase.stderr, /the baseline: policy 'baseline' has no run with a value of dd_rate_bps/);
  const other = await cli(['compare', partial, '--metric', 'dd_rate_bps', '--baseline', 'a', '--store', store, '--format', 'csv']);
  assert.equal(other.code, 0, other.stderr);
  assert.match(other.stderr, /warning: policy 'baseline' has no run with a value of dd_rate_bps/);
});
