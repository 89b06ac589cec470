/** ssh_config resolution: Host patterns, first value wins, machine-map values win, ProxyJump chains, tokens. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SshConfigResolver, parseJumpSpec } from '../../src/batch/ssh/ssh-config.js';
import { effectiveSettings } from '../../src/batch/ssh/settings.js';
import { UserError } from '../../src/errors.js';

test('resolves HostName, User, Port, IdentityFile and ProxyJump like ssh', () => {
  const dir = mkdtempSync(join(tmpdir(), 'expert-sshcfg-'));
  const home = process.env.HOME;
  process.env.HOME = dir;
  try {
    const first = join(dir, 'first');
    const second = join(dir, 'second');
    writeFileSync(first, [
      'Host node*',
      '  User alice',
      '  IdentityFile ~/.ssh/lab_key',
      'Host node2',
      '  HostName 10.1.0.2',
      '  ProxyJump bastion',
      'Host bastion',
      '  HostName bastion.example',
      '  Port 2200',
      '  ProxyJump carol@outer:2022',
      '',
    ].join('\n'));
    writeFileSync(second, ['Host *', '  User bob', '  Port 2222', '  IdentityFile /keys/%r@%h', '  UserKnownHostsFile ~/kh', ''].join('\n'));
    const resolver = new SshConfigResolver([first, second]);
    const n1 = resolver.resolve('node1');
    assert.equal(n1.hostName, 'node1');
    assert.equal(n1.user, 'alice');
    assert.equal(n1.port, 2222);
    assert.deepEqual(n1.identityFiles, [join(dir, '.ssh/lab_key'), '/keys/alice@node1']);
    assert.deepEqual(n1.knownHostsFiles, [join(dir, 'kh')]);
    assert.equal(n1.jumps.length, 0);

    const n2 = resolver.resolve('node2', { user: 'root', port: 22 });
    assert.equal(n2.hostName, '10.1.0.2');
    assert.equal(n2.user, 'root');
    assert.equal(n2.port, 22);
    assert.deepEqual(n2.jumps.map((j) => `${j.user}@${j.hostName}:${j.port}`), ['carol@outer:2022', 'bob@bastion.example:2200']);

    assert.deepEqual(parseJumpSpec('u@h:1'), { host: 'h', user: 'u', port: 1 });
    assert.deepEqual(parseJumpSpec('[::1]:22'), { host: '::1', user: undefined, port: 22 });
    assert.throws(() => parseJumpSpec('h:99999'), UserError);
  } finally {
    process.env.HOME = home;
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a missing config file and bad settings are clear user errors', () => {
  assert.throws(() => SshConfigResolver.forSettings('/nonexistent/ssh_config'), /ssh config file .* does not exist/);
  assert.throws(() => effectiveSettings({ maxSessionsPerConnection: 0 }), /ssh.maxSessionsPerConnection must be a number >= 1/);
  assert.equal(effectiveSettings({}).maxSessionsPerConnection, 10);
});

test('Include splices files (relative to ~/.ssh, with wildcards) in place', async () => {
  const { mkdirSync } = await import('node:fs');
  const dir = mkdtempSync(join(tmpdir(), 'expert-sshinc-'));
  const home = process.env.HOME;
  process.env.HOME = dir;
  try {
    mkdirSync(join(dir, '.ssh', 'conf.d'), { recursive: true });
    writeFileSync(join(dir, '.ssh', 'conf.d', 'a.conf'), 'Host lab1\n  HostName 10.9.0.1\n');
    writeFileSync(join(dir, '.ssh', 'conf.d', 'b.conf'), 'Host lab2\n  HostName 10.9.0.2\n  Port 2202\n');
    writeFileSync(join(dir, '.ssh', 'conf.d', 'skip.txt'), 'Host lab1\n  HostName wrong\n');
    const main = join(dir, 'main');
    writeFileSync(main, 'Include conf.d/*.conf\nHost *\n  User carol\n');
    const resolver = new SshConfigResolver([main]);
    assert.deepEqual([resolver.resolve('lab1').hostName, resolver.resolve('lab2').hostName, resolver.resolve('lab2').port], ['10.9.0.1', '10.9.0.2', 2202]);
    assert.equal(resolver.resolve('lab1').user, 'carol');
  } finally {
    process.env.HOME = home;
    rmSync(dir, { recursive: true, force: true });
  }
});
