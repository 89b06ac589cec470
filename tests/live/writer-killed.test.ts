// The writer dies (SIGKILL) while a reader's query runs through it: the reader gets one clear error, the socket
// file left behind is found stale and removed, and the store opens with every line the reader had seen.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { setTimeout as delay } from 'node:timers/promises';
import { until } from '../helpers/processes.js';
import { cli, count, liveBatch, LiveDir, startCli } from './helpers.js';

let d: LiveDir;

before(() => {
  d = new LiveDir();
  d.file('long.yaml', liveBatch('live-killed', 2000));
});
after(() => d.cleanup());

test('SIGKILL of the writer mid-query: a clear error, a stale socket removed, nothing lost', async () => {
  const writer = await d.run('long.yaml', 'k.duckdb');
  await delay(1500);
  const seen = await cli(['mine', 'sql', 'select count(*) from line', '--store', 'k.duckdb', '--format', 'csv'], d.dir);
  assert.equal(seen.code, 0, seen.stderr);
  const linesSeen = count(seen.stdout);
  assert.ok(linesSeen > 0);

  // A query that takes far longer than the writer lives.
  const reader = startCli(['mine', 'sql', 'select sum(a.range * b.range) from range(300000) a, range(300000) b', '--store', 'k.duckdb'], d.dir);
  await delay(1000);
  assert.equal(reader.child.exitCode, null, `the long query ended early: ${reader.stderr()}`);
  writer.child.kill('SIGKILL');
  const r = await reader.result;
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, /^expert: the live writer of .*k\.duckdb \(process \d+ \(expert run\)\) went away while this query ran .*run the query again/);
  assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);

  // The killed writer left its socket file: the next reader finds nobody behind it, removes it and opens the file.
  assert.ok(existsSync(d.path('k.duckdb.sock')), 'SIGKILL leaves the socket file');
  const after = await cli(['mine', 'sql', 'select count(*) from line', '--store', 'k.duckdb', '--format', 'csv'], d.dir);
  assert.equal(after.code, 0, after.stderr);
  assert.ok(count(after.stdout) >= linesSeen, `${linesSeen} lines seen live, ${after.stdout} after reopening`);
  assert.ok(await until(() => !existsSync(d.path('k.duckdb.sock')), 2000), 'the stale socket is removed');
});
