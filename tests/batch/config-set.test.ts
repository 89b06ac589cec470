/**
 * `--set key=value` overrides: dotted paths, list items by index or name,
 * YAML values, keys created when missing, machine map files, and errors that
 * name the --set.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from '../../src/errors.js';
import { loadBatchConfig } from '../../src/batch/config/index.js';

let dir: string;
const CONFIG = `name: sets
machines:
  nodes:
    - name: n1
      host: local
tests:
  - name: iozone-write
    command: iozone -s {size}
    params: {size: [16m, 64m]}
    repeat: 3
  - name: fio-write
    command: fio --size={size}
    params: {size: 1m}
policies:
  - name: baseline
  - name: pin-one
    pin: {cpus: [0]}
`;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'expert-set-'));
  await writeFile(join(dir, 'b.yaml'), CONFIG);
  await writeFile(join(dir, 'map.yaml'), 'nodes:\n  - name: n1\n    host: 10.0.0.1\n');
  await writeFile(join(dir, 'with-map.yaml'), 'name: m\nmachines: map.yaml\ntests: [{name: a, command: "true"}]\n');
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

const load = (set: string[], file = 'b.yaml') => loadBatchConfig(file, { cwd: dir, set, env: {} });

async function expectSetError(set: string[], message: string): Promise<void> {
  await assert.rejects(load(set), (e: unknown) => {
    assert.ok(e instanceof ConfigError, String(e));
    assert.equal(e.message, message);
    return true;
  });
}

describe('--set', () => {
  it('sets a list item by index', async () => {
    const config = await load(['tests.0.repeat=1']);
    assert.equal(config.tests[0]!.repeat, 1);
    assert.equal(config.tests[1]!.repeat, undefined);
  });

  it('addresses list items by name and parses the value as YAML', async () => {
    const config = await load(['tests.iozone-write.params.size=[4m, 8m]', 'tests.fio-write.params.size=4m']);
    assert.deepEqual(config.tests[0]!.params, { size: ['4m', '8m'] });
    assert.deepEqual(config.tests[1]!.params, { size: '4m' });
  });

  it('numbers stay numbers, flow mappings become mappings', async () => {
    const config = await load(['policies.pin-one.pin={cpus: [1, 2]}', 'policies.pin-one.nice=5']);
    assert.deepEqual(config.policies[1], { name: 'pin-one', pin: { cpus: [1, 2] }, nice: 5 });
  });

  it('creates missing keys, and later sets win', async () => {
    const config = await load(['tests.1.timeout=5m', 'tests.1.params.extra=1', 'tests.1.timeout=10s', 'description=set from the command line']);
    assert.equal(config.tests[1]!.timeout, '10s');
    assert.deepEqual(config.tests[1]!.params, { size: '1m', extra: 1 });
    assert.equal(config.description, 'set from the command line');
  });

  it('an empty value is the empty string', async () => {
    const config = await load(['description=']);
    assert.equal(config.description, '');
  });

  it('reaches into an inline machine map', async () => {
    const config = await load(['machines.nodes.n1.user=alice']);
    assert.deepEqual(config.machines.nodes[0], { name: 'n1', host: 'local', user: 'alice' });
  });

  it('reaches into a machine map file without changing the file', async () => {
    const config = await load(['machines.nodes.n1.host=10.0.0.9', 'machines.nodes.0.port=2200'], 'with-map.yaml');
    assert.deepEqual(config.machines.nodes[0], { name: 'n1', host: '10.0.0.9', port: 2200 });
    assert.equal(await readFile(join(dir, 'map.yaml'), 'utf8'), 'nodes:\n  - name: n1\n    host: 10.0.0.1\n');
  });

  it('a value of the wrong type is an error at the --set value', async () => {
    await expectSetError(['tests.0.repeat=many'], "--set tests.0.repeat=many:1:16: tests[0].repeat: expected a number of repetitions, or {min: N, max: N, until: {metric: <summary column>, ci: 5%}}, got 'many'");
  });

  it('an unknown key created by --set is an error naming it', async () => {
    await expectSetError(['tests.0.repaet=2'], '--set tests.0.repaet=2:1:16: tests[0].repaet: unknown key `repaet`; did you mean `repeat`?');
  });

  it('a list item that does not exist', async () => {
    await expectSetError(['tests.iozone-wrte.repeat=1'], '--set tests.iozone-wrte.repeat=1:1:1: tests has no item `iozone-wrte` (use an index 0..1 or an item\'s name); did you mean `iozone-write`?');
    await expectSetError(['tests.5.repeat=1'], '--set tests.5.repeat=1:1:1: tests has no item `5` (use an index 0..1 or an item\'s name); items named: iozone-write, fio-write');
  });

  it('a path through a scalar', async () => {
    await expectSetError(['name.x=1'], '--set name.x=1:1:1: name is the value "sets", so it has no key `x`');
  });

  it('no = sign, or an empty segment', async () => {
    await expectSetError(['tests.0.repeat'], '--set tests.0.repeat:1:1: expected key=value, e.g. tests.0.repeat=1 or tests.iozone-write.params.size=4m');
    await expectSetError(['tests..repeat=1'], "--set tests..repeat=1:1:1: empty segment in the key path 'tests..repeat'");
  });

  it('a value that is not valid YAML', async () => {
    await expectSetError(['tests.0.params.size=[1m'], '--set tests.0.params.size=[1m:1:21: the value is not valid YAML: Flow sequence must end with a ]');
  });
});
