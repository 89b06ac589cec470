// `expert dashboard` (another process, a page connected) on a store whose batch ends: the writer parses what its
// live readers asked for before it lets the file go, so the dashboard's polls afterwards open the file read-only,
// for the read only, and never take the write lock from the next reader; a reader that does wait for a lock is told
// the holder's command line (`expert run …`), not `/usr/bin/node`. Real processes: expert run, expert dashboard, readers.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { get, type IncomingMessage } from 'node:http';
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { commandText } from '../../src/store/open-errors.js';
import { openStore } from '../../src/store/store.js';
import { until } from '../helpers/processes.js';
import { cli, liveBatch, LiveDir, startCli } from './helpers.js';

let d: LiveDir;

before(() => {
  d = new LiveDir();
});
after(() => d.cleanup());

/** The open modes (O_ACCMODE of fdinfo's flags: 0 read, 1 write, 2 read-write) of `pid`'s descriptors on `file`. */
function openModes(pid: number, file: string): number[] {
  const modes: number[] = [];
  let fds: string[];
  try {
    fds = readdirSync(`/proc/${pid}/fd`);
  } catch {
    return modes;
  }
  for (const fd of fds) {
    try {
      if (readlinkSync(`/proc/${pid}/fd/${fd}`) !== file) continue;
      const flags = /^flags:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/fdinfo/${fd}`, 'utf8'))?.[1];
      if (flags !== undefined) modes.push(parseInt(flags, 8) & 3);
    } catch {
      // closed meanwhile
    }
  }
  return modes;
}

test('after the batch ends, expert dashboard with a page connected reads the store read-only between polls, and a reader does not wait', async () => {
  d.file('short.yaml', liveBatch('short', 30, 1));
  const storeFile = d.path('short.duckdb');
  const writer = await d.run('short.yaml', 'short.duckdb');
  const dashboard = startCli(['dashboard', 'latest', '--store', 'short.duckdb'], d.dir, {}, true);
  d.children.add(dashboard.child);
  try {
    assert.ok(await until(() => /^http:\/\/\S+token=\S+$/m.test(dashboard.stdout()), 20_000), dashboard.stderr());
    const url = new URL(dashboard.stdout().trim().split('\n')[0]!);
    // A page: the event stream, which makes the dashboard poll the store every second.
    let updates = 0;
    const events = await new Promise<IncomingMessage>((resolve, reject) => get(`${url.origin}/events${url.search}`, resolve).once('error', reject));
    events.on('data', (chunk: Buffer) => { updates += (chunk.toString().match(/^event: update$/gm) ?? []).length; });
    const ran = await writer.result;
    assert.equal(ran.code, 0, ran.stderr);

    // The writer parsed the live views' monitors to the end before it let the file go: nothing is left for a reader to write.
    const store = await openStore(storeFile, { readOnly: true });
    try {
      const state = await store.query(
        `SELECT p.label, coalesce(s.complete, false) AS complete FROM process p LEFT JOIN parsed._state s ON s.process_id = p.process_id AND s.parser = 'vmstat'
         WHERE p.role = 'monitor' ORDER BY p.label`,
      );
      assert.ok(state.rows.length > 0);
      assert.deepEqual(state.rows.map((r) => [r[0], r[1]]), state.rows.map((r) => [r[0], true]), 'every vmstat monitor parsed to its end');
    } finally {
      await store.close();
    }

    // While the dashboard goes on polling, it never holds the file for writing, and other readers never wait.
    const modes = new Set<number>();
    const pid = dashboard.child.pid!;
    const after = updates;
    const readers: string[] = [];
    const sampling = until(() => { for (const m of openModes(pid, storeFile)) modes.add(m); return updates >= after + 3; }, 30_000);
    while (updates < after + 3) {
      const read = await cli(['mine', 'sql', 'SELECT count(*) FROM line', '--store', 'short.duckdb', '--format', 'csv'], d.dir, { EXPERT_LOCK_WAIT_MS: '30000' });
      assert.equal(read.code, 0, read.stderr);
      readers.push(read.stderr);
    }
    assert.ok(await sampling, `the dashboard sent updates after the batch (${updates - after})`);
    assert.deepEqual([...modes].filter((m) => m !== 0), [], 'the dashboard opened the store for writing after the batch');
    assert.deepEqual(readers.filter((e) => /is locked by/.test(e)), [], 'a reader waited for a lock');
    events.destroy();
  } finally {
    dashboard.child.kill('SIGINT');
    await dashboard.result;
  }
  assert.equal(dashboard.stderr().match(/is locked by/g)?.length ?? 0, 0, dashboard.stderr());
});

test('a reader waiting for a lock names the holder by its command line (expert run …), not /usr/bin/node', async () => {
  d.file('long.yaml', ['name: long', 'tests:', '  - {name: sleeper, on: nodes, command: "sleep 300"}', ''].join('\n'));
  // EXPERT_LIVE=0: the writer serves no socket, so a reader must open the file and finds it locked.
  const writer = startCli(['run', 'long.yaml', '--store', 'held.duckdb'], d.dir, { EXPERT_LIVE: '0' }, true);
  d.children.add(writer.child);
  try {
    assert.ok(await until(() => /batch \d+/.test(writer.stdout()) || writer.child.exitCode !== null, 20_000), writer.stderr());
    const read = await cli(['mine', 'sql', 'SELECT 1', '--store', 'held.duckdb'], d.dir, { EXPERT_LOCK_WAIT_MS: '1000' });
    assert.equal(read.code, 2, read.stderr);
    assert.match(read.stderr, new RegExp(`is locked by process ${writer.child.pid} \\(expert run long\\.yaml --store held\\.duckdb\\); waiting up to 1 s`));
    assert.doesNotMatch(read.stderr, /\/usr\/bin\/node|\(node\)/);
  } finally {
    writer.child.kill('SIGINT');
    await writer.result;
  }
  assert.equal(commandText(['/usr/bin/node', '/usr/bin/expert', 'dashboard', 'latest', '--store', 'c.duckdb']), 'expert dashboard latest --store c.duckdb');
  assert.equal(commandText(['node', '--import', 'tsx', 'dist/src/cli/main.js', 'watch', "it's"]), `expert watch "it's"`);
  assert.equal(commandText(['/usr/bin/python3', '-c', 'print(1)']), 'python3 -c "print(1)"');
});
