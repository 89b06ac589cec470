/**
 * A batch on the local testbed resumes after the testbed was brought up
 * again: the config hash counts the testbed's shape (node and guest names),
 * not the facts of one `testbed up` (ports, keys, start time), and --resume
 * uses the testbed that is up now. (The new-user trial found every resumed
 * run failing on the old ports, and the unchanged YAML refused.)
 */
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import { configHash } from '../../src/batch/provenance.js';
import type { ResolvedBatchConfig } from '../../src/batch/config/types.js';

const run = promisify(execFile);
const CLI = resolve('dist/src/cli/main.js');
let dir: string;

/** A testbed machine map as `testbed up` writes one; `up` is what differs between two bring-ups. */
function writeTestbed(up: number, nodes = ['node1']): void {
  const map = `nodes:\n${nodes.map((n) => `  - {name: ${n}, host: local}`).join('\n')}\ntestbed: {accel: tcg, startedAt: ${up}, sshPort: ${40000 + up}}\n`;
  writeFileSync(join(dir, '.expert', 'testbed', 'machines.yaml'), map);
}

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'expert-resume-testbed-'));
  mkdirSync(join(dir, '.expert', 'testbed'), { recursive: true });
  writeFileSync(join(dir, 'naps.yaml'), 'name: naps\nmachines: testbed\ntests:\n  - {name: nap, on: nodes, command: "sleep 1; echo done", repeat: 4}\n');
});
after(() => rmSync(dir, { recursive: true, force: true }));

test('the config hash leaves out what changes with every testbed up, and keeps its nodes and guests', () => {
  const config = (startedAt: number, node: string) =>
    ({ name: 'x', machines: { nodes: [{ name: node, host: '127.0.0.1', port: 40000 + startedAt }], testbed: { startedAt } }, tests: [], policies: [] }) as unknown as ResolvedBatchConfig;
  assert.equal(configHash(config(1, 'node1')), configHash(config(2, 'node1')));
  assert.notEqual(configHash(config(1, 'node1')), configHash(config(1, 'node2')));
});

test('interrupted on one testbed up, resumed on the next: the same YAML is accepted and the rest runs', async () => {
  writeTestbed(1);
  const child = spawn(process.execPath, [CLI, 'run', 'naps.yaml'], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  child.stdout.on('data', (d) => (stdout += d));
  await new Promise((r) => setTimeout(r, 2500));
  child.kill('SIGINT');
  const code = await new Promise<number | null>((done) => child.on('exit', done));
  assert.equal(code, 130);
  const batchId = /batch (\d+)/.exec(stdout)![1]!;

  writeTestbed(2);
  const resumed = await run(process.execPath, [CLI, 'run', '--resume', batchId, 'naps.yaml'], { cwd: dir });
  assert.match(resumed.stderr, /running \d+ run\(s\) again/);
  const { stdout: csv } = await run(process.execPath, [CLI, 'mine', 'sql', `SELECT status FROM batch WHERE batch_id = ${batchId}`, '--format', 'csv'], { cwd: dir });
  assert.equal(csv, 'status\nfinished\n');

  // A testbed with other nodes is not the one the batch ran on.
  writeTestbed(3, ['node1', 'node2']);
  await assert.rejects(run(process.execPath, [CLI, 'run', '--resume', batchId], { cwd: dir }), (e: { code: number; stderr: string }) => {
    assert.equal(e.code, 2);
    assert.match(e.stderr, /other nodes or guests/);
    return true;
  });
});
