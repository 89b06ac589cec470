/**
 * Host key checking against a real sshd: unknown keys are refused with the
 * fingerprint ssh-keygen prints, accepted (and recorded) only when asked; a
 * changed key is refused always. Also: an encrypted key without an agent.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SshExecutor } from '../../src/batch/ssh/index.js';
import { makeClientKey, startSshd } from '../../src/testbed/sshd.js';
import { startNodes, type TestNodes } from './harness.js';

const cleanups: Array<() => Promise<void>> = [];
after(async () => { for (const c of cleanups.reverse()) await c().catch(() => undefined); });

async function nodesWithoutKnownHosts(first: number): Promise<TestNodes> {
  const nodes = await startNodes(1, { firstAddress: first, knownHosts: false });
  cleanups.push(() => nodes.cleanup());
  return nodes;
}

function sshKeygenFingerprint(publicKeyFile: string): string {
  return execFileSync('ssh-keygen', ['-l', '-E', 'sha256', '-f', publicKeyFile], { encoding: 'utf8' }).split(/\s+/)[1]!;
}

test('an unknown host key is refused with its fingerprint and how to accept it', async () => {
  const nodes = await nodesWithoutKnownHosts(60);
  const ex = new SshExecutor({ host: 'node1', settings: nodes.settings });
  cleanups.push(() => ex.close());
  const expected = sshKeygenFingerprint(`${nodes.servers[0]!.hostKeys[0]!.path}.pub`);
  await assert.rejects(ex.exec('true'), (error: Error) => {
    assert.match(error.message, /host key for \[127\.0\.0\.60\]:\d+ is not known/);
    assert.ok(error.message.includes(`ED25519 key fingerprint is ${expected}`), error.message);
    assert.match(error.message, /acceptNewHostKeys: true/);
    assert.match(error.message, /--accept-new-host-keys/);
    return true;
  });
  assert.equal(readFileSync(nodes.knownHostsFile, 'utf8'), '', 'nothing recorded without the opt-in');
});

test('acceptNewHostKeys records the key (then it is known); a changed key is refused even then', async () => {
  const nodes = await nodesWithoutKnownHosts(61);
  const server = nodes.servers[0]!;
  const ex = new SshExecutor({ host: 'node1', settings: { ...nodes.settings, acceptNewHostKeys: true } });
  cleanups.push(() => ex.close());
  assert.equal((await ex.exec('echo accepted')).stdout, 'accepted\n');
  assert.equal(readFileSync(nodes.knownHostsFile, 'utf8').trim(), server.knownHostsLine());
  // OpenSSH itself now knows the host from that file.
  const found = execFileSync('ssh-keygen', ['-F', `[${server.address}]:${server.port}`, '-f', nodes.knownHostsFile], { encoding: 'utf8' });
  assert.match(found, /found/);
  await ex.close();

  // Same address and port, new host key (a reinstalled host or a man in the middle).
  const address = server.address;
  const port = server.port;
  await server.stop();
  const impostor = await startSshd({ address, port, authorizedKeys: [nodes.key.publicKey], dir: join(nodes.dir, 'impostor') });
  cleanups.push(() => impostor.stop());
  for (const acceptNewHostKeys of [false, true]) {
    const again = new SshExecutor({ host: 'node1', settings: { ...nodes.settings, acceptNewHostKeys } });
    cleanups.push(() => again.close());
    await assert.rejects(again.exec('true'), (error: Error) => {
      assert.match(error.message, /REMOTE HOST IDENTIFICATION HAS CHANGED/);
      assert.ok(error.message.includes(sshKeygenFingerprint(`${impostor.hostKeys[0]!.path}.pub`)), error.message);
      assert.match(error.message, /ssh-keygen -R/);
      return true;
    });
  }
  assert.equal(readFileSync(nodes.knownHostsFile, 'utf8').trim(), server.knownHostsLine(), 'the recorded key is untouched');
});

test('hashed known_hosts entries (ssh-keygen -H) are honoured', async () => {
  const nodes = await nodesWithoutKnownHosts(62);
  writeFileSync(nodes.knownHostsFile, `${nodes.servers[0]!.knownHostsLine()}\n`);
  execFileSync('ssh-keygen', ['-q', '-H', '-f', nodes.knownHostsFile]);
  assert.match(readFileSync(nodes.knownHostsFile, 'utf8'), /^\|1\|/);
  const ex = new SshExecutor({ host: 'node1', settings: nodes.settings });
  cleanups.push(() => ex.close());
  assert.equal((await ex.exec('echo hashed-ok')).stdout, 'hashed-ok\n');
});

test('an encrypted key without an agent is a clear message', async () => {
  const nodes = await startNodes(1, { firstAddress: 63 });
  cleanups.push(() => nodes.cleanup());
  const locked = await makeClientKey(join(nodes.dir, 'locked'), { passphrase: 'secret phrase' });
  const config = join(nodes.dir, 'locked_config');
  const s = nodes.servers[0]!;
  writeFileSync(config, `Host locked\n  HostName ${s.address}\n  Port ${s.port}\n  User root\n  IdentityFile ${locked.privateKeyPath}\n`);
  const ex = new SshExecutor({ host: 'locked', settings: { ...nodes.settings, config } });
  cleanups.push(() => ex.close());
  await assert.rejects(ex.exec('true'), (error: Error) => {
    assert.ok(error.message.includes(`the SSH key ${locked.privateKeyPath} is encrypted (has a passphrase) and no ssh-agent is reachable`), error.message);
    assert.match(error.message, /ssh-add/);
    return true;
  });
});

test('with ssh-agent (SSH_AUTH_SOCK) holding the encrypted key, login works', async () => {
  const { spawn } = await import('node:child_process');
  const { chmodSync, existsSync } = await import('node:fs');
  const nodes = await startNodes(1, { firstAddress: 64 });
  cleanups.push(() => nodes.cleanup());
  const locked = await makeClientKey(join(nodes.dir, 'locked'), { passphrase: 'agent phrase' });
  const socket = join(nodes.dir, 'agent.sock');
  const agent = spawn('ssh-agent', ['-D', '-a', socket], { stdio: 'ignore' });
  cleanups.push(async () => { agent.kill('SIGTERM'); });
  for (let i = 0; i < 100 && !existsSync(socket); i++) await new Promise((r) => setTimeout(r, 20));
  const askpass = join(nodes.dir, 'askpass.sh');
  writeFileSync(askpass, "#!/bin/sh\necho 'agent phrase'\n");
  chmodSync(askpass, 0o700);
  execFileSync('ssh-add', [locked.privateKeyPath], {
    env: { ...process.env, SSH_AUTH_SOCK: socket, SSH_ASKPASS: askpass, SSH_ASKPASS_REQUIRE: 'force', DISPLAY: ':0' },
    stdio: 'ignore',
  });
  // Only the agent's key is authorized on this server.
  writeFileSync(join(nodes.servers[0]!.dir, 'authorized_keys'), `${locked.publicKey}\n`);
  const config = join(nodes.dir, 'agent_config');
  const s = nodes.servers[0]!;
  writeFileSync(config, `Host viaagent\n  HostName ${s.address}\n  Port ${s.port}\n  User root\n  IdentityFile ${locked.privateKeyPath}\n`);
  process.env.SSH_AUTH_SOCK = socket;
  try {
    const ex = new SshExecutor({ host: 'viaagent', settings: { ...nodes.settings, config } });
    cleanups.push(() => ex.close());
    assert.equal((await ex.exec('echo agent-ok')).stdout, 'agent-ok\n');
  } finally {
    delete process.env.SSH_AUTH_SOCK;
  }
});
