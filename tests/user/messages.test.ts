// What the installed `expert` says when something is wrong, and how it says things (issue 11 items 7 and 16):
// a usage error is one line and a hint, not the whole help; bad output paths exit 2 promptly, never 70 or a spin;
// counts read as English ("1 line", not "(1 lines)"); the README stands on its own in a clone.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { assertAdviceTrue } from './helpers/advice.js';
import { describe, expert, type Ran } from './helpers/expert.js';
import { CHECKOUT, linkCheckout, type Installed } from './helpers/install.js';

let dir: string;
let cli: Installed;
let runStderr: string;

/** A command that must end promptly: a spin or a hang fails the test after this long. */
const PROMPT_MS = 20_000;

function run(args: string[], timeoutMs?: number): Promise<Ran> {
  return expert(cli, args, { cwd: dir, timeoutMs });
}

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'expert-user-messages-'));
  cli = linkCheckout(CHECKOUT, join(dir, 'prefix'));
  // One run, one workload that prints one line, one monitor line: every count in the progress is 1.
  writeFileSync(join(dir, 'one.yaml'), 'name: one\nmonitors:\n  - {name: once, on: nodes, command: "echo tick; sleep 30"}\ntests:\n  - name: one-line\n    command: "sleep 0.5; echo only"\n');
  const ran = await run(['run', 'one.yaml']);
  assert.equal(ran.code, 0, describe(ran));
  runStderr = ran.stderr;
  writeFileSync(join(dir, 'a-file'), 'not a folder\n');
  writeFileSync(join(dir, 'chart.yaml'), 'data: {runs: true}\nkind: box\nx: policy\ny: duration_s\n');
});
after(() => rmSync(dir, { recursive: true, force: true }));

const USAGE_ERRORS: [string[], string[]][] = [
  [['mine', 'sumary'], ['mine']],
  [['mine', 'summary', '--bogus'], ['mine', 'summary']],
  [['run'], ['run']],
  [['mine', 'sql'], ['mine', 'sql']],
  [['report', 'latest'], ['report']],
  [['no-such-verb'], []],
];

for (const [args, verb] of USAGE_ERRORS) {
  test(`usage error \`expert ${args.join(' ')}\`: exit 2, one line and a hint, not the whole help`, async () => {
    const ran = await run(args);
    assert.equal(ran.code, 2, describe(ran));
    const lines = ran.stderr.trim().split('\n');
    assert.ok(!ran.stderr.includes('Options:') && !ran.stderr.includes('Commands:'), `not the help: ${ran.stderr}`);
    // Commander's errors end with a hint to --help; the program's own (`expert: …`) say what to do in their one line.
    const hinted = lines.length <= 3 && lines.at(-1)!.includes('--help');
    const oneLine = lines.length === 1 && lines[0]!.startsWith('expert: ');
    assert.ok(hinted || oneLine, `one line and a hint (and perhaps a did-you-mean): ${ran.stderr}`);
    assert.equal(ran.stdout, '', 'nothing on stdout');
    await assertAdviceTrue(cli, dir, verb, ran.stderr, args);
  });
}

const BAD_OUTPUTS: { what: string; args: string[]; made: string }[] = [
  { what: 'mine export --parquet under a file', args: ['mine', 'export', '--parquet', 'a-file/sub'], made: 'a-file/sub' },
  { what: 'mine export --parquet /proc/nope', args: ['mine', 'export', '--parquet', '/proc/nope'], made: '/proc/nope' },
  { what: 'mine export --parquet that is a file', args: ['mine', 'export', '--parquet', 'a-file'], made: 'a-file/batch.parquet' },
  { what: 'report --out into a missing folder', args: ['report', 'latest', '--out', 'no-folder/report.html'], made: 'no-folder' },
  { what: 'plot --out under /proc', args: ['plot', 'chart.yaml', '--out', '/proc/nope/chart.html'], made: '/proc/nope' },
  { what: 'plot of a spec that does not exist', args: ['plot', 'no-such-chart.yaml', '--out', 'x.html'], made: 'x.html' },
];

for (const { what, args, made } of BAD_OUTPUTS) {
  test(`${what}: exit 2 promptly with one message (never 70, no stack trace)`, async () => {
    const ran = await run(args, PROMPT_MS);
    assert.ok(!ran.timedOut, `ended within ${PROMPT_MS / 1000} s (no spin)`);
    assert.equal(ran.code, 2, describe(ran));
    assert.ok(!ran.stderr.includes('internal error') && !/\n\s+at /.test(ran.stderr), `no stack trace: ${ran.stderr}`);
    assert.equal(ran.stderr.trim().split('\n').length, 1, `one message: ${ran.stderr}`);
    assert.ok(!existsSync(resolve(dir, made)), `${made} was not made`);
    await assertAdviceTrue(cli, dir, args[0] === 'mine' ? args.slice(0, 2) : args.slice(0, 1), ran.stderr);
  });
}

/** "1 lines", "1 rows", "1 processes", … anywhere in a text. */
function singularsAsPlurals(text: string): string[] {
  return [...text.matchAll(/(?<![\d.,])1 (lines|rows|processes|runs|workloads|errors|parse errors|batches|files|guests|nodes|tests|samples)\b/g)].map((m) => m[0]);
}

test('expert run of one run with one line each: no "(1 lines)"-style counts in the progress', () => {
  assert.ok(runStderr.includes('one-line'), `the run printed its progress: ${runStderr}`);
  assert.deepEqual(singularsAsPlurals(runStderr), [], runStderr);
});

test('mine parse and a one-row table: no "1 rows" / "1 processes"', async () => {
  writeFileSync(join(dir, 'dd.yaml'), 'name: one-dd\ntests:\n  - name: dd\n    command: dd if=/dev/zero of=/dev/null bs=4k count=1\n');
  const batch = await run(['run', 'dd.yaml']);
  assert.equal(batch.code, 0, describe(batch));
  assert.ok(batch.stdout.startsWith('batch '), `expert run printed its batch: ${JSON.stringify(batch.stdout)}`);
  const parse = await run(['mine', 'parse', 'dd', '--batch', 'one-dd', '--format', 'table']);
  assert.equal(parse.code, 0, describe(parse));
  assert.ok(parse.stdout.includes('bytes') && parse.stderr.includes('dd'), `the parsed row and the parse report: ${parse.stdout}${parse.stderr}`);
  const table = await run(['mine', 'sql', 'SELECT 1 AS one', '--format', 'table']);
  assert.equal(table.code, 0, describe(table));
  assert.ok(table.stdout.includes('one'), `the one-row table: ${JSON.stringify(table.stdout)}`);
  assert.deepEqual(singularsAsPlurals(`${batch.stderr}\n${parse.stderr}\n${parse.stdout}\n${table.stdout}`), []);
});

test('the README stands on its own: no link to ../shared/DESIGN.md or any file outside the package', () => {
  const readme = readFileSync(join(CHECKOUT, 'README.md'), 'utf8');
  assert.ok(!readme.includes('shared/DESIGN.md'), 'README points at ../shared/DESIGN.md, which a clone does not have');
  const outside = [...readme.matchAll(/(?:\]\(|`)(\.\.\/[^)`\s]+)/g)].map((m) => m[1]!).filter((p) => !p.startsWith('../dist/'));
  assert.deepEqual(outside, [], 'paths that leave the package');
  for (const [, target] of readme.matchAll(/\]\((?!https?:|#)([^)\s]+)\)/g)) {
    assert.ok(existsSync(join(CHECKOUT, target!.split('#')[0]!)), `README links to ${target}, which is not in the package`);
  }
});
