/** The remote command line (pure): values quoted, names checked, the wrapper runs the command literally under sh. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { parsePidMarker, remoteCommand, signalGroupCommand, PID_MARKER } from '../../src/batch/ssh/remote-command.js';
import { UserError } from '../../src/errors.js';

test('environment names must be shell names; values and folders are quoted', () => {
  assert.throws(() => remoteCommand({ command: 'true', env: { 'A;rm -rf /': 'x' } }), UserError);
  assert.throws(() => remoteCommand({ command: 'true', env: { '1A': 'x' } }), UserError);
  // Run the line through dash as sshd's login shell would: the value and the folder arrive untouched.
  const line = remoteCommand({ command: 'printf "%s|%s\\n" "$V" "$(pwd)"', env: { V: "a'b $(id) `id` ;" }, cwd: '/' });
  const out = execFileSync('/bin/sh', ['-c', line], { encoding: 'utf8' });
  const [marker, result] = out.split('\n');
  assert.ok(parsePidMarker(marker!) !== undefined, marker);
  assert.equal(result, "a'b $(id) `id` ;|/");
});

test('group signals are spelled for every shell and never hit PID 0/1 or odd names', () => {
  assert.match(signalGroupCommand(1234, 'SIGTERM'), /\ntree_signal TERM 1234$/);
  assert.match(signalGroupCommand(1234, 'KILL'), /\ntree_signal KILL 1234$/);
  assert.match(signalGroupCommand(1234, 'KILL'), /kill -"\$ts_sig" -"\$ts_p"/);
  assert.throws(() => signalGroupCommand(1, 'SIGTERM'));
  assert.throws(() => signalGroupCommand(1234, 'TERM; reboot'));
  assert.equal(parsePidMarker(`${PID_MARKER}42`), 42);
  assert.equal(parsePidMarker('42'), undefined);
});
