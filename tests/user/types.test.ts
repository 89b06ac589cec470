// A query returning every DuckDB type prints through the installed `expert mine sql` in table, CSV and JSON
// (issue 11 item 3: INTERVAL crashed with "Do not know how to serialize a BigInt", MAP printed [object Object],
// BLOB printed `<n bytes>`, JSON turned numbers and lists into strings). What is printed is read with Python's
// json and csv modules; values must be whole (all digits, all microseconds).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { OTHER } from './helpers/batches.js';
import { describe, expert, type Ran } from './helpers/expert.js';
import { CHECKOUT, linkCheckout, type Installed } from './helpers/install.js';
import { pyCsv, pyJson, type Parsed } from './helpers/python.js';

let dir: string;
let cli: Installed;

/** One row with a value of every type, then one row of NULLs of the same types (a LEFT JOIN that matches nothing). */
const EVERY_TYPE = `WITH v AS (SELECT
  42::INTEGER AS int_v,
  3.25::DOUBLE AS double_v,
  true AS bool_v,
  'text, "quoted"' || chr(10) || 'next line' AS varchar_v,
  9007199254740993::BIGINT AS bigint_v,
  170141183460469231731687303715884105727::HUGEINT AS hugeint_v,
  340282366920938463463374607431768211455::UHUGEINT AS uhugeint_v,
  1.25::DECIMAL(5,2) AS decimal_small_v,
  12345678901234567890123456.789012345678::DECIMAL(38,12) AS decimal_v,
  'NaN'::DOUBLE AS nan_v,
  'inf'::DOUBLE AS inf_v,
  '-inf'::DOUBLE AS ninf_v,
  INTERVAL '1 year 2 months 3 days 04:05:06.789' AS interval_v,
  MAP {'a': 1, 'b': 2} AS map_v,
  {'x': 1, 'y': 'two', 'z': [1, 2]} AS struct_v,
  [1, 2, 3] AS list_v,
  [1.5, 2.5]::DOUBLE[2] AS array_v,
  union_value(num := 42)::UNION(num INTEGER, str VARCHAR) AS union_v,
  '\\xFF\\x00\\xC3(abc'::BLOB AS blob_v,
  'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'::UUID AS uuid_v,
  DATE '2024-02-29' AS date_v,
  TIME '12:34:56.123456' AS time_v,
  '12:34:56.123456+02:00'::TIMETZ AS timetz_v,
  TIMESTAMP '2024-02-29 12:34:56.123456' AS timestamp_v,
  TIMESTAMPTZ '2024-02-29 12:34:56.123456+00' AS timestamptz_v,
  'sad'::ENUM('sad', 'ok', 'happy') AS enum_v,
  '101010'::BIT AS bit_v,
  '{"k": [1, 2, {"n": null}]}'::JSON AS json_v)
SELECT * FROM v UNION ALL SELECT v.* FROM (SELECT 1 AS k) AS one LEFT JOIN v ON one.k = 2`;

const COLUMNS = [...EVERY_TYPE.matchAll(/ AS (\w+_v)\b/g)].map((m) => m[1]!);

/** Digits and texts that must come out whole in every format. */
const WHOLE = {
  bigint_v: '9007199254740993',
  hugeint_v: '170141183460469231731687303715884105727',
  uhugeint_v: '340282366920938463463374607431768211455',
  decimal_v: '12345678901234567890123456.789012345678',
  uuid_v: 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11',
};
const MICROSECONDS = ['time_v', 'timetz_v', 'timestamp_v', 'timestamptz_v'];
/** The BLOB's bytes: FF 00 C3 are not UTF-8 text. */
const BLOB_BYTES = Buffer.from([0xff, 0x00, 0xc3, ...Buffer.from('(abc')]);

function sql(format: string, env: NodeJS.ProcessEnv = {}): Promise<Ran> {
  return expert(cli, ['mine', 'sql', EVERY_TYPE, '--format', format], { cwd: dir, env });
}

/** A BLOB printed as text: DuckDB's escaped form (`\xFF…`) or base64 of the same bytes. */
function blobBytesOf(text: string): Buffer {
  if (text.includes('\\x')) return Buffer.from(text.replace(/\\x([0-9A-Fa-f]{2})|./gs, (all, hex: string | undefined) => (hex ? String.fromCharCode(parseInt(hex, 16)) : all)), 'latin1');
  return Buffer.from(text, 'base64');
}

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'expert-user-types-'));
  cli = linkCheckout(CHECKOUT, join(dir, 'prefix'));
  writeFileSync(join(dir, 'user-other.yaml'), OTHER);
  const ran = await expert(cli, ['run', 'user-other.yaml'], { cwd: dir });
  assert.equal(ran.code, 0, describe(ran));
  assert.equal(COLUMNS.length, 28);
});
after(() => rmSync(dir, { recursive: true, force: true }));

test('every type as JSON: Python reads it strictly; numbers, arrays, objects, big integers as strings, NULL as null', async () => {
  const ran = await sql('json');
  assert.equal(ran.code, 0, describe(ran));
  assert.ok(!ran.stdout.includes('[object Object]'), ran.stdout);
  const parsed = pyJson(ran.stdout);
  assert.equal(parsed.type, 'list');
  const [values, nulls] = parsed.value as Parsed[];
  assert.ok(values && nulls, 'two rows');
  const row = values.value as Record<string, Parsed>;
  assert.deepEqual(Object.keys(row), COLUMNS);
  const is = (column: string, type: Parsed['type'], value?: unknown) => {
    assert.equal(row[column]!.type, type, `${column}: ${JSON.stringify(row[column])}`);
    if (value !== undefined) assert.deepEqual(plain(row[column]!), value, column);
  };
  is('int_v', 'int', 42);
  is('double_v', 'float', 3.25);
  is('bool_v', 'bool', true);
  is('varchar_v', 'str', 'text, "quoted"\nnext line');
  for (const [column, digits] of Object.entries(WHOLE)) is(column, 'str', digits);
  is('decimal_small_v', 'float', 1.25);
  for (const column of ['nan_v', 'inf_v', 'ninf_v']) is(column, 'str'); // JSON has no NaN or Infinity: not null, not a bare token
  assert.ok(Number.isNaN(Number(plain(row.nan_v!))), `nan_v ${JSON.stringify(row.nan_v)}`);
  assert.equal(Number(plain(row.inf_v!)), Infinity);
  assert.equal(Number(plain(row.ninf_v!)), -Infinity);
  is('map_v', 'dict', { a: 1, b: 2 });
  is('struct_v', 'dict', { x: 1, y: 'two', z: [1, 2] });
  is('list_v', 'list', [1, 2, 3]);
  is('array_v', 'list', [1.5, 2.5]);
  assert.ok(JSON.stringify(plain(row.union_v!)).includes('42'), `union_v ${JSON.stringify(row.union_v)}`);
  is('blob_v', 'str');
  assert.deepEqual(blobBytesOf(String(plain(row.blob_v!))), BLOB_BYTES, `blob_v ${JSON.stringify(row.blob_v)}`);
  is('date_v', 'str', '2024-02-29');
  for (const column of MICROSECONDS) {
    is(column, 'str');
    assert.ok(String(plain(row[column]!)).includes('12:34:56.123456'), `${column} keeps its microseconds: ${JSON.stringify(row[column])}`);
  }
  is('interval_v', 'str');
  assert.ok(String(plain(row.interval_v!)).includes('06.789'), `interval_v keeps its milliseconds: ${JSON.stringify(row.interval_v)}`);
  is('enum_v', 'str', 'sad');
  is('bit_v', 'str', '101010');
  const json = plain(row.json_v!);
  assert.deepEqual(typeof json === 'string' ? JSON.parse(json) : json, { k: [1, 2, { n: null }] }, 'json_v');

  const empty = nulls.value as Record<string, Parsed>;
  assert.deepEqual(Object.keys(empty), COLUMNS);
  for (const column of COLUMNS) assert.equal(empty[column]!.type, 'NoneType', `NULL ${column} is null: ${JSON.stringify(empty[column])}`);
});

test('every type as CSV: Python csv reads one header and one record per row, values whole, NULL empty', async () => {
  const ran = await sql('csv');
  assert.equal(ran.code, 0, describe(ran));
  assert.ok(!ran.stdout.includes('[object Object]'), ran.stdout);
  const rows = pyCsv(ran.stdout);
  assert.equal(rows.length, 3, `header + 2 rows, got ${rows.length}`);
  assert.deepEqual(rows[0], COLUMNS);
  const row = Object.fromEntries(COLUMNS.map((c, i) => [c, rows[1]![i]!]));
  assert.equal(row.int_v, '42');
  assert.equal(Number(row.double_v), 3.25);
  assert.equal(row.varchar_v, 'text, "quoted"\nnext line');
  for (const [column, digits] of Object.entries(WHOLE)) assert.equal(row[column], digits, column);
  assert.equal(Number(row.decimal_small_v), 1.25);
  assert.ok(Number.isNaN(Number(row.nan_v)) && row.nan_v !== '', `nan_v '${row.nan_v}'`);
  assert.equal(Number(row.inf_v), Infinity);
  assert.equal(Number(row.ninf_v), -Infinity);
  assert.deepEqual(JSON.parse(row.map_v!), { a: 1, b: 2 }, 'a map as its JSON');
  assert.deepEqual(JSON.parse(row.struct_v!), { x: 1, y: 'two', z: [1, 2] });
  assert.deepEqual(JSON.parse(row.list_v!), [1, 2, 3]);
  assert.deepEqual(JSON.parse(row.array_v!), [1.5, 2.5]);
  assert.ok(row.union_v!.includes('42'), `union_v '${row.union_v}'`);
  assert.deepEqual(blobBytesOf(row.blob_v!), BLOB_BYTES, `blob_v '${row.blob_v}'`);
  assert.equal(row.date_v, '2024-02-29');
  for (const column of MICROSECONDS) assert.ok(row[column]!.includes('12:34:56.123456'), `${column} '${row[column]}'`);
  assert.ok(row.interval_v!.includes('06.789'), `interval_v '${row.interval_v}'`);
  assert.equal(row.enum_v, 'sad');
  assert.equal(row.bit_v, '101010');
  assert.deepEqual(JSON.parse(row.json_v!), { k: [1, 2, { n: null }] });
  assert.deepEqual(rows[2], COLUMNS.map(() => ''), 'the NULL row is all empty fields');
});

test('every type as a table on a wide terminal: no error, every value whole', async () => {
  const ran = await sql('table', { COLUMNS: '3000' });
  assert.equal(ran.code, 0, describe(ran));
  assert.ok(!ran.stdout.includes('[object Object]'), ran.stdout);
  for (const column of COLUMNS) assert.ok(ran.stdout.includes(column), `column ${column} is shown`);
  for (const digits of Object.values(WHOLE)) assert.ok(ran.stdout.includes(digits), `${digits} in the table`);
  assert.ok(ran.stdout.includes('12:34:56.123456'), 'microseconds in the table');
  assert.ok(!/<\d+ bytes>/.test(ran.stdout), 'a BLOB shows its bytes');
});

test('every type as a table on a 100-column terminal: fits, and says which columns it left out', async () => {
  const ran = await sql('table', { COLUMNS: '100' });
  assert.equal(ran.code, 0, describe(ran));
  const long = ran.stdout.split('\n').filter((l) => l.length > 100);
  assert.deepEqual(long, [], 'every line (notes too) is at most 100 characters');
  for (const column of COLUMNS) assert.ok(ran.stdout.includes(column), `${column} is shown or named as left out`);
});

test('an INTERVAL computed from the store (ended_at - started_at) prints in every format', async () => {
  const query = 'SELECT label, ended_at - started_at AS took FROM process ORDER BY process_id';
  for (const format of ['table', 'csv', 'json']) {
    const ran = await expert(cli, ['mine', 'sql', query, '--format', format], { cwd: dir });
    assert.equal(ran.code, 0, `${format}: ${describe(ran)}`);
    assert.ok(!ran.stderr.includes('BigInt'), ran.stderr);
  }
  const json = pyJson((await expert(cli, ['mine', 'sql', query, '--format', 'json'], { cwd: dir })).stdout);
  const took = (json.value as Parsed[]).map((r) => (r.value as Record<string, Parsed>).took!);
  assert.equal(took.length, 1);
  assert.equal(took[0]!.type, 'str', JSON.stringify(took));
});

/** A parsed value back to plain JS (big integers as their digits). */
function plain(parsed: Parsed): unknown {
  switch (parsed.type) {
    case 'list':
      return (parsed.value as Parsed[]).map(plain);
    case 'dict':
      return Object.fromEntries(Object.entries(parsed.value as Record<string, Parsed>).map(([k, v]) => [k, plain(v)]));
    case 'int':
      return typeof parsed.value === 'object' ? (parsed.value as { int: string }).int : parsed.value;
    default:
      return parsed.value;
  }
}
