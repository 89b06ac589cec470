import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { ensureParsed } from '../../src/mine/engine.js';
import { ParserRegistry } from '../../src/mine/registry.js';
import { defineParser, userParser } from '../../src/mine/user-parser.js';
import { loadFixture, readFixture, tempStore, type TempStore } from './helpers.js';

let t: TempStore;
before(async () => {
  t = await tempStore();
});
after(async () => {
  await t?.cleanup();
});

test('a regex with named groups and types becomes a cached, versioned parser', async () => {
  const batchId = await t.store.createBatch({ name: 'user', config: {}, provenance: {} });
  const fixture = await readFixture('dd', 'write');
  const id = await loadFixture(t.store, fixture, { batchId, parser: 'ddcopy', extraStdout: ['9x bytes copied, 1 s, 1 MB/s'] });
  const spec = { name: 'ddcopy', regex: /^(?<bytes>\S+) bytes.*copied, (?<secs>[\d.e+-]+) s/, types: { bytes: 'int', secs: 'num' } };
  const registry = new ParserRegistry([userParser(spec)]);
  const report = await ensureParsed(t.store, 'ddcopy', { batchId, registry });
  assert.equal(report.rows, 2);
  assert.equal(report.errors, 1, "'9x' does not cast to an integer");
  const line = fixture.stderr.find((l) => l.includes('copied'))!;
  const [bytes] = line.split(' ');
  const secs = line.split('copied, ')[1]!.split(' ')[0];
  const rows = await t.store.query(`SELECT bytes, secs FROM parsed.ddcopy WHERE process_id = $1 AND NOT parse_error`, [id]);
  assert.deepEqual(rows.rows[0]!.map(Number), [Number(bytes), Number(secs)]);
  // Same definition: cached. A changed type: new version, re-parsed.
  assert.equal((await ensureParsed(t.store, 'ddcopy', { batchId, registry })).parsedProcesses, 0);
  const changed = new ParserRegistry([userParser({ ...spec, types: { bytes: 'num', secs: 'num' } })]);
  const r2 = await ensureParsed(t.store, 'ddcopy', { batchId, registry: changed });
  assert.equal(r2.parsedProcesses, 1);
  assert.notEqual(r2.version, report.version);
});

test('defineParser registers in a registry, replacing one of the same name', () => {
  const registry = new ParserRegistry([]);
  defineParser({ name: 'latency', regex: 'lat=(?<ms>[0-9.]+)', types: { ms: 'num' }, programs: ['mybench'] }, registry);
  assert.equal(registry.parserFor({ command: 'mybench --x', parser: null })?.name, 'latency');
  const v2 = defineParser({ name: 'latency', regex: 'latency=(?<ms>[0-9.]+)', types: { ms: 'num' } }, registry);
  assert.equal(registry.get('latency').version, v2.version);
  assert.deepEqual(registry.get('latency').columns, [{ name: 'ms', type: 'DOUBLE' }]);
});

test('user parser definitions are checked', () => {
  assert.throws(() => userParser({ name: 'x', regex: 'no groups' }), /no named groups/);
  assert.throws(() => userParser({ name: 'x', regex: '(?<a>\\d+) (\\d+)' }), /must be named/);
  assert.throws(() => userParser({ name: 'x', regex: '(?<a>\\d+)', types: { a: 'complex' } }), /not one of/);
  assert.throws(() => userParser({ name: 'x', regex: '(?<a>\\d+)', types: { b: 'int' } }), /not a group/);
  assert.throws(() => new ParserRegistry([userParser({ name: 'Bad Name', regex: '(?<a>x)' })]), /parser name/);
  assert.doesNotThrow(() => userParser({ name: 'x', regex: '(?<a>[(]\\d+)(?:ms)' }));
});
