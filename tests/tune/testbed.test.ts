/**
 * The issue's acceptance run, as a user would do it: `expert testbed up`
 * (real booted guests, the node reached over SSH), then `expert run` of a
 * batch with policies baseline / pin one guest / pin all guests to one core
 * and a monitor that reads the guests' threads through {guest_pids}; the
 * `tuning` table shows what was done and that it was undone.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openStore } from '../../src/store/store.js';
import { expertIn } from '../helpers/cli.js';

// Run in the test's temporary folder (the helper's tsx and CLI paths are absolute).
const expert = expertIn;

test('testbed: baseline / pin-one / pin-all-to-one, recorded in tuning and restored', { timeout: 240_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'expert-tune-testbed-'));
  try {
    const up = await expert(dir, 'testbed', 'up', '--vms', '2', '--accel', 'tcg');
    assert.equal(up.code, 0, up.stderr);
    writeFileSync(
      join(dir, 'batch.yaml'),
      [
        'name: testbed-pinning',
        'machines: testbed',
        'monitors:',
        '  - name: threads',
        '    on: nodes',
        `    command: "for p in $(echo {guest_pids} | tr , ' '); do grep -H Cpus_allowed_list /proc/$p/task/*/status; done"`,
        'tests:',
        '  - name: dd-write',
        '    on: vms',
        '    command: dd if=/dev/zero of=/tmp/dd.tmp bs=64k count=32 conv=fsync',
        'policies:',
        '  - name: baseline',
        '  - name: pin-one',
        '    identify: {vms: [vm1]}',
        '    pin: {cpus: [0]}',
        '  - name: pin-all-to-one',
        '    identify: {vms: all}',
        '    pin: {cpus: [0]}',
        '    nice: 5',
        '',
      ].join('\n'),
    );
    // Discovery over SSH with the testbed's machine map: both guests, each with its vCPU thread.
    const found = await expert(dir, 'tune', 'discover', '--machines', 'testbed', '--format', 'json');
    assert.equal(found.code, 0, found.stderr);
    const nodes = JSON.parse(found.stdout) as Array<{ node: string; guests: Array<{ name: string; threads: Array<{ kind: string }> }> }>;
    assert.deepEqual(nodes.map((n) => n.node), ['node1']);
    assert.deepEqual(nodes[0]!.guests.map((g) => g.name).sort(), ['vm1', 'vm2']);
    for (const g of nodes[0]!.guests) assert.deepEqual(g.threads.filter((t) => t.kind === 'vcpu').length, 1);
    const run = await expert(dir, 'run', 'batch.yaml', '--store', 'tb.duckdb');
    assert.equal(run.code, 0, run.stderr);
    const store = await openStore(join(dir, 'tb.duckdb'), { readOnly: true });
    try {
      const rows = await store.query(
        `SELECT policy, guest, action, count(*)::INTEGER, bool_and(verified), count(restored_at)::INTEGER FROM tuning GROUP BY ALL ORDER BY ALL`,
      );
      const count = (policy: string, guest: string, action: string) => rows.rows.find((r) => r[0] === policy && r[1] === guest && r[2] === action);
      assert.equal(rows.rows.filter((r) => r[0] === 'baseline').length, 0, 'baseline changes nothing');
      assert.ok(count('pin-one', 'vm1', 'pin'), 'pin-one pins vm1');
      assert.equal(count('pin-one', 'vm2', 'pin'), undefined, 'pin-one leaves vm2 alone');
      for (const guest of ['vm1', 'vm2']) for (const action of ['pin', 'nice']) {
        const row = count('pin-all-to-one', guest, action)!;
        assert.ok(row && (row[3] as number) >= 4, `${guest} ${action}: every thread (emulator, vCPU, I/O, workers)`);
      }
      for (const r of rows.rows) {
        assert.equal(r[4], true, `verified: ${r.join(' ')}`);
        assert.equal(r[5], r[3], `restored: ${r.join(' ')}`);
      }
      // The monitor saw vm1's threads on CPU 0 under pin-one, and only then.
      const seen = await store.query(
        `SELECT p.policy, count(*) FILTER (WHERE l.text LIKE '%:	0')::INTEGER FROM line l JOIN process p USING (process_id) WHERE p.role = 'monitor' GROUP BY ALL ORDER BY ALL`,
      );
      const pinnedLines = Object.fromEntries(seen.rows.map((r) => [r[0], r[1]]));
      assert.equal(pinnedLines.baseline, 0);
      assert.ok((pinnedLines['pin-one'] as number) > 0 && (pinnedLines['pin-all-to-one'] as number) > (pinnedLines['pin-one'] as number));
    } finally {
      await store.close();
    }
  } finally {
    await expert(dir, 'testbed', 'down');
    rmSync(dir, { recursive: true, force: true });
  }
});
