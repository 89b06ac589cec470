/**
 * `%%sql` prints every DuckDB type, in a real kernel under a real Jupyter
 * client: nothing crashes on INTERVAL (a BigInt inside), nothing prints
 * `[object Object]`, and each value reads as DuckDB itself prints it.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { DuckDBInstance } from '@duckdb/node-api';
import { driveKernel, htmlOf, installTestKernel } from '../helpers/kernel.js';
import { EVERY_TYPE_SQL } from '../helpers/every-type.js';

let dir: string;
let env: NodeJS.ProcessEnv;

before(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'expert-sql-types-'));
  env = await installTestKernel(dir);
});
after(() => rmSync(dir, { recursive: true, force: true }));

test('%%sql shows every DuckDB type as DuckDB prints it, and -o still gives an Arquero table', async () => {
  const store = path.join(dir, 'types.duckdb');
  const results = await driveKernel(dir, [
    `%store open ${store}`,
    `%%sql -o t\n${EVERY_TYPE_SQL}`,
    `console.log(t.numRows(), t.columnNames().length)`,
  ], env);
  for (const [i, r] of results.entries()) assert.equal(r.status, 'ok', `cell ${i}: ${JSON.stringify(r.outputs)}`);
  const html = htmlOf(results[1]!);
  assert.doesNotMatch(html, /object Object|BigInt/);

  // DuckDB's own text for each value (its VARCHAR cast), read in the same test.
  const instance = await DuckDBInstance.create(':memory:');
  const connection = await instance.connect();
  const reader = await connection.runAndReadAll(`SELECT * FROM (${EVERY_TYPE_SQL}) LIMIT 1`);
  const row = reader.getRows()[0]!;
  const names = reader.columnNames();
  for (const [i, name] of names.entries()) {
    const value = row[i];
    if (value === null) continue;
    const text = String(value);
    const escaped = text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
    // Composite values print as JSON; scalars as DuckDB's own text (numbers may be rounded for reading).
    if (['interval', 'ts_us', 'tstz', 'date', 'time', 'uuid', 'blob', 'bit', 'hugeint', 'bigdec', 'big'].includes(name)) {
      assert.ok(html.includes(escaped), `${name}: ${text} not in the table`);
    }
  }
  assert.match(html, /\{&quot;a&quot;:1,&quot;b&quot;:2\}/, 'a MAP prints as an object');
  connection.disconnectSync();
});
