import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { LATEST_SCHEMA_VERSION, MIGRATIONS, migrate } from '../../src/store/migrations.js';
import { openStore } from '../../src/store/store.js';
import { newProcess, rows, withStore, withTempDir } from './helpers.js';

test('a new store has every table, column and view of the design, at the latest schema version', () =>
  withStore('schema', async (store) => {
    const columns = await rows(
      store,
      `SELECT table_name, list(column_name ORDER BY column_index) AS columns
       FROM duckdb_columns() WHERE schema_name = 'main' GROUP BY table_name`,
    );
    const byTable = new Map(columns.map((r) => [r.table_name as string, r.columns as string[]]));
    const expected: Record<string, string[]> = {
      batch: ['batch_id', 'name', 'description', 'config', 'provenance', 'status', 'created_at', 'finished_at'],
      process: ['process_id', 'batch_id', 'run', 'label', 'host', 'vm', 'role', 'command', 'params', 'policy', 'rep', 'parser',
        'status', 'exit_code', 'signal', 'started_at', 'ended_at', 'error', 'pid'],
      line: ['process_id', 'seq', 'ts', 'stream', 'text', 'raw'],
      tuning: ['batch_id', 'run', 'policy', 'host', 'guest', 'pid', 'tid', 'thread_kind', 'action', 'before', 'after',
        'applied_at', 'verified', 'restored_at'],
      line_bytes: ['process_id', 'seq', 'ts', 'stream', 'bytes'],
      process_lines: ['batch_id', 'label', 'process_id', 'seq', 'text'],
    };
    for (const [table, wanted] of Object.entries(expected)) {
      const have = byTable.get(table);
      assert.ok(have, `table or view ${table} is missing`);
      for (const column of wanted) assert.ok(have.includes(column), `${table}.${column} is missing (have ${have.join(', ')})`);
    }
    const versions = await rows(store, 'SELECT version FROM schema_version ORDER BY version');
    assert.deepEqual(versions.map((r) => r.version), MIGRATIONS.map((m) => m.version));
    const schemas = await rows(store, `SELECT schema_name FROM duckdb_schemas() WHERE schema_name = 'parsed'`);
    assert.equal(schemas.length, 1, 'schema parsed exists for Mine');
  }));

test('migrations are idempotent: reopening applies nothing and keeps the data', () =>
  withTempDir('migrate', async (dir) => {
    const path = join(dir, 'x.duckdb');
    const first = await openStore(path);
    const { batchId } = await newProcess(first);
    await first.close();

    const second = await openStore(path);
    try {
      assert.deepEqual(await migrate(second.connection), [], 'no migration runs twice');
      const versions = await rows(second, 'SELECT count(*) AS n, max(version) AS v FROM schema_version');
      assert.deepEqual(versions[0], { n: MIGRATIONS.length, v: LATEST_SCHEMA_VERSION });
      const batches = await rows(second, 'SELECT batch_id, name FROM batch');
      assert.deepEqual(batches, [{ batch_id: batchId, name: 'test' }]);
      // Ids keep counting from the sequence, never reused.
      const next = await second.createBatch({ name: 'next', config: {}, provenance: {} });
      assert.ok(next > batchId);
    } finally {
      await second.close();
    }
  }));

test('an empty DuckDB file is migrated; a newer schema than this code knows is refused', () =>
  withTempDir('versions', async (dir) => {
    const plain = join(dir, 'plain.duckdb');
    const instance = await DuckDBInstance.create(plain);
    instance.closeSync();
    const store = await openStore(plain);
    const v = await rows(store, 'SELECT max(version) AS v FROM schema_version');
    assert.equal(v[0]!.v, LATEST_SCHEMA_VERSION);
    await store.connection.run(`INSERT INTO schema_version (version, description) VALUES (${LATEST_SCHEMA_VERSION + 1}, 'future')`);
    await store.close();
    await assert.rejects(openStore(plain), (error: Error) => {
      assert.equal(error.name, 'UserError');
      assert.match(error.message, /newer than this ExPerT knows/);
      return true;
    });
  }));

test('batch, process and tuning rows round-trip through the API', () =>
  withStore('rows', async (store) => {
    const batchId = await store.createBatch({
      name: 'b',
      description: 'd',
      config: { tests: [{ name: 't' }] },
      provenance: { node: process.version },
    });
    await store.setBatchStatus(batchId, 'running');
    const processId = await store.createProcess({
      batchId, label: 'iozone#1', host: 'node1', vm: 'vm1', role: 'workload', command: "iozone -s '16m'",
      params: { size: '16m' }, policy: 'pin-one', rep: 2, parser: 'iozone', run: 3,
    });
    await store.updateProcess(processId, { status: 'running', startedAt: Date.UTC(2026, 0, 1), pid: 4242 });
    await store.updateProcess(processId, { status: 'exited', exitCode: 0, signal: null, endedAt: Date.UTC(2026, 0, 1, 0, 0, 5) });
    await store.setBatchStatus(batchId, 'finished');

    const [p] = await rows(store, `SELECT *, params->>'size' AS size, epoch(ended_at - started_at) AS seconds FROM process`);
    assert.equal(p!.label, 'iozone#1');
    assert.equal(p!.size, '16m');
    assert.equal(p!.status, 'exited');
    assert.equal(p!.exit_code, 0);
    assert.equal(p!.pid, 4242);
    assert.equal(p!.run, 3);
    assert.equal(p!.seconds, 5);
    const [b] = await rows(store, `SELECT status, finished_at IS NOT NULL AS done, config->'tests'->0->>'name' AS t, owner_pid FROM batch`);
    assert.deepEqual(b, { status: 'finished', done: true, t: 't', owner_pid: process.pid });

    await store.recordTuning({
      batchId, host: 'node1', guest: 'vm1', pid: 10, tid: 11, threadKind: 'vcpu', action: 'pin',
      before: { cpus: '0-3' }, after: { cpus: '0' }, appliedAt: Date.now(), verified: true, run: 3, policy: 'pin-one',
    });
    await store.markRestored(batchId, 'node1', 11, Date.now());
    const [t] = await rows(store, `SELECT "after"->>'cpus' AS cpus, restored_at IS NOT NULL AS restored, policy FROM tuning`);
    assert.deepEqual(t, { cpus: '0', restored: true, policy: 'pin-one' });
    await assert.rejects(store.createProcess({ batchId, label: 'x', host: 'h', role: 'bogus' as 'workload', command: 'c' }), /CHECK|Constraint/i);
  }));

test('a store opened for writing caps DuckDB memory (128MB by default, EXPERT_STORE_MEMORY_LIMIT or settings override)', () =>
  withTempDir('memory', async (dir) => {
    const limitOf = async (path: string, options = {}) => {
      const store = await openStore(join(dir, path), options);
      try {
        return String((await rows(store, `SELECT current_setting('memory_limit') AS m`))[0]!.m);
      } finally {
        await store.close();
      }
    };
    assert.match(await limitOf('a.duckdb'), /^122\.0 MiB$/);
    assert.match(await limitOf('b.duckdb', { settings: { memory_limit: '1GB' } }), /^953\.6 MiB$/);
    process.env.EXPERT_STORE_MEMORY_LIMIT = '64MB';
    try {
      assert.match(await limitOf('c.duckdb'), /^61\.0 MiB$/);
      process.env.EXPERT_STORE_MEMORY_LIMIT = 'plenty';
      await assert.rejects(openStore(join(dir, 'd.duckdb')), (error: Error) => {
        assert.equal(error.name, 'UserError');
        assert.match(error.message, /d\.duckdb.*memory/is);
        return true;
      });
    } finally {
      delete process.env.EXPERT_STORE_MEMORY_LIMIT;
    }
  }));

test('a version-1 store with lines migrates to version 2: every line kept byte-exact, views still work, text stored uncompressed', () =>
  withTempDir('v1', async (dir) => {
    const path = join(dir, 'v1.duckdb');
    // A store as version 1 of this code left it: migration 1 only, with lines in it.
    const instance = await DuckDBInstance.create(path);
    const connection = await instance.connect();
    await connection.run(`CREATE TABLE schema_version (version INTEGER PRIMARY KEY, description VARCHAR NOT NULL,
      applied_at TIMESTAMPTZ NOT NULL DEFAULT current_timestamp)`);
    for (const statement of MIGRATIONS[0]!.statements) await connection.run(statement);
    await connection.run(`INSERT INTO schema_version (version, description) VALUES (1, 'v1')`);
    await connection.run(`INSERT INTO batch (name) VALUES ('old')`);
    await connection.run(`INSERT INTO process (batch_id, label, host, role, command) VALUES (1, 'p', 'local', 'workload', 'x')`);
    await connection.run(`INSERT INTO line SELECT 1, i, TIMESTAMPTZ '2026-01-01 00:00:00+00' + to_microseconds(i), 'stdout', 'line ' || i,
      CASE WHEN i = 7 THEN '\\xFF\\xFEbad'::BLOB END FROM range(5000) t(i)`);
    connection.disconnectSync();
    instance.closeSync();

    const store = await openStore(path);
    try {
      const [v] = await rows(store, 'SELECT max(version) AS v FROM schema_version');
      assert.equal(v!.v, LATEST_SCHEMA_VERSION);
      const [l] = await rows(store, `SELECT count(*) AS n, count(DISTINCT seq) AS d, max(seq) AS m, min(text) AS first FROM line`);
      assert.deepEqual(l, { n: 5000, d: 5000, m: 4999, first: 'line 0' });
      const [bad] = await rows(store, `SELECT hex(bytes) AS h FROM line_bytes WHERE seq = 7`);
      assert.equal(bad!.h, 'FFFE626164');
      const [joined] = await rows(store, `SELECT count(*) AS n FROM process_lines WHERE label = 'p'`);
      assert.equal(joined!.n, 5000);
      // New lines land in the migrated table, with `text` uncompressed (migration 2's reason).
      const { processId } = await newProcess(store);
      const writer = store.lineWriter();
      for (let i = 0; i < 130_000; i++) writer.append(processId, { stream: 'stdout', ts: Date.now(), bytes: Buffer.from(`new ${i} ${'y'.repeat(i % 80)}`) });
      await writer.close();
      await store.connection.run('CHECKPOINT');
      const compressions = await rows(
        store,
        `SELECT DISTINCT compression FROM pragma_storage_info('line') WHERE column_name = 'text' AND segment_type <> 'VALIDITY'`,
      );
      assert.deepEqual(compressions.map((r) => r.compression), ['Uncompressed']);
      const [after] = await rows(store, `SELECT count(*) AS n, max(seq) AS m FROM line WHERE process_id = $1`, [processId]);
      assert.deepEqual(after, { n: 130_000, m: 129_999 });
    } finally {
      await store.close();
    }
  }));
