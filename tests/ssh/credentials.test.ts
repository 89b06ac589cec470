/** Which keys are offered, and the messages when none can be: real keys made by ssh-keygen, HOME isolated. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { planAuthentication } from '../../src/batch/ssh/credentials.js';
import { makeClientKey } from '../../src/testbed/sshd.js';
import { UserError } from '../../src/errors.js';

test('the machine map key must exist; an unreadable key is named in the message; a real key is offered', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'expert-cred-'));
  const saved = { home: process.env.HOME, agent: process.env.SSH_AUTH_SOCK };
  process.env.HOME = dir;
  delete process.env.SSH_AUTH_SOCK;
  try {
    const missing = join(dir, 'nope');
    assert.throws(() => planAuthentication('root', [], missing), (e: unknown) =>
      e instanceof UserError && e.message === `identity file ${missing} (machine map ssh.identityFile) does not exist`);

    const garbage = join(dir, 'not-a-key');
    writeFileSync(garbage, 'this is not a private key\n');
    assert.throws(() => planAuthentication('root', [garbage]), (e: unknown) =>
      e instanceof UserError && e.message.includes(`cannot read ${garbage} (`) && !e.message.includes('exists;'));

    const key = await makeClientKey(join(dir, 'keys'));
    const plan = planAuthentication('root', [garbage, key.privateKeyPath]);
    assert.deepEqual(plan.offered, [key.privateKeyPath]);
    assert.deepEqual(plan.methods.map((m) => m.type), ['publickey']);
  } finally {
    process.env.HOME = saved.home;
    if (saved.agent !== undefined) process.env.SSH_AUTH_SOCK = saved.agent;
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a key rewritten at the same path is the new key (as after a second `testbed up` in one kernel)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'expert-cred-'));
  const saved = { home: process.env.HOME, agent: process.env.SSH_AUTH_SOCK };
  process.env.HOME = dir;
  delete process.env.SSH_AUTH_SOCK;
  const offeredPublicKey = (path: string) => {
    const method = planAuthentication('root', [path]).methods[0] as { key: { getPublicSSH(): Buffer } };
    return method.key.getPublicSSH().toString('base64');
  };
  const blobOf = (publicKeyLine: string) => publicKeyLine.split(/\s+/)[1];
  try {
    const first = await makeClientKey(join(dir, 'testbed'));
    assert.equal(offeredPublicKey(first.privateKeyPath), blobOf(first.publicKey));
    rmSync(first.privateKeyPath);
    rmSync(`${first.privateKeyPath}.pub`);
    const second = await makeClientKey(join(dir, 'testbed'));
    assert.equal(second.privateKeyPath, first.privateKeyPath);
    assert.notEqual(blobOf(second.publicKey), blobOf(first.publicKey));
    assert.equal(offeredPublicKey(second.privateKeyPath), blobOf(second.publicKey), 'the key offered is the one now in the file');
  } finally {
    process.env.HOME = saved.home;
    if (saved.agent !== undefined) process.env.SSH_AUTH_SOCK = saved.agent;
    rmSync(dir, { recursive: true, force: true });
  }
});
