import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { openStore } from '../../src/store/store.js';
import { line, newProcess, rows, withStore, withTempDir } from './helpers.js';

test('seq is dense from 0 per process, in arrival order, stdout and stderr interleaved in one sequence', () =>
  withStore('seq', async (store) => {
    const a = await newProcess(store, 'a');
    const b = await store.createProcess({ batchId: a.batchId, label: 'b', host: 'local', role: 'monitor', command: 'vmstat' });
    const writer = store.lineWriter();
    const sent = new Map<number, string[]>([[a.processId, []], [b, []]]);
    // More than one data chunk (2048 rows) and an uneven interleaving of processes and streams.
    for (let i = 0; i < 5000; i++) {
      const id = i % 3 === 0 ? b : a.processId;
      const stream = i % 5 === 0 ? 'stderr' : 'stdout';
      const text = `${stream} line ${i} of ${id}`;
      sent.get(id)!.push(`${stream}:${text}`);
      writer.append(id, line(text, stream, 1_700_000_000_000 + i));
    }
    await writer.close();
    assert.equal(writer.count, 5000);
    for (const [id, texts] of sent) {
      const stored = await rows(store, 'SELECT seq, stream, text FROM line WHERE process_id = $1 ORDER BY seq', [id]);
      assert.deepEqual(stored.map((r) => r.seq), texts.map((_, i) => i), `seq of process ${id} is dense from 0`);
      assert.deepEqual(stored.map((r) => `${r.stream}:${r.text}`), texts, `order of process ${id} is arrival order`);
    }
    const [ts] = await rows(store, `SELECT epoch_ms(min(ts)) AS first FROM line`);
    assert.equal(ts!.first, 1_700_000_000_000);
  }));

test('lines that are not UTF-8 keep their exact bytes in raw; UTF-8 lines leave raw NULL', () =>
  withStore('binary', async (store) => {
    const { processId } = await newProcess(store);
    const everyByte = Buffer.from(Array.from({ length: 256 }, (_, i) => i).filter((b) => b !== 0x0a));
    const samples: Buffer[] = [
      Buffer.from('plain ascii'),
      Buffer.from('héllo wörld ✓ 日本 \u{1F600}'),
      Buffer.from('tab\tand\rcarriage return and NUL \0 inside'),
      everyByte,
      Buffer.from([0xff, 0xfe, 0x00, 0x41, 0xc3]),
      Buffer.from([0xc3]), // truncated sequence
      Buffer.from([0xed, 0xa0, 0x80]), // UTF-16 surrogate encoded: invalid UTF-8
      Buffer.alloc(0),
      ...Array.from({ length: 20 }, () => randomBytes(1 + Math.floor(Math.random() * 300)).filter((b) => b !== 0x0a)),
    ];
    const writer = store.lineWriter();
    for (const bytes of samples) writer.append(processId, line(Buffer.from(bytes)));
    await writer.close();
    const stored = await rows(store, 'SELECT l.seq, l.text, l.raw, b.bytes FROM line l JOIN line_bytes b USING (process_id, seq) ORDER BY seq');
    assert.equal(stored.length, samples.length);
    for (const [i, sample] of samples.entries()) {
      const row = stored[i]!;
      assert.deepEqual(Buffer.from(row.bytes as Uint8Array), sample, `line ${i}: line_bytes gives the exact bytes`);
      const valid = Buffer.from(sample.toString('utf8'), 'utf8').equals(sample);
      if (valid) {
        assert.equal(row.raw, null, `line ${i}: valid UTF-8 needs no raw`);
        assert.equal(row.text, sample.toString('utf8'));
      } else {
        assert.deepEqual(Buffer.from(row.raw as Uint8Array), sample, `line ${i}: raw holds the exact bytes`);
        assert.equal(row.text, sample.toString('utf8'), `line ${i}: text holds a lossy decoding`);
      }
    }
  }));

test('lines of every length across many chunks (short ones inline, long ones in the heap, bad UTF-8 anywhere) come back byte-exact', () =>
  withStore('chunks', async (store) => {
    const { processId } = await newProcess(store);
    // Deterministic mix: lengths 0..40 around DuckDB's 12-byte inline limit, some long lines, and a
    // non-UTF-8 line at the first row of a chunk (row 0 carries the chunk's packed bytes) and elsewhere.
    const samples: Buffer[] = [];
    for (let i = 0; i < 9000; i++) {
      let bytes: Buffer;
      if (i % 2048 === 0 || i % 997 === 5) bytes = Buffer.from([0xff, 0x41 + (i % 26), 0xc3, 0x20, ...Buffer.from(String(i))]);
      else if (i % 500 === 7) bytes = Buffer.from(`${i} ${'long '.repeat(2000)}`);
      else bytes = Buffer.from(`${i}:${'abcdefghijklmnopqrstuvwxyzé'.slice(0, i % 41)}`);
      samples.push(bytes);
    }
    const writer = store.lineWriter();
    for (const bytes of samples) writer.append(processId, line(bytes));
    await writer.close();
    const stored = await rows(store, 'SELECT seq, raw IS NULL AS plain, bytes FROM line JOIN line_bytes USING (process_id, seq) ORDER BY seq');
    assert.equal(stored.length, samples.length);
    for (const [i, sample] of samples.entries()) {
      assert.deepEqual(Buffer.from(stored[i]!.bytes as Uint8Array), sample, `line ${i} byte-exact`);
      assert.equal(stored[i]!.plain, Buffer.from(sample.toString('utf8')).equals(sample), `line ${i}: raw only when not UTF-8`);
    }
    // Equality and prefix comparisons on text work (DuckDB compares inline strings and prefixes directly).
    const [hit] = await rows(store, `SELECT count(*) AS n FROM line WHERE text = '13:abcdefghijklm' OR text LIKE '4507 long%'`);
    assert.equal(hit!.n, 2);
  }));

test('a 10 MB line is stored whole, as UTF-8 text and as bytes that are not UTF-8', () =>
  withStore('big', async (store) => {
    const { processId } = await newProcess(store);
    const size = 10 * 1024 * 1024;
    const text = Buffer.alloc(size, 'abcdefghij0123456789 é');
    const binary = randomBytes(size).map((b) => (b === 0x0a ? 0x0b : b));
    binary[0] = 0xff; // surely not UTF-8
    const writer = store.lineWriter();
    writer.append(processId, line('before'));
    writer.append(processId, line(text));
    writer.append(processId, line(binary));
    writer.append(processId, line('after'));
    await writer.close();
    const stored = await rows(store, `SELECT seq, octet_length(bytes) AS n, md5(bytes) AS h FROM line_bytes ORDER BY seq`);
    const md5 = async (b: Buffer) => (await import('node:crypto')).createHash('md5').update(b).digest('hex');
    assert.deepEqual(stored, [
      { seq: 0, n: 6, h: await md5(Buffer.from('before')) },
      { seq: 1, n: text.length, h: await md5(text) },
      { seq: 2, n: binary.length, h: await md5(binary) },
      { seq: 3, n: 5, h: await md5(Buffer.from('after')) },
    ]);
  }));

test('a query in the same process sees new lines within a second while writing goes on', () =>
  withStore('visible', async (store) => {
    const writer = store.lineWriter(); // default flush interval: nobody calls flush() here
    let written = 0;
    const producer = setInterval(() => {
      for (let i = 0; i < 200; i++) writer.append(1, line(`line ${written++}`));
    }, 5);
    try {
      for (let probe = 0; probe < 3; probe++) {
        await delay(150);
        const target = written - 1;
        const appendedAt = Date.now();
        let seenAt: number | undefined;
        while (Date.now() - appendedAt < 3000) {
          const [r] = await rows(store, 'SELECT count(*) AS n FROM line WHERE seq >= $1', [target]);
          if ((r!.n as number) > 0) {
            seenAt = Date.now();
            break;
          }
          await delay(20);
        }
        assert.ok(seenAt !== undefined, `line ${target} never became visible`);
        assert.ok(seenAt - appendedAt <= 1000, `line ${target} became visible after ${seenAt - appendedAt} ms, more than 1 s`);
      }
    } finally {
      clearInterval(producer);
      await writer.close();
    }
    const [r] = await rows(store, 'SELECT count(*) AS n, max(seq) AS m FROM line');
    assert.deepEqual(r, { n: written, m: written - 1 });
  }));

test('two opens of one file in one process share it; the file stays usable until the last close', () =>
  withTempDir('shared', async (dir) => {
    const path = join(dir, 'x.duckdb');
    const runner = await openStore(path);
    const reader = await openStore(join(dir, '.', 'x.duckdb'), { readOnly: true });
    try {
      assert.equal(reader.readOnly, true);
      const { processId } = await newProcess(runner);
      const writer = runner.lineWriter();
      writer.append(processId, line('seen by the other handle'));
      await writer.flush();
      const [r] = await rows(reader, 'SELECT text FROM line');
      assert.equal(r!.text, 'seen by the other handle');
      await assert.rejects(reader.createBatch({ name: 'x', config: {}, provenance: {} }), /read-only/);
      assert.throws(() => reader.lineWriter(), /read-only/);
      await writer.close();
    } finally {
      await runner.close();
    }
    const [r] = await rows(reader, 'SELECT count(*) AS n FROM line');
    assert.equal(r!.n, 1);
    await reader.close();
  }));

test('two line writers on one store (two batches at once) each keep their own processes dense', () =>
  withStore('writers', async (store) => {
    const one = store.lineWriter();
    const two = store.lineWriter({ flushIntervalMs: 50 });
    for (let i = 0; i < 130_000; i++) {
      one.append(1, line(`one ${i}`));
      if (i % 3 === 0) two.append(2, line(`two ${i / 3}`, 'stderr'));
      if (i % 40_000 === 0) await delay(60); // let two's timer commit between one's row groups
    }
    await Promise.all([one.close(), two.close()]);
    const counts = await rows(store, 'SELECT process_id AS p, count(*) AS n, max(seq) AS m, count(DISTINCT seq) AS d FROM line GROUP BY 1 ORDER BY 1');
    assert.deepEqual(counts, [
      { p: 1, n: 130_000, m: 129_999, d: 130_000 },
      { p: 2, n: 43_334, m: 43_333, d: 43_334 },
    ]);
    const [last] = await rows(store, 'SELECT text FROM line WHERE process_id = 2 AND seq = 43333');
    assert.equal(last!.text, 'two 43333');
  }));
