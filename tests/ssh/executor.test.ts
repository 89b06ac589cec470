/**
 * The SSH executor against real OpenSSH servers on loopback (this machine is
 * the "remote": `ps`/proc checks see the remote processes).
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { OutputLine } from '../../src/batch/executor.js';
import { SshExecutor } from '../../src/batch/ssh/index.js';
import { commandLine } from '../../src/shell.js';
import { descendants } from '../../src/batch/process-tree.js';
import { startNodes, processesWith, waitGone, until, uniqueMarker, type TestNodes } from './harness.js';

let nodes: TestNodes;
const executors: SshExecutor[] = [];

function executor(host: string, extra: Record<string, unknown> = {}): SshExecutor {
  const e = new SshExecutor({ host, settings: { ...nodes.settings, ...extra } });
  executors.push(e);
  return e;
}

function collect(): { lines: OutputLine[]; sink: (l: OutputLine) => void; text(stream?: string): string[] } {
  const lines: OutputLine[] = [];
  return {
    lines,
    sink: (l) => lines.push(l),
    text: (stream = 'stdout') => lines.filter((l) => l.stream === stream).map((l) => l.bytes.toString('utf8')),
  };
}

function processGroupAndSession(pid: number): [number, number] {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return [Number(fields[2]), Number(fields[3])];
}

before(async () => {
  nodes = await startNodes(2);
});

after(async () => {
  await Promise.all(executors.map((e) => e.close().catch(() => undefined)));
  await nodes?.cleanup();
});

test('output arrives byte for byte, without the PID marker; exit code and stderr recorded', async () => {
  const ex = executor('node1');
  const out = collect();
  const proc = await ex.start({ command: `printf 'one\\r\\n\\377\\376bytes\\n\\nlast-no-newline'; printf 'err\\n' >&2; exit 3` }, out.sink);
  const info = await proc.wait();
  assert.equal(info?.status, 'exited');
  assert.equal(info?.exitCode, 3);
  assert.equal(info?.signal, null);
  const stdout = out.lines.filter((l) => l.stream === 'stdout').map((l) => l.bytes);
  assert.deepEqual(stdout, [Buffer.from('one\r'), Buffer.from([0xff, 0xfe, ...Buffer.from('bytes')]), Buffer.alloc(0), Buffer.from('last-no-newline')]);
  assert.deepEqual(out.text('stderr'), ['err']);
  assert.ok(typeof proc.pid === 'number' && proc.pid > 1);
});

test('the remote program is its own process group and session leader (pid = pgid = sid)', async () => {
  const ex = executor('node1');
  const proc = await ex.start({ command: 'sleep 30' }, () => undefined);
  try {
    assert.deepEqual(processGroupAndSession(proc.pid!), [proc.pid, proc.pid]);
  } finally {
    await proc.kill({ graceMs: 500 });
  }
});

test('stdin, environment and working folder; exec() collects a short command', async () => {
  const ex = executor('node1');
  const out = collect();
  const proc = await ex.start({ command: 'cat; printf "%s|%s|%s\\n" "$X" "$LC_ALL" "$(pwd)"', stdin: true, env: { X: `it's $(x) "q"`, LC_ALL: 'C' }, cwd: '/tmp' }, out.sink);
  await proc.write('alpha\nbeta\n');
  await proc.write(Buffer.from('gamma'));
  await proc.closeStdin();
  const info = await proc.wait();
  assert.equal(info?.exitCode, 0);
  assert.deepEqual(out.text(), ['alpha', 'beta', `gamma${`it's $(x) "q"`}|C|/tmp`]);

  const result = await ex.exec('tr a-z A-Z; exit 4', { stdin: 'shout\n' });
  assert.deepEqual(result, { exitCode: 4, signal: null, stdout: 'SHOUT\n', stderr: '' });
  const slow = await ex.exec('sleep 30', { timeoutMs: 300 });
  assert.equal(slow.exitCode, null);
  assert.equal(slow.signal, 'SIGTERM');
  assert.match(slow.stderr, /timed out after 300 ms/);
});

test('a program killed by a signal reports the signal name', async () => {
  const ex = executor('node1');
  const proc = await ex.start({ command: 'kill -USR1 $$' }, () => undefined);
  const info = await proc.wait();
  assert.equal(info?.status, 'exited');
  assert.equal(info?.signal, 'SIGUSR1');
  assert.equal(info?.exitCode, null);
});

test('kill stops the whole remote tree, also children that ignore SIGTERM or left the session', async () => {
  const ex = executor('node1');
  const marker = uniqueMarker('kill');
  const out = collect();
  // Three ways to be in the tree: the group, a child ignoring SIGTERM, a child in a new session (setsid).
  const proc = await ex.start({ command: `echo up; sh -c 'trap "" TERM; sleep 300; : ${marker}' & setsid sh -c 'sleep 300; : ${marker}' & sleep 300; : ${marker}` }, out.sink);
  await until(() => out.text().includes('up'), 5000, 'first line');
  await until(() => processesWith(marker).length >= 3, 5000, 'remote processes');
  await proc.kill({ graceMs: 700 });
  const info = await proc.wait();
  assert.equal(info?.status, 'killed');
  assert.deepEqual(await waitGone(marker, 5000), [], 'no process of the killed command is left');
  assert.deepEqual(out.text(), ['up']);
});

test('hostile names and values run literally (no command that was not meant runs)', async () => {
  const ex = executor('node1');
  const tag = `pwned-${process.pid}-${Date.now()}`;
  const flag = `/tmp/${tag}`;
  const hostile = [
    `$(touch ${flag}-a)`, `\`touch ${flag}-b\``, `; touch ${flag}-c`, `' ; touch ${flag}-d; '`, `" $(touch ${flag}-e) "`,
    `line1\nline2 && touch ${flag}-f`, 'non-ASCII: Grüße, 東京, ☃', '*', '$HOME', '\\',
  ];
  // A folder name cannot hold '/': its payload would create `${tag}-g` in whatever folder the shell is in.
  const dir = join(nodes.dir, `dir '$(touch ${tag}-g)' ;`);
  mkdirSync(dir);
  const out = collect();
  const command = `${commandLine(['printf', '[%s]\\n', ...hostile])}; printf '%s\\n' "$HOSTILE"; pwd`;
  const proc = await ex.start({ command, env: { HOSTILE: `$(touch ${flag}-h)` }, cwd: dir }, out.sink);
  assert.equal((await proc.wait())?.exitCode, 0);
  assert.deepEqual(out.text().join('\n'), [...hostile.map((h) => `[${h}]`), `$(touch ${flag}-h)`, dir].join('\n'));
  for (const suffix of 'abcdefh') assert.equal(existsSync(`${flag}-${suffix}`), false, `${flag}-${suffix} must not exist`);
  for (const folder of [dir, nodes.dir, process.env.HOME!, '/root', '/tmp']) assert.equal(existsSync(join(folder, `${tag}-g`)), false);
});

test('30 concurrent channels against MaxSessions 10 all run (queued, extra connections)', async () => {
  const ex = executor('node2');
  const procs = await Promise.all(Array.from({ length: 30 }, (_, i) => {
    const out = collect();
    return ex.start({ command: `sleep 0.3; echo ${i}` }, out.sink).then((p) => ({ p, out }));
  }));
  const infos = await Promise.all(procs.map(({ p }) => p.wait()));
  assert.ok(infos.every((i) => i?.status === 'exited' && i.exitCode === 0), JSON.stringify(infos.filter((i) => i?.exitCode !== 0)));
  assert.deepEqual(procs.map(({ out }) => out.text()[0]), Array.from({ length: 30 }, (_, i) => String(i)));
  assert.ok(ex.connections >= 3, `expected several connections, got ${ex.connections}`);
});

test('a server whose MaxSessions is lower than configured: channels queue, none fails', async () => {
  const small = await startNodes(1, { maxSessions: 2, firstAddress: 40 });
  try {
    const ex = new SshExecutor({ host: 'node1', settings: { ...small.settings, maxConnectionsPerHost: 1 } });
    try {
      const results = await Promise.all(Array.from({ length: 8 }, (_, i) => ex.exec(`sleep 0.2; echo ${i}`)));
      assert.deepEqual(results.map((r) => r.stdout), Array.from({ length: 8 }, (_, i) => `${i}\n`));
      assert.equal(ex.connections, 1);
    } finally {
      await ex.close();
    }
  } finally {
    await small.cleanup();
  }
});

test('when the client dies, nothing it started survives on the target', async () => {
  const marker = uniqueMarker('client-dies');
  const helper = join(import.meta.dirname, 'helpers', 'hold-remote.ts');
  const child = spawn(process.execPath, ['--import', 'tsx', helper, 'node1', JSON.stringify(nodes.settings), `setsid sh -c 'sleep 300; : ${marker}' & sleep 300; : ${marker}`], {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: process.env,
  });
  try {
    const started = await new Promise<string>((resolve, reject) => {
      let text = '';
      child.stdout!.on('data', (d: Buffer) => { text += d; if (text.includes('\n')) resolve(text); });
      child.once('exit', () => reject(new Error(`helper exited early: ${text}`)));
    });
    assert.match(started, /^started \d+/);
    await until(() => processesWith(marker).length >= 2, 5000, 'remote processes');
  } finally {
    child.kill('SIGKILL');
  }
  assert.deepEqual(await waitGone(marker, 8000), [], 'the watchdog stops the group when the session is gone');
});

test('a server dying mid-run marks only its processes lost, keeps their lines; the other host goes on', async () => {
  const extra = await startNodes(1, { firstAddress: 50 });
  try {
    const doomed = new SshExecutor({ host: 'node1', settings: { ...extra.settings, keepaliveIntervalMs: 500 } });
    const healthy = executor('node2');
    const marker = uniqueMarker('crash');
    const doomedOut = collect();
    const healthyOut = collect();
    const a = await doomed.start({ command: `seq 1 3; sleep 300; : ${marker}` }, doomedOut.sink);
    const b = await healthy.start({ command: `seq 1 3; read x; echo after; : ${marker}-ok`, stdin: true }, healthyOut.sink);
    await until(() => doomedOut.text().length === 3 && healthyOut.text().length === 3, 5000, 'lines');
    await extra.servers[0]!.crash();
    const info = await a.wait(10_000);
    assert.equal(info?.status, 'lost');
    assert.match(info!.error!, /lost/);
    assert.deepEqual(doomedOut.text(), ['1', '2', '3']);
    await b.write('go\n');
    const other = await b.wait(5000);
    assert.equal(other?.status, 'exited');
    assert.deepEqual(healthyOut.text(), ['1', '2', '3', 'after']);
    assert.deepEqual(await waitGone(marker, 8000), [], 'the lost process does not outlive its session');
    await doomed.close();
  } finally {
    await extra.cleanup();
  }
});

test('an unreachable host fails with the reason; other hosts are not affected', async () => {
  // Port 1 on loopback: nothing listens there.
  const refused = new SshExecutor({ host: '127.0.0.1', port: 1, settings: { ...nodes.settings, identityFile: nodes.key.privateKeyPath, connectRetries: 1, retryDelayMs: 50 } });
  executors.push(refused);
  await assert.rejects(refused.start({ command: 'true' }, () => undefined), /cannot connect to root@127\.0\.0\.1:1.*ECONNREFUSED.*\(2 attempts\)/);
  const ok = await executor('node2').exec('echo fine');
  assert.equal(ok.stdout, 'fine\n');
});

test('ProxyJump: node2 reached through node1 (the TCP connection to node2 belongs to node1\'s sshd)', async () => {
  const { writeFileSync } = await import('node:fs');
  const config = join(nodes.dir, 'jump_config');
  const [s1, s2] = nodes.servers;
  writeFileSync(config, [
    'Host behind',
    `  HostName ${s2!.address}`,
    `  Port ${s2!.port}`,
    '  User root',
    `  IdentityFile ${nodes.key.privateKeyPath}`,
    `  ProxyJump root@${s1!.address}:${s1!.port}`,
    `Host ${s1!.address}`,
    `  IdentityFile ${nodes.key.privateKeyPath}`,
    '',
  ].join('\n'));
  const ex = new SshExecutor({ host: 'behind', settings: { ...nodes.settings, config } });
  executors.push(ex);
  const result = await ex.exec('echo "$SSH_CLIENT"');
  const [clientAddress, clientPort] = result.stdout.trim().split(' ');
  assert.ok(clientAddress && clientPort, result.stdout);
  const owner = execFileSync('ss', ['-Htnp', 'state', 'established', 'src', `${clientAddress}:${clientPort}`], { encoding: 'utf8' });
  assert.match(owner, /"sshd"/, `the tunnel's source socket should belong to node1's sshd: ${owner}`);
  assert.doesNotMatch(owner, /"node"/);
});

test('started by a server that did not setsid, the wrapper makes the program its own session and group leader', async () => {
  const { remoteCommand, PID_MARKER } = await import('../../src/batch/ssh/index.js');
  // Run the remote command line locally from a shell that leads nothing (it is in this test's group).
  const child = spawn('/bin/sh', ['-c', remoteCommand({ command: 'sleep 30' })], { stdio: ['ignore', 'pipe', 'inherit'] });
  try {
    const first = await new Promise<string>((resolve) => child.stdout!.once('data', (d: Buffer) => resolve(d.toString())));
    assert.ok(first.startsWith(PID_MARKER), first);
    const pid = Number(first.slice(PID_MARKER.length).trim());
    assert.equal(pid, child.pid, 'same PID: setsid re-execs without forking');
    assert.deepEqual(processGroupAndSession(pid), [pid, pid]);
  } finally {
    try { process.kill(-child.pid!, 'SIGKILL'); } catch { child.kill('SIGKILL'); }
  }
});

test('nothing hangs: a server that never speaks SSH times out; a stalled connection is declared lost by keepalive', async () => {
  const { createServer } = await import('node:net');
  const silent = createServer(() => undefined);
  await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
  const port = (silent.address() as { port: number }).port;
  try {
    const ex = new SshExecutor({ host: '127.0.0.1', port, settings: { ...nodes.settings, identityFile: nodes.key.privateKeyPath, connectTimeoutMs: 600, connectRetries: 0 } });
    executors.push(ex);
    const started = Date.now();
    await assert.rejects(ex.exec('true'), /timed out after 600 ms/);
    assert.ok(Date.now() - started < 5000);
  } finally {
    silent.close();
  }

  // Freeze a server's connection processes: TCP stays up, nothing answers; keepalive notices.
  const frozen = await startNodes(1, { firstAddress: 70 });
  const stopped: number[] = [];
  try {
    const ex = new SshExecutor({ host: 'node1', settings: { ...frozen.settings, keepaliveIntervalMs: 300, keepaliveCountMax: 2 } });
    const marker = uniqueMarker('frozen');
    const out = collect();
    const proc = await ex.start({ command: `echo before; sleep 300; : ${marker}` }, out.sink);
    await until(() => out.text().length === 1, 5000, 'first line');
    const sshdPids = descendants(frozen.servers[0]!.pid).filter((pid) => readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === 'sshd');
    for (const pid of sshdPids) { process.kill(pid, 'SIGSTOP'); stopped.push(pid); }
    const info = await proc.wait(5000);
    assert.equal(info?.status, 'lost');
    assert.deepEqual(out.text(), ['before']);
    for (const pid of stopped.splice(0)) process.kill(pid, 'SIGCONT');
    assert.deepEqual(await waitGone(marker, 8000), [], 'the session ends once sshd runs again and sees the closed connection');
    await ex.close();
  } finally {
    for (const pid of stopped) try { process.kill(pid, 'SIGCONT'); } catch { /* gone */ }
    await frozen.cleanup();
  }
});

test('processes beyond every connection\'s slots queue (not bounded by startTimeoutMs); a command that never starts fails', async () => {
  const ex = executor('node2', { maxConnectionsPerHost: 1, startTimeoutMs: 300 });
  const results = await Promise.all(Array.from({ length: 12 }, (_, i) => ex.exec(`sleep 0.6; echo ${i}`)));
  assert.deepEqual(results.map((r) => r.stdout), Array.from({ length: 12 }, (_, i) => `${i}\n`));

  // ForceCommand replaces our wrapper: its PID line never comes.
  const forced = await startNodes(1, { firstAddress: 75, extraConfig: ['ForceCommand sleep 30'] });
  try {
    const stuck = new SshExecutor({ host: 'node1', settings: { ...forced.settings, startTimeoutMs: 500 } });
    const proc = await stuck.start({ command: 'echo never' }, () => undefined);
    const info = await proc.wait(5000);
    assert.equal(info?.status, 'failed');
    assert.match(info!.error!, /did not start on node1 within 500 ms/);
    await stuck.close();
  } finally {
    await forced.cleanup();
  }
});
