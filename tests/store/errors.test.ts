import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { openStore } from '../../src/store/store.js';
import { UserError } from '../../src/errors.js';
import { Child, tempDir } from './helpers.js';

function userError(pattern: RegExp) {
  return (error: Error) => {
    assert.ok(error instanceof UserError, `a UserError, not: ${error.stack}`);
    assert.match(error.message, pattern);
    return true;
  };
}

test('a store locked by another process: the error names the PID and only advice that exists', async () => {
  const { dir, cleanup } = tempDir('locked');
  const path = join(dir, 'x.duckdb');
  // A writer that does not serve live reads (EXPERT_LIVE=0; one that does is read through, tests/live/).
  const holder = new Child('hold-store.ts', [path], { EXPERT_LIVE: '0' });
  try {
    const [, pid] = await holder.waitFor(/^open (\d+)$/);
    await assert.rejects(openStore(path), (error: Error) => {
      userError(new RegExp(`locked by process ${pid}\\b.*Wait for that process`, 's'))(error);
      // There is no --read-only flag: the message must not send a user to one.
      assert.doesNotMatch(error.message, /--read-only/);
      return true;
    });
    // Read-only is refused too while a writer holds it, with the same explanation.
    await assert.rejects(openStore(path, { readOnly: true }), userError(/locked by process \d+/));
  } finally {
    await holder.kill();
    cleanup();
  }
});

test('a store opened read-only by other processes can be opened read-only here too', async () => {
  const { dir, cleanup } = tempDir('readers');
  const path = join(dir, 'x.duckdb');
  await (await openStore(path)).close();
  const reader = new Child('hold-store.ts', [path, '--read-only']);
  try {
    await reader.waitFor(/^open \d+$/);
    const store = await openStore(path, { readOnly: true });
    assert.equal(store.readOnly, true);
    await store.close();
    await assert.rejects(openStore(path), userError(/locked by process/));
  } finally {
    await reader.kill();
    cleanup();
  }
});

test('a file that is not a DuckDB file, a missing directory, a directory, a missing read-only store', async () => {
  const { dir, cleanup } = tempDir('bad');
  try {
    const notDuck = join(dir, 'notes.duckdb');
    writeFileSync(notDuck, 'these are my notes, not a database\n'.repeat(200));
    await assert.rejects(openStore(notDuck), userError(/exists but is not a DuckDB store/));
    await assert.rejects(openStore(notDuck, { readOnly: true }), userError(/not a DuckDB store/));
    await assert.rejects(openStore(join(dir, 'nowhere', 'x.duckdb')), userError(/directory .*nowhere does not exist/));
    mkdirSync(join(dir, 'adir'));
    await assert.rejects(openStore(join(dir, 'adir')), userError(/is a directory/));
    await assert.rejects(openStore(join(dir, 'missing.duckdb'), { readOnly: true }), userError(/no store at .*missing\.duckdb.*only `expert run` creates one/));
    await assert.rejects(openStore(join(dir, 'missing.duckdb'), { create: false }), userError(/no store at/));
    // A DuckDB file of someone else's: fine for writing (migrated), but read-only says it is no store.
    const foreign = join(dir, 'foreign.duckdb');
    (await DuckDBInstance.create(foreign)).closeSync();
    await assert.rejects(openStore(foreign, { readOnly: true }), userError(/not an ExPerT store/));
  } finally {
    cleanup();
  }
});
