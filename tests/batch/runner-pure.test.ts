// The runner's pure parts: run-time placeholders, provenance probes' text, durations, config hashing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { substituteRunTime, mergeRunTimeValues } from '../../src/batch/runner/run-placeholders.js';
import { formatDuration, formatElapsed } from '../../src/batch/runner/format-duration.js';
import { hostFactsScript, parseHostFacts, programOf } from '../../src/batch/provenance-facts.js';
import { canonicalJson, configHash } from '../../src/batch/provenance.js';
import type { ResolvedBatchConfig } from '../../src/batch/config/types.js';

test('run-time placeholders are filled per node, shell-quoted; a missing value becomes an empty word and is reported', () => {
  const values = mergeRunTimeValues({ guest_pids: { node1: '1,2' } }, { guest_pids: { node2: '3' }, guest_tids: { node1: '7 8' } });
  assert.deepEqual(substituteRunTime('perf stat -p {guest_pids} -t {guest_tids}', 'node1', values), {
    command: "perf stat -p 1,2 -t '7 8'",
    empty: [],
  });
  assert.deepEqual(substituteRunTime('perf stat -p {guest_pids} -t {guest_tids}', 'node2', values), {
    command: "perf stat -p 3 -t ''",
    empty: ['guest_tids'],
  });
  assert.deepEqual(substituteRunTime('vmstat 1', 'node3', values), { command: 'vmstat 1', empty: [] });
});

test('durations read like configs; elapsed like a clock', () => {
  assert.deepEqual([600_000, 30_000, 1500, 7_200_000, 90_000].map(formatDuration), ['10m', '30s', '1500ms', '2h', '90s']);
  assert.deepEqual([0, 7_400, 723_000, 3_723_000].map(formatElapsed), ['0:00', '0:07', '12:03', '1:02:03']);
});

test('the program of a command line skips env assignments and wrappers', () => {
  assert.equal(programOf('iozone -i 0 -s 16m'), 'iozone');
  assert.equal(programOf('LC_ALL=C /usr/bin/vmstat -n 1'), 'vmstat');
  assert.equal(programOf('nice -n 5 fio --name=x'), 'fio');
  assert.equal(programOf('sudo timeout 10 perf stat -x,'), 'perf');
  assert.equal(programOf(''), undefined);
});

test('the host facts script, run by a real sh here, parses into kernel, cores, memory and versions', () => {
  const output = execFileSync('/bin/sh', ['-c', hostFactsScript(['vmstat', 'no-such-tool', 'fio'])], { encoding: 'utf8' });
  const facts = parseHostFacts(output);
  assert.equal(facts.kernel, execFileSync('uname', ['-r'], { encoding: 'utf8' }).trim());
  assert.equal(facts.cores, Number(execFileSync('nproc', { encoding: 'utf8' }).trim()));
  assert.ok(facts.memory_kb && facts.memory_kb > 0);
  assert.match(facts.programs.vmstat ?? '', /procps/);
  assert.match(facts.programs.fio ?? '', /^fio-/);
  assert.equal(Object.keys(facts.programs).length, 2);
});

test('the config hash ignores key order and where the file lives, and changes with content', () => {
  const base: ResolvedBatchConfig = {
    name: 'a',
    machines: { nodes: [{ name: 'n', host: 'local' }] },
    monitors: [],
    tests: [{ name: 't', on: 'nodes', command: 'ls' }],
    policies: [],
    source: '/x/a.yaml',
  };
  const reordered = { policies: [], tests: [{ command: 'ls', on: 'nodes', name: 't' }], monitors: [], machines: base.machines, name: 'a', source: '/y/b.yaml' } as ResolvedBatchConfig;
  assert.equal(configHash(base), configHash(reordered));
  assert.notEqual(configHash(base), configHash({ ...base, name: 'b' }));
  assert.equal(canonicalJson({ b: 1, a: [true, null, 'x'] }), '{"a":[true,null,"x"],"b":1}');
});

test('provenance: git commit of the config folder, testbed facts copied, tool versions', async () => {
  const { collectProvenance } = await import('../../src/batch/provenance.js');
  const { resolve } = await import('node:path');
  const source = resolve('examples/local.yaml');
  const config: ResolvedBatchConfig = {
    name: 'p',
    machines: { nodes: [{ name: 'local', host: 'local' }], testbed: { accel: 'tcg', cpus: 2 } },
    monitors: [],
    tests: [],
    policies: [],
    source,
  };
  const provenance = await collectProvenance({ config, runs: [] });
  assert.equal(provenance.git?.commit, execFileSync('git', ['-C', resolve('examples'), 'rev-parse', 'HEAD'], { encoding: 'utf8' }).trim());
  assert.equal(typeof provenance.git?.dirty, 'boolean');
  assert.deepEqual(provenance.testbed, { accel: 'tcg', cpus: 2 });
  assert.equal(provenance.tools['expert-ts'], JSON.parse((await import('node:fs')).readFileSync('package.json', 'utf8')).version);
  assert.equal(provenance.config_hash, configHash(config));
  const outside = await collectProvenance({ config: { ...config, source: '/tmp/not-a-repo-expert.yaml' }, runs: [] });
  assert.equal(outside.git, null);
});
