import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { LocalExecutor } from '../../src/batch/local-executor.js';
import type { OutputLine } from '../../src/batch/executor.js';
import { pgrep as pids, until } from '../helpers/processes.js';

const executor = new LocalExecutor({ graceMs: 1000 });
after(() => executor.close());

/** A sleep duration nobody else uses, so pgrep finds only our processes. */
function marker(): string {
  return `${900 + Math.floor(Math.random() * 90)}.${process.pid}${Math.floor(Math.random() * 1000)}`;
}

test('streams stdout and stderr line by line, in order, with timestamps and the exit code', async () => {
  const lines: OutputLine[] = [];
  const before = Date.now();
  const proc = await executor.start({ command: 'for i in 1 2 3; do echo out$i; echo err$i >&2; done; printf tail; exit 3' }, (l) => lines.push(l));
  assert.ok(proc.pid && proc.pid > 0);
  const info = await proc.wait();
  assert.equal(info?.status, 'exited');
  assert.equal(info?.exitCode, 3);
  assert.equal(info?.signal, null);
  const text = (stream: string) => lines.filter((l) => l.stream === stream).map((l) => l.bytes.toString());
  assert.deepEqual(text('stdout'), ['out1', 'out2', 'out3', 'tail']);
  assert.deepEqual(text('stderr'), ['err1', 'err2', 'err3']);
  for (const l of lines) assert.ok(l.ts >= before - 1 && l.ts <= Date.now() + 1, `timestamp ${l.ts}`);
});

test('binary output and a 10 MB line arrive byte-exact', async () => {
  const lines: OutputLine[] = [];
  const proc = await executor.start(
    { command: `printf '\\377\\376\\000\\r\\033[1m\\n'; head -c 10485760 /dev/zero | tr '\\0' x; echo; printf '\\303'` },
    (l) => lines.push(l),
  );
  await proc.wait();
  assert.equal(lines.length, 3);
  assert.deepEqual(lines[0]!.bytes, Buffer.from([0xff, 0xfe, 0x00, 0x0d, 0x1b, 0x5b, 0x31, 0x6d]));
  assert.equal(lines[1]!.bytes.length, 10 * 1024 * 1024);
  assert.ok(lines[1]!.bytes.every((b) => b === 0x78));
  assert.deepEqual(lines[2]!.bytes, Buffer.from([0xc3]));
});

test('writes stdin when asked, and sees LC_ALL from env', async () => {
  const lines: OutputLine[] = [];
  const proc = await executor.start({ command: 'echo "$LC_ALL"; tr a-z A-Z', stdin: true, env: { LC_ALL: 'C' } }, (l) => lines.push(l));
  await proc.write('hello\nworld\n');
  await proc.closeStdin();
  const info = await proc.wait(5000);
  assert.equal(info?.exitCode, 0);
  assert.deepEqual(lines.map((l) => l.bytes.toString()), ['C', 'HELLO', 'WORLD']);
});

test('wait with a timeout returns undefined while running; kill gives status killed and the signal', async () => {
  const m = marker();
  const proc = await executor.start({ command: `sleep ${m}` }, () => {});
  assert.equal(await proc.wait(200), undefined);
  await proc.kill();
  const info = await proc.wait(100);
  assert.equal(info?.status, 'killed');
  assert.equal(info?.signal, 'SIGTERM');
  assert.deepEqual(pids(`^sleep ${m}$`), []);
});

test('a process ending by a signal it sent itself is exited with that signal', async () => {
  const proc = await executor.start({ command: 'kill -USR1 $$' }, () => {});
  const info = await proc.wait(5000);
  assert.equal(info?.status, 'exited');
  assert.equal(info?.signal, 'SIGUSR1');
  assert.equal(info?.exitCode, null);
});

test('kill stops the whole tree: background sleeps, a TERM-ignoring child and a child that left the group', async () => {
  const m = marker();
  const command = [
    `sleep ${m} &`,
    `sh -c 'sleep ${m}; true' &`,
    `sh -c 'trap "" TERM; sleep ${m}; true' &`,
    `setsid sleep ${m} &`,
    `echo started; wait`,
  ].join(' ');
  const lines: OutputLine[] = [];
  const proc = await executor.start({ command }, (l) => lines.push(l));
  assert.ok(await until(() => pids(`^sleep ${m}$`).length === 4, 5000), 'all four sleeps started');
  await proc.kill({ graceMs: 500 });
  const info = await proc.wait(100);
  assert.equal(info?.status, 'killed');
  assert.ok(await until(() => pids(`^sleep ${m}$`).length === 0, 2000), `orphans left: ${pids(`^sleep ${m}$`)}`);
  assert.deepEqual(lines.map((l) => l.bytes.toString()), ['started']);
});

test('exec runs a short command and collects its output; a timeout kills it', async () => {
  const ok = await executor.exec('echo hi; echo oops >&2; exit 4');
  assert.deepEqual(ok, { exitCode: 4, signal: null, stdout: 'hi\n', stderr: 'oops\n' });
  const fed = await executor.exec('wc -c', { stdin: 'abcdef' });
  assert.equal(fed.stdout.trim(), '6');
  const m = marker();
  const slow = await executor.exec(`sleep ${m}`, { timeoutMs: 200 });
  assert.equal(slow.exitCode, null);
  assert.match(slow.stderr, /timed out/);
  assert.deepEqual(pids(`^sleep ${m}$`), []);
});

test('kill -9 of the Node process that started a tree leaves no orphans', async () => {
  const m = marker();
  const script = fileURLToPath(new URL('./fixtures/start-and-hang.ts', import.meta.url));
  const child = spawn(process.execPath, ['--import', 'tsx', script, `sleep ${m} & sleep ${m}; true`], { stdio: ['ignore', 'pipe', 'inherit'] });
  try {
    const ready = await new Promise<string>((resolve) => child.stdout!.once('data', (d: Buffer) => resolve(d.toString())));
    assert.match(ready, /started/);
    assert.ok(await until(() => pids(`^sleep ${m}$`).length === 2, 5000), 'both sleeps started');
    child.kill('SIGKILL');
    assert.ok(await until(() => pids(`^sleep ${m}$`).length === 0, 6000), `orphans left: ${pids(`^sleep ${m}$`)}`);
  } finally {
    child.kill('SIGKILL');
    for (const pid of pids(`^sleep ${m}$`)) process.kill(pid, 'SIGKILL');
  }
});
