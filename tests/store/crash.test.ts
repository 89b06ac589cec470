import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { openStore } from '../../src/store/store.js';
import { Child, rows, tempDir } from './helpers.js';

test('kill -9 of a process that is ingesting: the store reopens with every flushed line, and the batch is not finished', async () => {
  const { dir, cleanup } = tempDir('crash');
  const path = join(dir, 'x.duckdb');
  const child = new Child('ingest-child.ts', [path]);
  try {
    const [, batchText, processText] = await child.waitFor(/^batch (\d+) process (\d+)$/);
    let flushed = 0;
    for (let i = 0; i < 8; i++) flushed = Number((await child.waitFor(/^flushed (\d+)$/))[1]);
    await child.kill('SIGKILL');
    assert.equal(child.process.signalCode, 'SIGKILL');

    // Read-only first: exactly what the crash left, before anyone repairs it.
    const asLeft = await openStore(path, { readOnly: true });
    try {
      const [b] = await rows(asLeft, 'SELECT status FROM batch WHERE batch_id = $1', [Number(batchText)]);
      assert.equal(b!.status, 'running', 'a crashed batch is never shown finished');
      const [l] = await rows(asLeft, 'SELECT count(*) AS n, max(seq) AS m, count(DISTINCT seq) AS d FROM line WHERE process_id = $1', [
        Number(processText),
      ]);
      assert.ok((l!.n as number) >= flushed, `${l!.n} lines survived, ${flushed} were flushed before the kill`);
      assert.equal(l!.d, l!.n, 'no seq twice');
      assert.equal(l!.m, (l!.n as number) - 1, 'seq dense: no hole in what survived');
      const texts = await rows(asLeft, 'SELECT seq, text FROM line WHERE process_id = $1 AND seq IN (0, $2) ORDER BY seq', [
        Number(processText),
        flushed - 1,
      ]);
      assert.deepEqual(texts.map((r) => (r.text as string).split(' ').slice(0, 2).join(' ')), ['line 0', `line ${flushed - 1}`]);
    } finally {
      await asLeft.close();
    }

    // Read-write: the dead runner's batch becomes `interrupted`, its running process `lost`.
    const repaired = await openStore(path);
    try {
      assert.deepEqual([...repaired.abandonedBatches], [Number(batchText)]);
      const [b] = await rows(repaired, 'SELECT status, finished_at IS NOT NULL AS ended FROM batch');
      assert.deepEqual(b, { status: 'interrupted', ended: true });
      const [p] = await rows(repaired, 'SELECT status FROM process');
      assert.equal(p!.status, 'lost');
    } finally {
      await repaired.close();
    }
  } finally {
    await child.kill('SIGKILL');
    cleanup();
  }
});

test('process.exit() with lines not yet flushed: the exit hook commits them', async () => {
  const { dir, cleanup } = tempDir('exit');
  const path = join(dir, 'x.duckdb');
  const child = new Child('exit-child.ts', [path, '5000']);
  try {
    await child.waitFor(/^appended$/);
    const code = await new Promise((resolve) => (child.process.exitCode !== null ? resolve(child.process.exitCode) : child.process.once('exit', resolve)));
    assert.equal(code, 3);
    const store = await openStore(path, { readOnly: true });
    try {
      const [r] = await rows(store, 'SELECT count(*) AS n, max(seq) AS m FROM line WHERE process_id = 7');
      assert.deepEqual(r, { n: 5000, m: 4999 });
    } finally {
      await store.close();
    }
  } finally {
    await child.kill('SIGKILL');
    cleanup();
  }
});
