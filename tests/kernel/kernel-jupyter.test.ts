/**
 * The expert kernel under a real Jupyter client: magics run library calls,
 * `-o` variables reach TypeScript, user errors are one clear line, and an
 * interrupt stops a running %%batch with nothing left behind.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import { procState, startPausedGuest, threadComms } from '../tune/guests.js';
import { pgrep } from '../helpers/processes.js';
import { driveKernel, installTestKernel, streamText as text, type CellResult } from '../helpers/kernel.js';

const run = promisify(execFile);
const CLI = path.join(import.meta.dirname, '..', '..', 'dist', 'src', 'cli', 'main.js');
let dir: string;
let env: NodeJS.ProcessEnv;

before(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'expert-kernel-'));
  env = await installTestKernel(dir);
});

after(() => rmSync(dir, { recursive: true, force: true }));

const cells = (code: string[], extra: string[] = []) => driveKernel(dir, code, env, { extra });
const plain = (cell: CellResult) => cell.outputs.map((o) => String(o.data?.['text/plain'] ?? '')).join('\n');

test('magics run batches and queries, and -o hands an Arquero table to TypeScript', async () => {
  const results = await cells([
    `const pattern: string = "hello%";\nconst word = "it's $(touch /tmp/expert-kernel-pwned)";`,
    `%%batch\nname: kernel-test\ntests:\n  - name: hello\n    command: printf '%s\\n' one two {word}\n    params: {word: ["it's $(touch /tmp/expert-kernel-pwned)"]}\n`,
    `%%sql -o lines\nSELECT l.text FROM line l JOIN process p USING (process_id) WHERE p.label LIKE {pattern} ORDER BY l.seq`,
    `console.log(JSON.stringify(lines.array("text")), lines.numRows())`,
    `%batch list`,
    `%provenance`,
    `%batch?`,
    `%tune discover --format csv`,
    [
      '%%tune search',
      'batch:',
      '  name: search-base',
      '  tests:',
      '    - name: w',
      '      command: echo 5',
      'candidates:',
      '  - {name: base-a}',
      '  - {name: base-b}',
      'objective:',
      `  sql: "SELECT p.policy, CAST(l.text AS DOUBLE) AS value FROM line l JOIN process p USING (process_id) WHERE p.batch_id = {batch_id} AND p.role = 'workload'"`,
      '  direction: max',
      'repetitions: 2',
    ].join('\n'),
    ['%%tune search --dry-run --sample 3', 'batch: {name: space-base, tests: [{name: w, command: "dd if=/dev/zero of=/dev/null count=1"}]}', 'space:', '  guests:', '    vm1: {cpus: [any, 0, 1]}', '    vm2: {cpus: [any, 0, 1]}', 'objective: {metric: dd_rate_bps, direction: max}'].join('\n'),
  ]);
  for (const [i, r] of results.entries()) assert.equal(r.status, 'ok', `cell ${i}: ${JSON.stringify(r.outputs)}`);
  assert.match(text(results[1]!, 'stdout'), /batch 1 finished: 1 of 1 workload succeeded/);
  assert.equal(text(results[3]!, 'stdout').trim(), `["one","two","it's $(touch /tmp/expert-kernel-pwned)"] 3`);
  assert.match(plain(results[4]!), /kernel-test\tfinished/);
  assert.match(plain(results[5]!), /"config_hash"/);
  assert.match(text(results[6]!, 'stdout'), /%batch \/ %%batch: run a batch/);
  assert.match(text(results[7]!, 'stdout'), /^node,guest,pid,tid,kind/);
  assert.match(text(results[8]!, 'stdout'), /base-a\s+2\s+5\b/);
  assert.equal(text(results[8]!, 'stderr'), '', 'the search progress is not on stderr');
  assert.match(plain(results[8]!), /best \(max\): base-[ab] = 5/, 'it is in the progress display');
  // The dry run: the space's size (3 × 3 placements) in the display, a sample of 3 candidates, nothing run.
  assert.match(plain(results[9]!), /space: 9 placements of 2 guests/);
  assert.equal(text(results[9]!, 'stdout').trim().split('\n').filter((l) => /vm1@|baseline/.test(l)).length, 3, text(results[9]!, 'stdout'));
});

test('user errors are one clear message with the cell position, not a stack trace', async () => {
  const [broken] = await cells([`%%batch\nname: broken\ntests:\n  - name: x\n    comand: "true"\n`]);
  assert.equal(broken!.status, 'error');
  const message = text(broken!, 'stderr');
  assert.match(message, /<%%batch cell>:5:5: .*unknown key `comand`.*did you mean `command`/);
  assert.doesNotMatch(message, /\n\s+at /);
  const [typo] = await cells(['%stroe open x.duckdb']);
  assert.equal(typo!.status, 'error');
  assert.match(text(typo!, 'stderr'), /%stroe: no such magic \(did you mean %store\?\)/);
});

test('normal output is not an error: data as HTML, no guests said in words, a failed batch names each cause in full', async () => {
  // What discovery finds here, asked of the CLI independently of the kernel (other QEMU guests may be running).
  const discovered = JSON.parse((await run(process.execPath, [CLI, 'tune', 'discover', '--format', 'json'])).stdout) as { guests: { name: string }[] }[];
  const guests = discovered.flatMap((d) => d.guests.map((g) => g.name));
  const cause = 'the data disk is full, and this sentence goes on well past the 140 characters a line of the progress display has, so that it would be cut there';
  const results = await cells([
    '%tune discover',
    '%%sql\nSELECT {nope} AS x',
    'const m = 10\n  % 3;\nconsole.log(m)',
    '%store open failures.duckdb',
    ['%%batch', 'name: failing', 'tests:', '  - name: bad', `    command: sh -c 'echo warming up >&2; echo "$0" >&2; exit 3' "${cause}"`, '  - name: good', '    command: "true"'].join('\n'),
  ]);
  const [discover, unknownVar, modulo, , failing] = results;

  assert.equal(discover!.status, 'ok');
  assert.equal(text(discover!, 'stderr'), '', 'discovery writes nothing to stderr (a red box)');
  assert.doesNotMatch(text(discover!, 'stdout'), /^node,guest/m, 'no raw CSV');
  if (guests.length === 0) {
    assert.match(text(discover!, 'stdout'), /^no QEMU guests found on this machine \(local\)$/m);
  } else {
    const html = discover!.outputs.map((o) => String(o.data?.['text/html'] ?? '')).join('');
    assert.match(html, /<table/);
    for (const name of guests) assert.ok(html.includes(name), `guest ${name} in the table`);
  }

  assert.equal(unknownVar!.status, 'error');
  assert.equal(text(unknownVar!, 'stderr').trim().split('\n').length, 1, `one line: ${text(unknownVar!, 'stderr')}`);
  assert.match(text(unknownVar!, 'stderr'), /\{nope\}.*no variable 'nope'/);

  assert.equal(modulo!.status, 'ok', JSON.stringify(modulo!.outputs));
  assert.equal(text(modulo!, 'stdout'), '1\n');

  assert.equal(failing!.status, 'error');
  const table = failing!.outputs.map((o) => String(o.data?.['text/html'] ?? '')).find((h) => h.includes('<table')) ?? '';
  assert.ok(table.includes(`exited with code 3: warming up | ${cause}`), `the failed process and its whole cause are in a table: ${table}`);
  assert.ok(!table.includes('good'), 'only the failed workload is listed');
  assert.match(text(failing!, 'stderr'), /1 of 2 workload\(s\) did not succeed/);
  assert.ok(text(failing!, 'stderr').includes(cause), 'the error names the cause in full');
});

test('interrupting a running %%batch stops its processes, restores tuning and marks it interrupted', async () => {
  const marker = `expert-kernel-interrupt-${process.pid}-${Date.now()}`;
  const guest = await startPausedGuest(`kint-${process.pid}`);
  try {
    const before = new Map([...threadComms(guest.pid).keys()].map((tid) => [tid, procState(guest.pid, tid)]));
    const results = await cells(
      [
        `%store open interrupt.duckdb`,
        [
          '%%batch',
          'name: long',
          `machines: {nodes: [{name: here, host: local, vms: [{name: ${guest.name}, port: 1}]}]}`,
          'tests:',
          '  - name: sleeper',
          '    on: nodes',
          `    command: sh -c 'echo started; sleep 300' ${marker}`,
          'policies:',
          `  - {name: pinned, identify: {vms: [${guest.name}]}, pin: {cpus: [0]}, nice: 7}`,
        ].join('\n'),
        `%%sql\nSELECT b.status AS batch, p.status AS process, (SELECT count(*) FROM line) AS lines FROM batch b JOIN process p USING (batch_id)`,
        `%%sql\nSELECT count(*) AS changes, count(*) FILTER (WHERE verified) AS verified, count(*) FILTER (WHERE restored_at IS NOT NULL) AS restored FROM tuning`,
      ],
      ['--interrupt-cell', '1', '--after', '8'],
    );
    assert.equal(results[1]!.status, 'error');
    assert.match(text(results[1]!, 'stderr'), /interrupted/);
    assert.equal(results[2]!.status, 'ok');
    assert.match(plain(results[2]!), /interrupted\tkilled\t1/);
    const [changes, verified, restored] = plain(results[3]!).split('\n')[1]!.split('\t').map(Number);
    assert.ok(changes! > 0, 'the policy changed threads before the interrupt');
    assert.equal(verified, changes);
    assert.equal(restored, changes);
    for (const [tid, state] of before) assert.deepEqual(procState(guest.pid, tid), state, `thread ${tid} is back as it was`);
    assert.deepEqual(pgrep(marker), [], 'no process of the batch is left');
  } finally {
    await guest.stop();
  }
});
