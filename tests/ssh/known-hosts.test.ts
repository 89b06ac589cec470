/**
 * known_hosts matching checked against OpenSSH's own tools: `ssh-keygen -H`
 * hashes the names, `ssh-keygen -F` says which entries ssh would match, and
 * `ssh-keygen -lf` prints the fingerprint our messages must repeat.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  fingerprint, hostFieldMatches, knownKeyTypes, lookupName, parseKnownHosts, verifyHostKey, wildcardMatch,
} from '../../src/batch/ssh/known-hosts.js';

function makeKey(dir: string, name: string): { line: string; blob: Buffer; type: string } {
  const path = join(dir, name);
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', '', '-f', path]);
  const [type, b64] = readFileSync(`${path}.pub`, 'utf8').trim().split(/\s+/);
  return { line: `${type} ${b64}`, blob: Buffer.from(b64!, 'base64'), type: type! };
}

test('known_hosts: plain, [host]:port, wildcard, negation and hashed entries match as ssh-keygen -F says', () => {
  const dir = mkdtempSync(join(tmpdir(), 'expert-kh-'));
  try {
    const a = makeKey(dir, 'a');
    const b = makeKey(dir, 'b');
    const file = join(dir, 'known_hosts');
    writeFileSync(file, [
      '# comment line',
      `node1,10.0.0.1 ${a.line}`,
      `[127.0.0.5]:2222 ${b.line}`,
      `*.lab.example,!bad.lab.example ${a.line}`,
      `hashed-host ${b.line}`,
      `[hashed-port]:2200 ${a.line}`,
      '',
    ].join('\n'));
    // Let OpenSSH hash the last two names (-H hashes every line; keep the plain ones from the copy).
    const hashedFile = join(dir, 'hashed');
    writeFileSync(hashedFile, [`hashed-host ${b.line}`, `[hashed-port]:2200 ${a.line}`, ''].join('\n'));
    execFileSync('ssh-keygen', ['-q', '-H', '-f', hashedFile]);
    const hashedText = readFileSync(hashedFile, 'utf8');
    assert.match(hashedText, /^\|1\|/m);
    const entries = [...parseKnownHosts(readFileSync(file, 'utf8'), file).slice(0, 3), ...parseKnownHosts(hashedText, hashedFile)];

    const sshKeygenFinds = (name: string, f: string) => {
      try { return execFileSync('ssh-keygen', ['-F', name, '-f', f], { encoding: 'utf8' }).includes('found'); } catch { return false; }
    };
    const cases: Array<[string, number, boolean]> = [
      ['node1', 22, true], ['10.0.0.1', 22, true], ['NODE1', 22, true], ['node1', 2222, false],
      ['127.0.0.5', 2222, true], ['127.0.0.5', 22, false],
      ['x.lab.example', 22, true], ['bad.lab.example', 22, false],
      ['hashed-host', 22, true], ['hashed-host', 23, false], ['hashed-port', 2200, true], ['hashed-port', 22, false],
    ];
    for (const [host, port, expected] of cases) {
      const name = lookupName(host, port);
      const ours = entries.some((e) => hostFieldMatches(e.hosts, name));
      assert.equal(ours, expected, `our match for ${name}`);
      // OpenSSH agrees (plain file for plain names, hashed file for hashed ones).
      const theirs = sshKeygenFinds(name, file) || sshKeygenFinds(name, hashedFile);
      if (!name.toLowerCase().includes('bad') && host !== 'NODE1') assert.equal(theirs, expected, `ssh-keygen -F ${name}`);
    }

    assert.equal(verifyHostKey(entries, [lookupName('127.0.0.5', 2222)], b.blob).kind, 'known');
    const changed = verifyHostKey(entries, [lookupName('127.0.0.5', 2222)], a.blob);
    assert.equal(changed.kind, 'changed');
    assert.equal(verifyHostKey(entries, [lookupName('127.0.0.6', 2222)], a.blob).kind, 'unknown');
    assert.equal(verifyHostKey(entries, [lookupName('hashed-host', 22)], b.blob).kind, 'known');
    assert.equal(verifyHostKey(entries, [lookupName('hashed-host', 22)], a.blob).kind, 'changed');
    assert.deepEqual(knownKeyTypes(entries, ['node1']), ['ssh-ed25519']);

    const revoked = parseKnownHosts(`@revoked * ${a.line}\n`, 'r');
    assert.equal(verifyHostKey([...revoked, ...entries], ['node1'], a.blob).kind, 'revoked');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('fingerprint is printed exactly as ssh-keygen -l prints it', () => {
  const dir = mkdtempSync(join(tmpdir(), 'expert-fp-'));
  try {
    for (const type of ['ed25519', 'ecdsa', 'rsa']) {
      const path = join(dir, type);
      execFileSync('ssh-keygen', ['-q', '-t', type, '-N', '', '-C', '', '-f', path]);
      const blob = Buffer.from(readFileSync(`${path}.pub`, 'utf8').trim().split(/\s+/)[1]!, 'base64');
      const theirs = execFileSync('ssh-keygen', ['-l', '-E', 'sha256', '-f', `${path}.pub`], { encoding: 'utf8' }).split(/\s+/)[1];
      assert.equal(fingerprint(blob), theirs);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('wildcards: * and ? only, everything else literal', () => {
  assert.ok(wildcardMatch('node?', 'node1'));
  assert.ok(!wildcardMatch('node?', 'node12'));
  assert.ok(wildcardMatch('10.0.*', '10.0.3.4'));
  assert.ok(!wildcardMatch('a.b', 'axb'));
  assert.ok(wildcardMatch('[h]:22*', '[h]:2222'));
});
