/** `{name}` in magic arguments: how a notebook's parameters reach %testbed, %%batch --set, %store. Pure. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { expandArgs } from '../../kernel-extensions/magics/expand-args.js';

const variables: Record<string, unknown> = { guests: 5, size: '8m', sizes: ['1m', '4m'], cmd: 'perf stat -e a,b -p {guest_pids}' };
const lookup = (name: string) => (name in variables ? { value: variables[name] } : undefined);

test('defined variables are replaced: strings as written, other values as JSON', () => {
  assert.deepEqual(expandArgs(['up', '--vms', '{guests}'], lookup), ['up', '--vms', '5']);
  assert.deepEqual(expandArgs(['--set', 'tests.x.params.size=[{size}]'], lookup), ['--set', 'tests.x.params.size=[8m]']);
  assert.deepEqual(expandArgs(['--set', 'tests.x.params.size={sizes}'], lookup), ['--set', 'tests.x.params.size=["1m","4m"]']);
});

test('braces that are not a defined variable stay, and replaced text is not expanded again', () => {
  assert.deepEqual(expandArgs(['--set', 'policies.1.pin={cpus: [0]}'], lookup), ['--set', 'policies.1.pin={cpus: [0]}']);
  assert.deepEqual(expandArgs(['-p', '{guest_pids}'], lookup), ['-p', '{guest_pids}']);
  assert.deepEqual(expandArgs(['--set', 'monitors.perf.command={cmd}'], lookup), ['--set', 'monitors.perf.command=perf stat -e a,b -p {guest_pids}']);
});
