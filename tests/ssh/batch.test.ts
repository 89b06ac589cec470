/**
 * Batches over SSH, as a user runs them: a machine map of 3 "nodes" (real
 * sshd on loopback) with a workload and a monitor on each, compared with the
 * same batch run locally; Ctrl-C on `expert run` leaves nothing on the
 * targets; a target whose sshd dies mid-run loses only its own processes.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { openStore } from '../../src/store/store.js';
import type { ExpertStore } from '../../src/store/types.js';
import { parseBatchConfigText } from '../../src/batch/config/index.js';
import { expandPlan } from '../../src/batch/plan/index.js';
import { runBatch } from '../../src/batch/runner/index.js';
import { startNodes, processesWith, waitGone, until, uniqueMarker, type TestNodes } from './harness.js';

let nodes: TestNodes;
let dir: string;
let store: ExpertStore;

before(async () => {
  nodes = await startNodes(3, { firstAddress: 20 });
  dir = mkdtempSync(join(tmpdir(), 'expert-ssh-batch-'));
  store = await openStore(join(dir, 'store.duckdb'));
});

after(async () => {
  await store?.close();
  await nodes?.cleanup();
  rmSync(dir, { recursive: true, force: true });
});

function sshMachines(): string {
  return [
    'machines:',
    '  ssh:',
    `    config: ${nodes.configFile}`,
    `    knownHosts: ${nodes.knownHostsFile}`,
    '  nodes:',
    ...nodes.aliases.map((alias) => `    - {name: ${alias}, host: ${alias}}`),
  ].join('\n');
}

function localMachines(): string {
  return ['machines:', '  nodes:', ...nodes.aliases.map((alias) => `    - {name: ${alias}, host: local}`)].join('\n');
}

async function rows(sql: string, params: unknown[] = []): Promise<Record<string, unknown>[]> {
  const result = await store.query(sql, params);
  return result.rows.map((row) => Object.fromEntries(result.columns.map((c, i) => [c, row[i]])));
}

/** Per process label: status, exit code and every line (stream, bytes as hex). */
async function contents(batchId: number): Promise<Record<string, unknown>> {
  const procs = await rows('SELECT process_id, label, role, status, exit_code FROM process WHERE batch_id = $1 ORDER BY label', [batchId]);
  const out: Record<string, unknown> = {};
  for (const p of procs) {
    const lines = await rows(
      "SELECT seq, stream, coalesce(hex(raw), hex(encode(text))) AS bytes FROM line WHERE process_id = $1 ORDER BY seq",
      [p.process_id],
    );
    out[String(p.label).replace(/@.*$/, '') + '@' + String(p.label).split('@')[1]] = {
      role: p.role,
      status: p.status,
      exit_code: p.exit_code,
      // Order is defined per stream (seq is dense over both; how stdout and stderr interleave is timing).
      lines: p.role === 'monitor' ? lines.length > 0 : ['stdout', 'stderr'].map((stream) => lines.filter((l) => l.stream === stream).map((l) => l.bytes)),
      seq_dense: lines.every((l, i) => Number(l.seq) === i),
    };
  }
  return out;
}

const WORKLOAD = `seq 1 3000; printf 'caf\\303\\251 \\377 raw\\n'; echo "on {node}" >&2; printf 'no newline'`;

function batchText(machines: string, name: string): string {
  return [
    `name: ${name}`,
    machines,
    'monitors:',
    '  - name: ticker',
    '    on: nodes',
    "    command: i=0; while true; do echo tick $i; i=$((i+1)); sleep 0.1; done",
    'tests:',
    '  - name: work',
    '    on: nodes',
    `    command: ${JSON.stringify(WORKLOAD)}`,
    '',
  ].join('\n');
}

test('a batch over 3 SSH nodes (workload + monitor each) stores every line, the same as the local run', async () => {
  const remote = expandPlan(await parseBatchConfigText(batchText(sshMachines(), 'ssh-3-nodes'), { cwd: dir }));
  const local = expandPlan(await parseBatchConfigText(batchText(localMachines(), 'local-3-nodes'), { cwd: dir }));
  const r = await runBatch(remote, { store });
  const l = await runBatch(local, { store });
  assert.equal(r.ok, true, JSON.stringify(r.summary));
  assert.equal(l.ok, true);
  const remoteContents = await contents(r.batchId);
  const localContents = await contents(l.batchId);
  assert.deepEqual(remoteContents, localContents);
  // And the content is what the workload printed: 3000 numbers, the raw line, the stderr line, the last partial line.
  const one = remoteContents[Object.keys(remoteContents).find((k) => k.startsWith('work'))!] as { lines: string[][] };
  assert.equal(one.lines[0]!.length, 3002);
  const rawLine = Buffer.concat([Buffer.from('café ', 'utf8'), Buffer.from([0xff]), Buffer.from(' raw')]);
  assert.equal(one.lines[0]![3000], rawLine.toString('hex').toUpperCase());
  assert.equal(one.lines[1]!.length, 1);
  const ticks = await rows("SELECT count(*) AS n FROM line JOIN process USING (process_id) WHERE batch_id = $1 AND role = 'monitor'", [r.batchId]);
  assert.ok(Number(ticks[0]!.n) >= 3, 'monitors printed while the workloads ran');
  const hosts = await rows('SELECT DISTINCT host FROM process WHERE batch_id = $1 ORDER BY host', [r.batchId]);
  assert.deepEqual(hosts.map((h) => h.host), nodes.aliases);
});

test('a target whose sshd dies mid-run: only its processes are lost, their lines kept; the batch goes on', async () => {
  const marker = uniqueMarker('batch-crash');
  const text = [
    'name: crash-one',
    sshMachines(),
    'tests:',
    '  - name: slow',
    '    on: nodes',
    `    command: "seq 1 5; sleep 4; echo finished; : ${marker}"`,
    '',
  ].join('\n');
  const plan = expandPlan(await parseBatchConfigText(text, { cwd: dir }));
  const running = runBatch(plan, { store });
  await until(() => processesWith(marker).length >= 3, 10_000, 'remote workloads');
  await until(async () => {
    const n = await rows("SELECT count(*) AS n FROM line JOIN process USING (process_id) JOIN batch USING (batch_id) WHERE batch.name = 'crash-one'");
    return Number(n[0]!.n) >= 15;
  }, 10_000, 'first lines stored');
  await nodes.servers[1]!.crash();
  const outcome = await running;
  const procs = await rows(
    'SELECT host, status, error, (SELECT count(*) FROM line l WHERE l.process_id = p.process_id) AS lines FROM process p WHERE batch_id = $1 ORDER BY host',
    [outcome.batchId],
  );
  assert.deepEqual(procs.map((p) => [p.host, p.status, Number(p.lines)]), [
    ['node1', 'exited', 6],
    ['node2', 'lost', 5],
    ['node3', 'exited', 6],
  ]);
  assert.match(String(procs[1]!.error), /connection to node2 .* lost/);
  assert.deepEqual(await waitGone(marker, 8000), [], 'nothing of the lost process survives on its target');
});

test('Ctrl-C on `expert run` over SSH leaves no process on any target', async () => {
  const cli = resolve('dist/src/cli/main.js');
  assert.ok(existsSync(cli), 'build first: npx tsc -p tsconfig.json');
  // The previous test crashed node2's sshd: use node1 and node3.
  const marker = uniqueMarker('ctrl-c');
  const machines = [
    'machines:', '  ssh:', `    config: ${nodes.configFile}`, `    knownHosts: ${nodes.knownHostsFile}`,
    '  nodes:', '    - {name: node1, host: node1}', '    - {name: node3, host: node3}',
  ].join('\n');
  const file = join(dir, 'ctrl-c.yaml');
  writeFileSync(file, [
    'name: ctrl-c', machines,
    'monitors:', '  - name: mon', '    on: nodes', `    command: "while true; do echo m; sleep 0.2; done; : ${marker}"`,
    'tests:', '  - name: long', '    on: nodes', `    command: "sh -c 'sleep 300; : ${marker}' & sleep 300; : ${marker}"`, '',
  ].join('\n'));
  const child = spawn(process.execPath, [cli, 'run', file, '--store', join(dir, 'cli.duckdb')], { stdio: ['ignore', 'pipe', 'pipe'], env: process.env });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => { stderr += d; });
  const exited = new Promise<number | null>((done) => child.once('close', (code) => done(code)));
  try {
    await until(() => processesWith(marker).length >= 6, 15_000, 'monitors and workloads on both targets');
    child.kill('SIGINT');
    assert.equal(await exited, 130, stderr);
  } finally {
    child.kill('SIGKILL');
  }
  assert.deepEqual(await waitGone(marker, 5000), [], 'Ctrl-C stopped everything on the targets');
  const cliStore = await openStore(join(dir, 'cli.duckdb'), { readOnly: true });
  try {
    const result = await cliStore.query('SELECT status, count(*) FROM process GROUP BY status ORDER BY status');
    assert.deepEqual(result.rows.map((r) => [r[0], Number(r[1])]), [['killed', 4]]);
  } finally {
    await cliStore.close();
  }
});

test('an unreachable node fails its own processes with the reason; the others run', async () => {
  const text = [
    'name: unreachable',
    'machines:',
    '  ssh:',
    `    config: ${nodes.configFile}`,
    `    knownHosts: ${nodes.knownHostsFile}`,
    `    identityFile: ${nodes.key.privateKeyPath}`,
    '    connectRetries: 0',
    '  nodes:',
    '    - {name: node1, host: node1}',
    '    - {name: ghost, host: 127.0.0.1, port: 1}',
    'tests:',
    '  - name: hello',
    '    on: nodes',
    '    command: echo hello',
    '',
  ].join('\n');
  const outcome = await runBatch(expandPlan(await parseBatchConfigText(text, { cwd: dir })), { store });
  assert.equal(outcome.ok, false);
  const procs = await rows(
    'SELECT host, status, error, (SELECT count(*) FROM line l WHERE l.process_id = p.process_id) AS lines FROM process p WHERE batch_id = $1 ORDER BY host',
    [outcome.batchId],
  );
  assert.deepEqual(procs.map((p) => [p.host, p.status, Number(p.lines)]), [['ghost', 'failed', 0], ['node1', 'exited', 1]]);
  assert.match(String(procs[0]!.error), /cannot connect to root@127\.0\.0\.1:1: .*ECONNREFUSED/);
});

test('expert run: an unknown host key fails the node\'s processes with the fingerprint; --accept-new-host-keys records it and runs', async () => {
  const { readFileSync } = await import('node:fs');
  const cli = resolve('dist/src/cli/main.js');
  const fresh = await startNodes(1, { firstAddress: 30, knownHosts: false });
  try {
    const file = join(dir, 'accept.yaml');
    writeFileSync(file, [
      'name: accept', 'machines:', '  ssh:', `    config: ${fresh.configFile}`, `    knownHosts: ${fresh.knownHostsFile}`,
      '  nodes:', '    - {name: node1, host: node1}', 'tests:', '  - name: hi', '    on: nodes', '    command: echo hi', '',
    ].join('\n'));
    const run = (extra: string[]) => new Promise<{ code: number | null; out: string }>((done) => {
      const child = spawn(process.execPath, [cli, 'run', file, '--store', join(dir, 'accept.duckdb'), '--format', 'csv', ...extra], { stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      child.stdout!.on('data', (d: Buffer) => { out += d; });
      child.stderr!.on('data', (d: Buffer) => { out += d; });
      child.once('close', (code) => done({ code, out }));
    });
    const refused = await run([]);
    assert.equal(refused.code, 1, refused.out);
    assert.match(refused.out, /host key for \[127\.0\.0\.30\]:\d+ is not known \(ED25519 key fingerprint is SHA256:/);
    assert.match(refused.out, /--accept-new-host-keys/);
    assert.equal(readFileSync(fresh.knownHostsFile, 'utf8'), '');
    const accepted = await run(['--accept-new-host-keys']);
    assert.equal(accepted.code, 0, accepted.out);
    assert.equal(readFileSync(fresh.knownHostsFile, 'utf8').trim(), fresh.servers[0]!.knownHostsLine());
    const again = await run([]);
    assert.equal(again.code, 0, again.out);
  } finally {
    await fresh.cleanup();
  }
});
