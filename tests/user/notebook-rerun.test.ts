/**
 * A researcher re-runs a notebook all day: Run All of 01-quickstart, then Run
 * All again, in the same kernel (through Debian's Jupyter client), at the
 * smallest sizes. The first run brings the testbed up and takes it down; the
 * second brings up a new one (new client key, new host keys at the same
 * paths) and must run its batch as well as the first did. `%testbed up`
 * shows its progress in a display and its guests as an HTML table, not on
 * stderr.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import { injectParameters, type Notebook } from '../../kernel-extensions/notebook/parameters.js';
import { driveKernel, htmlOf, installTestKernel, streamText, type CellResult } from '../helpers/kernel.js';
import { pgrep, until } from '../helpers/processes.js';

const run = promisify(execFile);
const ROOT = resolve(import.meta.dirname, '..', '..');
const NOTEBOOKS = join(ROOT, 'notebooks');
const CLI = join(ROOT, 'dist', 'src', 'cli', 'main.js');

let dir: string;
let env: NodeJS.ProcessEnv;
const testbedDir = () => join(dir, 'testbed');

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'expert-rerun-'));
  env = { ...(await installTestKernel(dir)), EXPERT_TESTBED_DIR: testbedDir() };
  delete env.EXPERT_STORE;
});

after(async () => {
  if (dir && existsSync(testbedDir())) await run(process.execPath, [CLI, 'testbed', 'down'], { env, cwd: dir }).catch(() => {});
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function codeCells(name: string, parameters: Record<string, unknown>): string[] {
  const notebook = injectParameters(JSON.parse(readFileSync(join(NOTEBOOKS, name), 'utf8')) as Notebook, parameters);
  return notebook.cells.filter((c) => c.cell_type === 'code').map((c) => (Array.isArray(c.source) ? c.source.join('') : c.source));
}

test('01-quickstart: Run All twice in one kernel, the second batch runs as the first did', async () => {
  const cells = codeCells('01-quickstart.ipynb', { guests: 1, size: '1m', reps: 1, store: join(dir, 'quickstart.duckdb') });
  const results = await driveKernel(NOTEBOOKS, [...cells, ...cells], env, { timeoutMs: 1_500_000, extra: ['--cell-timeout', '600'] });
  assert.equal(results.length, 2 * cells.length);
  const runs = [results.slice(0, cells.length), results.slice(cells.length)];
  const at = (prefix: string) => cells.findIndex((c) => c.startsWith(prefix));
  // Every cell of both runs first: a failure of the second run's batch is the defect this test is about.
  for (const [n, cellsOfRun] of runs.entries()) {
    for (const [i, r] of cellsOfRun.entries()) {
      assert.equal(r.status, 'ok', `run ${n + 1}, cell ${i}:\n${cells[i]}\n→ ${JSON.stringify(r.outputs).slice(0, 3000)}`);
    }
    const batch: CellResult = cellsOfRun[at('%%batch')]!;
    assert.match(streamText(batch, 'stdout'), /batch \d+ finished: 2 of 2 workloads succeeded/, `run ${n + 1}`);
  }
  for (const [n, cellsOfRun] of runs.entries()) {
    const up: CellResult = cellsOfRun[at('%testbed up')]!;
    assert.equal(streamText(up, 'stderr'), '', `run ${n + 1}: %testbed up writes nothing to stderr`);
    assert.match(htmlOf(up), /<table[\s\S]*vm1/, `run ${n + 1}: the guests as an HTML table`);
    assert.ok(up.outputs.some((o) => o.type === 'update_display_data'), `run ${n + 1}: progress updates one display in place`);
  }
  const processesOfOurTestbed = () => pgrep(testbedDir());
  await until(() => processesOfOurTestbed().length === 0, 30_000);
  assert.deepEqual(processesOfOurTestbed(), [], 'the second run took its testbed down too');
});
