/**
 * The output formats on their own: a table fits the width it is given and
 * never cuts the last column; CSV and JSON of every DuckDB type read back
 * with Python's csv and json modules exactly as DuckDB itself prints them.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { test } from 'node:test';
import { DuckDBInstance } from '@duckdb/node-api';
import { cellOf } from '../../src/output/duckdb-cells.js';
import { csvHeader, csvRow } from '../../src/output/csv.js';
import { jsonRow } from '../../src/output/json.js';
import { tableString } from '../../src/output/print.js';
import { elide, planTable } from '../../src/output/table.js';
import { roundedNumber } from '../../src/output/table-text.js';
import type { Cell } from '../../src/output/cell.js';
import { EVERY_TYPE_SQL } from '../helpers/every-type.js';

async function everyType(): Promise<{ names: string[]; cells: Cell[][]; texts: (string | null)[][] }> {
  const instance = await DuckDBInstance.create(':memory:');
  const connection = await instance.connect();
  const reader = await connection.runAndReadAll(EVERY_TYPE_SQL);
  const types = reader.columnTypes();
  const names = reader.columnNames();
  const cells = reader.getRows().map((row) => row.map((v, i) => cellOf(v, types[i]!)));
  // DuckDB's own text of each value: the reference for what CSV must carry for scalars.
  const cast = await connection.runAndReadAll(`SELECT ${names.map((n) => `CAST("${n}" AS VARCHAR)`).join(', ')} FROM (${EVERY_TYPE_SQL})`);
  const texts = cast.getRows().map((row) => row.map((v) => (v === null ? null : String(v))));
  connection.disconnectSync();
  return { names, cells, texts };
}

const python = (script: string, input: string) => execFileSync('/usr/bin/python3', ['-c', script], { input, encoding: 'utf8' });

test('CSV of every type reads back with Python csv: one header, one record per row, scalars as DuckDB prints them', async () => {
  const { names, cells, texts } = await everyType();
  const csv = csvHeader(names) + cells.map(csvRow).join('');
  const records = JSON.parse(python('import csv,sys,json; print(json.dumps(list(csv.reader(sys.stdin))))', csv)) as string[][];
  assert.equal(records.length, 1 + cells.length);
  assert.deepEqual(records[0], names);
  const scalars = ['interval', 'blob', 'bigdec', 'dec_long', 'hugeint', 'uhugeint', 'big', 'tiny', 'uuid', 'date', 'time', 'timetz', 'ts_us', 'tstz', 'enum', 'bit', 'bool', 'text'];
  for (const name of scalars) {
    const i = names.indexOf(name);
    assert.equal(records[1]![i], texts[0]![i] === 'NaN' ? 'NaN' : texts[0]![i], name);
    assert.equal(records[2]![i], '', `${name}: NULL is an empty field`);
  }
});

test('JSON of every type reads back with Python json: numbers as numbers, lists/structs/maps as such, big integers as strings, NULL as null', async () => {
  const { names, cells, texts } = await everyType();
  const json = `[${cells.map((row) => jsonRow(names, row)).join(',')}]`;
  const [row, nulls] = JSON.parse(python('import json,sys; print(json.dumps(json.load(sys.stdin)))', json)) as Record<string, unknown>[];
  const col = (name: string) => texts[0]![names.indexOf(name)];
  assert.deepEqual(row!.map, { a: 1, b: 2 });
  assert.deepEqual(row!.struct, { x: 1, y: [2, 3], z: { w: 'deep' } });
  assert.deepEqual(row!.list, [1, 2, null]);
  assert.deepEqual(row!.array, [1, 2, 3]);
  assert.deepEqual(row!.json, { k: [1, { n: null }] });
  assert.equal(row!.tiny, 42);
  assert.equal(row!.dec_short, 1.5);
  assert.equal(row!.dec_long, Number(col('dec_long')));
  for (const name of ['bigdec', 'hugeint', 'uhugeint', 'big']) assert.equal(row![name], col(name), `${name} keeps every digit`);
  for (const name of ['interval', 'ts_us', 'tstz', 'time', 'uuid', 'date']) assert.equal(row![name], col(name), name);
  assert.equal(row!.nan, 'NaN');
  assert.equal(row!.inf, 'Infinity');
  assert.ok(Object.values(nulls!).every((v) => v === null));
});

test('a table fits the width, elides the middle of long cells, and prints the last column whole', () => {
  const long = 'x'.repeat(30) + 'MIDDLE' + 'y'.repeat(30);
  const command = 'iozone -i 0 -s 64m -r 64k -f /tmp/iozone.tmp -+n -e -w';
  const rows: Cell[][] = Array.from({ length: 20 }, (_, i) => [i, long, 1234.56789 * i, command]);
  const text = tableString(['n', 'name', 'value', 'command'], rows, 60);
  const lines = text.trimEnd().split('\n');
  for (const line of lines.slice(0, -1)) {
    if (line.includes('iozone')) assert.ok(line.endsWith(command), 'the last column is whole');
  }
  // Everything before the last column fits in the width it was given.
  for (const line of lines.slice(2, -1)) assert.ok(line.indexOf('iozone') <= 60 - Math.floor(60 * 0.4) + 2, line);
  assert.ok(lines.some((l) => l.includes('…')), 'long cells are elided');
  assert.ok(!text.includes('MIDDLE'), 'the middle is what goes');
  assert.match(lines.at(-1)!, /^\(20 rows\)$/);
  assert.equal(tableString(['a'], [[1]]).trimEnd().split('\n').at(-1), '(1 row)');
});

test('columns that cannot fit are left out from the right, named in the footer; the last stays', () => {
  const header = Array.from({ length: 12 }, (_, i) => `column_${i}`);
  const layout = planTable(header, [header.map(() => 'value-text-wide')], { width: 80 });
  assert.ok(layout.dropped.length > 0);
  assert.equal(layout.shown.at(-1), 11, 'the last column is kept');
  assert.deepEqual([...layout.shown.slice(0, -1), ...layout.dropped].sort((a, b) => a - b), header.slice(0, 11).map((_, i) => i));
  assert.ok(Math.max(...layout.dropped) < 11 && Math.min(...layout.dropped) > Math.max(...layout.shown.slice(0, -1)), 'the rightmost go first');
});

test('table numbers are rounded to 6 significant digits; whole numbers stay whole', () => {
  assert.equal(roundedNumber(3.0997777500000003), '3.09978');
  assert.equal(roundedNumber(123456789), '123456789');
  assert.equal(roundedNumber(0.000012345678), '1.23457e-5');
  assert.equal(roundedNumber(-2.5e20), '-2.5e+20');
  assert.equal(elide('abcdefghij', 5), 'ab…ij');
});

test('a table of 200,000 rows is laid out without exceeding the call stack', () => {
  const rows: Cell[][] = Array.from({ length: 200_000 }, (_, i) => [i, `row ${i}`]);
  const text = tableString(['i', 'label'], rows, 80);
  assert.match(text, /\(200000 rows\)\n$/);
});
