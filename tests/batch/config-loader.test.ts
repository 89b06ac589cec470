/**
 * The loader on real YAML files in temp dirs: every kind of error names the
 * exact file:line:column, and good configs resolve (machine maps inline, from
 * a file, from the testbed folder).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from '../../src/errors.js';
import { loadBatchConfig, loadMachineMap, parseBatchConfigText, parseYamlAgainst, policySchema, resolveBatchConfig } from '../../src/batch/config/index.js';

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'expert-config-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

let counter = 0;
async function write(text: string, name = `c${++counter}.yaml`): Promise<string> {
  await writeFile(join(dir, name), text);
  return name;
}

/** Loads `text` as a file and expects a ConfigError whose message starts with `file:line:column: `. */
async function expectError(text: string, line: number, column: number, pattern: RegExp, set: string[] = []): Promise<ConfigError> {
  const file = await write(text);
  try {
    await loadBatchConfig(file, { cwd: dir, set, env: {} });
  } catch (e) {
    assert.ok(e instanceof ConfigError, `expected a ConfigError, got ${String(e)}`);
    assert.equal(e.exitCode, 2);
    assert.deepEqual([e.position.file, e.position.line, e.position.column], [file, line, column], e.message);
    assert.ok(e.message.startsWith(`${file}:${line}:${column}: `), e.message);
    assert.match(e.message, pattern);
    return e;
  }
  assert.fail('expected a ConfigError');
}

const LOCAL = `machines:\n  nodes:\n    - name: local\n      host: local\n`;

describe('loadBatchConfig: good configs', () => {
  it('fills defaults: on nodes, one baseline policy, no monitors, source path', async () => {
    const file = await write(`name: t\n${LOCAL}tests:\n  - name: a\n    command: echo hi\n`);
    const config = await loadBatchConfig(file, { cwd: dir, env: {} });
    assert.equal(config.tests[0]!.on, 'nodes');
    assert.deepEqual(config.policies, [{ name: 'baseline' }]);
    assert.deepEqual(config.monitors, []);
    assert.equal(config.source, join(dir, file));
    assert.deepEqual(config.machines, { nodes: [{ name: 'local', host: 'local' }] });
  });

  it('without machines: runs on this machine', async () => {
    const config = await parseBatchConfigText('name: t\ntests: [{name: a, command: "true"}]\n', { cwd: dir, env: {} });
    assert.deepEqual(config.machines, { nodes: [{ name: 'local', host: 'local' }] });
    assert.equal(config.source, undefined);
  });

  it('a single name in on: becomes a list', async () => {
    const config = await parseBatchConfigText(`name: t\n${LOCAL}tests: [{name: a, on: local, command: "true"}]\n`, { env: {} });
    assert.deepEqual(config.tests[0]!.on, ['local']);
  });

  it('reads a machine map file relative to the config file, with ssh paths made absolute', async () => {
    await mkdir(join(dir, 'sub'), { recursive: true });
    await writeFile(join(dir, 'sub', 'map.yaml'), 'nodes:\n  - {name: n1, host: 10.0.0.1, vms: [{name: vm1, port: 2222}]}\nssh: {identityFile: keys/id, acceptNewHostKeys: true, connectTimeoutMs: 5000}\n');
    await writeFile(join(dir, 'sub', 'b.yaml'), 'name: t\nmachines: ./map.yaml\ntests: [{name: a, on: vms, command: "true"}]\n');
    const config = await loadBatchConfig('sub/b.yaml', { cwd: dir, env: {} });
    assert.deepEqual(config.machines, {
      nodes: [{ name: 'n1', host: '10.0.0.1', vms: [{ name: 'vm1', port: 2222 }] }],
      ssh: { identityFile: join(dir, 'sub', 'keys', 'id'), acceptNewHostKeys: true, connectTimeoutMs: 5000 },
    });
  });

  it('machines: testbed reads <cwd>/.expert/testbed/machines.yaml, or $EXPERT_TESTBED_DIR', async () => {
    await mkdir(join(dir, '.expert', 'testbed'), { recursive: true });
    await writeFile(join(dir, '.expert', 'testbed', 'machines.yaml'), 'nodes: [{name: tb, host: local}]\n');
    await mkdir(join(dir, 'elsewhere'), { recursive: true });
    await writeFile(join(dir, 'elsewhere', 'machines.yaml'), 'nodes: [{name: other, host: local}]\n');
    const file = await write('name: t\nmachines: testbed\ntests: [{name: a, command: "true"}]\n');
    assert.equal((await loadBatchConfig(file, { cwd: dir, env: {} })).machines.nodes[0]!.name, 'tb');
    const viaEnv = await loadBatchConfig(file, { cwd: dir, env: { EXPERT_TESTBED_DIR: join(dir, 'elsewhere') } });
    assert.equal(viaEnv.machines.nodes[0]!.name, 'other');
  });

  it('parameter values keep the text they were written as', async () => {
    const config = await parseBatchConfigText(
      `name: t\n${LOCAL}tests:\n  - name: a\n    command: v{v} n{n}\n    params: {v: [1.10, 1.2, 010, 1e3, 16m], n: 7}\n    exclude: [{v: 1.10}]\n`,
      { env: {} },
    );
    assert.deepEqual(config.tests[0]!.params, { v: ['1.10', '1.2', '010', '1e3', '16m'], n: '7' });
    assert.deepEqual(config.tests[0]!.exclude, [{ v: '1.10' }]);
  });

  it('anchors and merge keys work, and errors inside them still have positions', async () => {
    const text = `name: t\n${LOCAL}x-common: &common\n  on: nodes\n  repeat: 2\n`;
    await assert.rejects(parseBatchConfigText(text + 'tests: []\n', { env: {}, file: 'm.yaml' }), (e: unknown) => e instanceof ConfigError && e.message.startsWith('m.yaml:6:1: x-common: unknown key'));
    const config = await parseBatchConfigText(
      `name: t\n${LOCAL}tests:\n  - &first\n    name: a\n    command: "true"\n    repeat: 2\n  - <<: *first\n    name: b\n`,
      { env: {} },
    );
    assert.deepEqual(config.tests.map((t) => [t.name, t.repeat, t.command]), [['a', 2, 'true'], ['b', 2, 'true']]);
  });

  it('a TypeScript object goes through the same checks', async () => {
    const config = await resolveBatchConfig({ name: 't', machines: { nodes: [{ name: 'n', host: 'local' }] }, tests: [{ name: 'a', on: 'nodes', command: 'echo {x}', params: { x: [1, 2] } }] }, { env: {} });
    assert.equal(config.tests[0]!.name, 'a');
    await assert.rejects(
      resolveBatchConfig({ name: 't', tests: [{ name: 'a', on: 'nodes', command: 'echo', repeat: 0 }] }, { env: {} }),
      (e: unknown) => e instanceof ConfigError && /^<config object>:1:1: tests\[0\]\.repeat: expected an integer ≥ 1, got number 0$/.test(e.message),
    );
  });
});

describe('loadBatchConfig: errors name file:line:column', () => {
  it('cannot read the file', async () => {
    await assert.rejects(loadBatchConfig('nope.yaml', { cwd: dir }), (e: unknown) => e instanceof ConfigError && /^nope\.yaml:1:1: cannot read the config file/.test(e.message));
  });

  it('broken YAML at yaml\'s own position', async () => {
    await expectError('name: t\ntests:\n  - name: a\n   command: x\n', 4, 1, /broken YAML: Sequence item without - indicator/);
  });

  it('broken YAML: an unclosed flow list', async () => {
    await expectError('name: t\ntests: [{name: a, command: x}\n', 3, 1, /broken YAML/);
  });

  it('duplicate keys are broken YAML', async () => {
    await expectError('name: t\nname: u\ntests: [{name: a, command: x}]\n', 2, 1, /broken YAML: Map keys must be unique/);
  });

  it('an empty file expects a mapping', async () => {
    await expectError('', 1, 1, /expected a mapping with keys name, description, machines/);
  });

  it('unknown key at the key, with the closest known key', async () => {
    await expectError(`name: t\n${LOCAL}tests:\n  - name: a\n    comand: echo\n`, 8, 5, /tests\[0\]\.comand: unknown key `comand`; did you mean `command`\?/);
  });

  it('unknown top-level key far from any known key lists them', async () => {
    await expectError(`name: t\nzzzzzzzz: 1\ntests: [{name: a, command: x}]\n`, 2, 1, /unknown key `zzzzzzzz`; expected one of: name, description, machines, monitors, tests, policies/);
  });

  it('wrong type at the value', async () => {
    await expectError(`name: t\n${LOCAL}tests:\n  - name: a\n    command: echo\n    repeat: three\n`, 9, 13, /tests\[0\]\.repeat: expected a number of repetitions, or \{min: N, max: N, until: \{metric: <summary column>, ci: 5%\}\}, got 'three'/);
  });

  it('a list where a mapping is expected', async () => {
    await expectError(`name: t\n${LOCAL}tests:\n  - name: a\n    command: echo\n    params: [1, 2]\n`, 9, 13, /tests\[0\]\.params: expected a mapping, got a list of 2$/);
  });

  it('an empty list where a non-empty one is expected says it is empty', async () => {
    await expectError(`name: t\n${LOCAL}tests: []\n`, 6, 8, /tests: expected a non-empty list, got an empty list$/);
  });

  it('a bad duration', async () => {
    await expectError(`name: t\n${LOCAL}tests:\n  - name: a\n    command: echo\n    timeout: 10 minutes\n`, 9, 14, /tests\[0\]\.timeout: expected a duration like 10m/);
  });

  it('a zero timeout', async () => {
    await expectError(`name: t\n${LOCAL}tests:\n  - name: a\n    command: echo\n    timeout: 0s\n`, 9, 14, /tests\[0\]\.timeout: expected a duration greater than zero, got '0s'/);
  });

  it('missing command at the test item', async () => {
    await expectError(`name: t\n${LOCAL}tests:\n  - name: a\n    on: nodes\n`, 7, 5, /tests\[0\]: missing required key `command` here/);
  });

  it('missing name at the top level', async () => {
    await expectError(`${LOCAL}tests:\n  - name: a\n    command: x\n`, 1, 1, /missing required key `name` at the top level/);
  });

  it('missing tests', async () => {
    await expectError(`name: t\n${LOCAL}`, 1, 1, /missing required key `tests`/);
  });

  it('an empty value is not a string', async () => {
    await expectError(`name: t\n${LOCAL}tests:\n  - name: a\n    command:\n`, 8, 13, /tests\[0\]\.command: expected a string, got nothing/);
  });

  it('unknown placeholder at its exact column in a plain command', async () => {
    await expectError(`name: t\n${LOCAL}tests:\n  - name: a\n    command: iozone -s {size} -r {recl}\n    params: {size: [1m], reclen: [4k]}\n`, 8, 34, /unknown placeholder \{recl\}; did you mean `reclen`\?; known here: .*\{reclen\}/);
  });

  it('unknown placeholder in a double-quoted command', async () => {
    await expectError(`name: t\n${LOCAL}tests:\n  - name: a\n    command: "echo {nope}"\n`, 8, 20, /unknown placeholder \{nope\}/);
  });

  it('unknown placeholder on the second line of a block literal', async () => {
    await expectError(`name: t\n${LOCAL}tests:\n  - name: a\n    command: |\n      echo start\n      echo {nope}\n`, 10, 12, /unknown placeholder \{nope\}/);
  });

  it('shell braces must be doubled, and the message says so', async () => {
    await expectError(`name: t\n${LOCAL}tests:\n  - name: a\n    command: echo \${HOME}\n`, 8, 20, /unknown placeholder \{HOME\}.*write \{\{ and \}\} for literal braces/);
    await expectError(`name: t\n${LOCAL}tests:\n  - name: a\n    command: awk '{print $1}'\n`, 8, 19, /'\{' starts a placeholder/);
  });

  it('a monitor may not use a param that some test lacks', async () => {
    await expectError(
      `name: t\n${LOCAL}monitors:\n  - {name: m, command: "echo {size}"}\ntests:\n  - {name: a, command: "echo {size}", params: {size: 1}}\n  - {name: b, command: "true"}\n`,
      7,
      30,
      /unknown placeholder \{size\}.*a monitor may use only built-ins/,
    );
  });

  it('zip groups of unequal length at the group', async () => {
    await expectError(
      `name: t\n${LOCAL}tests:\n  - name: a\n    command: echo {a} {b}\n    params: {a: [1, 2], b: [1, 2, 3]}\n    zip:\n      - [a, b]\n`,
      11,
      9,
      /tests\[0\]\.zip\[0\]: zip group \[a, b\] needs lists of equal length, got a: 2, b: 3/,
    );
  });

  it('zip naming an unknown param', async () => {
    await expectError(`name: t\n${LOCAL}tests:\n  - name: a\n    command: echo {a}\n    params: {a: [1, 2]}\n    zip: [[a, c]]\n`, 10, 15, /zip names `c`, which is not a parameter/);
  });

  it('exclude naming an unknown param, and excluding everything', async () => {
    await expectError(`name: t\n${LOCAL}tests:\n  - name: a\n    command: echo {a}\n    params: {a: [1, 2]}\n    exclude: [{b: 1}]\n`, 10, 16, /tests\[0\]\.exclude\[0\]\.b: exclude names `b`/);
    await expectError(`name: t\n${LOCAL}tests:\n  - name: a\n    command: echo {a}\n    params: {a: [1, 2]}\n    exclude: [{a: [1, 2]}]\n`, 10, 14, /tests\[0\]\.exclude: every parameter combination is excluded/);
  });

  it('a parameter named like a built-in placeholder', async () => {
    await expectError(`name: t\n${LOCAL}tests:\n  - name: a\n    command: echo {rep}\n    params: {rep: [1, 2]}\n`, 9, 14, /`rep` is a built-in placeholder/);
  });

  it('a duplicate value in a param list', async () => {
    await expectError(`name: t\n${LOCAL}tests:\n  - name: a\n    command: echo {a}\n    params:\n      a: [1m, 2m, 1m]\n`, 10, 19, /tests\[0\]\.params\.a\[2\]: duplicate value '1m'/);
  });

  it('an on: naming no known node or guest, at the list item', async () => {
    await expectError(`name: t\n${LOCAL}tests:\n  - name: a\n    command: x\n    on: [local, node9]\n`, 9, 17, /tests\[0\]\.on\[1\]: no node or guest named `node9` in the machine map \(known: nodes, vms, local\)/);
  });

  it('on: vms without any guest', async () => {
    await expectError(`name: t\n${LOCAL}tests:\n  - name: a\n    command: x\n    on: vms\n`, 9, 9, /the machine map lists no guests/);
  });

  it('a guest that cannot be reached', async () => {
    await expectError(`name: t\nmachines:\n  nodes: [{name: n, host: h, vms: [{name: g}]}]\ntests:\n  - name: a\n    command: x\n    on: [g]\n`, 7, 10, /guest g of node n has neither host nor port/);
  });

  it('duplicate test names at the second name, citing the first', async () => {
    await expectError(`name: t\n${LOCAL}tests:\n  - name: a\n    command: x\n  - name: a\n    command: y\n`, 9, 11, /tests\[1\]\.name: duplicate test name `a` \(first at line 7\)/);
  });

  it('duplicate node names in an inline machine map', async () => {
    await expectError(`name: t\nmachines:\n  nodes:\n    - {name: n, host: a}\n    - {name: n, host: b}\ntests: [{name: a, command: x}]\n`, 5, 14, /duplicate node name `n`/);
  });

  it('a policy identifying an unknown guest', async () => {
    await expectError(
      `name: t\nmachines:\n  nodes: [{name: n, host: h, vms: [{name: vm1, port: 1}]}]\ntests: [{name: a, command: x}]\npolicies:\n  - name: p\n    identify: {vms: [vm1, vm7]}\n`,
      7,
      27,
      /policies\[0\]\.identify\.vms\[1\]: no guest named `vm7` in the machine map; did you mean `vm1`\?/,
    );
  });

  it('an enum value with a suggestion', async () => {
    await expectError(`name: t\n${LOCAL}tests: [{name: a, command: x}]\npolicies:\n  - name: p\n    chrt: {policy: fifoo}\n`, 9, 20, /expected one of `other`, `fifo`.*got 'fifoo'; did you mean `fifo`\?/);
  });

  it('errors in a machine map file name that file', async () => {
    await writeFile(join(dir, 'bad-map.yaml'), 'nodes:\n  - name: n1\n    host: h\n    prot: 22\n');
    const file = await write('name: t\nmachines: bad-map.yaml\ntests: [{name: a, command: x}]\n');
    await assert.rejects(loadBatchConfig(file, { cwd: dir, env: {} }), (e: unknown) => {
      assert.ok(e instanceof ConfigError);
      assert.equal(e.message, 'bad-map.yaml:4:5: nodes[0].prot: unknown key `prot`; did you mean `port`?');
      return true;
    });
  });

  it('a missing machine map file at the machines: value', async () => {
    await expectError('name: t\nmachines: ./none.yaml\ntests: [{name: a, command: x}]\n', 2, 11, /cannot read the machine map .*none\.yaml/);
  });

  it('machines: testbed before `expert testbed up`', async () => {
    const file = await write('name: t\nmachines: testbed\ntests: [{name: a, command: x}]\n');
    await mkdir(join(dir, 'empty'), { recursive: true });
    await assert.rejects(
      loadBatchConfig(join(dir, file), { cwd: join(dir, 'empty'), env: {} }),
      (e: unknown) => {
        assert.ok(e instanceof ConfigError);
        assert.equal(e.message, `${join(dir, file)}:2:11: machines: \`testbed\` means the machine map ${join(dir, 'empty', '.expert', 'testbed', 'machines.yaml')}, which does not exist: run \`expert testbed up\` first`);
        return true;
      },
    );
  });

  it('a kernel cell names itself', async () => {
    await assert.rejects(parseBatchConfigText('name: t\ntests:\n  - {name: a, comand: x}\n', { file: '<cell>' }), (e: unknown) => e instanceof ConfigError && e.message.startsWith('<cell>:3:15: tests[0].comand: unknown key'));
  });
});

describe('machine maps and other YAML files on their own', () => {
  it('loadMachineMap: a file relative to cwd, or testbed', async () => {
    await writeFile(join(dir, 'own-map.yaml'), 'nodes: [{name: a, host: local, vms: [{name: g, port: 1}]}]\n');
    assert.deepEqual(await loadMachineMap('own-map.yaml', { cwd: dir, env: {} }), { nodes: [{ name: 'a', host: 'local', vms: [{ name: 'g', port: 1 }] }] });
    await assert.rejects(loadMachineMap('testbed', { cwd: join(dir, 'nowhere'), env: {} }), (e: unknown) => e instanceof ConfigError && /cannot read the machine map: run `expert testbed up` first/.test(e.message));
    await writeFile(join(dir, 'dup-map.yaml'), 'nodes:\n  - {name: a, host: x, vms: [{name: a, port: 1}]}\n');
    await assert.rejects(loadMachineMap('dup-map.yaml', { cwd: dir, env: {} }), (e: unknown) => e instanceof ConfigError && e.message === 'dup-map.yaml:2:37: nodes[0].vms[0].name: guest name `a` is also a node name, so on: [a] would be ambiguous');
  });

  it('parseYamlAgainst checks any schema with positions (e.g. a policy file)', () => {
    const { value } = parseYamlAgainst<{ name: string; nice: number }>('name: p\nnice: 5\n', 'p.yaml', policySchema);
    assert.deepEqual(value, { name: 'p', nice: 5 });
    assert.throws(() => parseYamlAgainst('name: p\nnice: 50\n', 'p.yaml', policySchema), (e: unknown) => e instanceof ConfigError && e.message === 'p.yaml:2:7: nice: expected an integer from -20 to 19, got number 50');
  });
});
