/**
 * What a new user hit in the trial of the CLI (each failed before its fix):
 * a chart spec's bad SQL was exit 70, `| head` did not stop a long query, an
 * empty query or output path gave DuckDB's or the OS's words, and publishing
 * to a missing folder printed a Python traceback.
 */
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';

const run = promisify(execFile);
const CLI = resolve('dist/src/cli/main.js');
let dir: string;

async function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [CLI, ...args], { cwd: dir, timeout: 120_000 });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'expert-new-user-'));
  writeFileSync(join(dir, 'b.yaml'), 'name: tiny\nmachines: {nodes: [{name: here, host: local}]}\ntests:\n  - {name: s, on: nodes, command: "seq 1 3"}\n');
  const made = await cli(['run', 'b.yaml']);
  assert.equal(made.code, 0, made.stderr);
});
after(() => rmSync(dir, { recursive: true, force: true }));

test("a chart spec whose SQL fails is the user's error (exit 2, naming data.sql), not a bug (70)", async () => {
  writeFileSync(join(dir, 'bad.yaml'), 'data: {sql: "select run, x from nosuch"}\nkind: scatter\nx: run\ny: x\n');
  const ran = await cli(['plot', 'bad.yaml', '--out', 'b.html']);
  assert.equal(ran.code, 2, ran.stderr);
  assert.match(ran.stderr, /data\.sql of the chart spec: .*nosuch/);
  assert.doesNotMatch(ran.stderr, /internal error/);
});

test('empty arguments get a plain message: an empty query, an empty --out, publishing into a missing folder', async () => {
  const empty = await cli(['mine', 'sql', '']);
  assert.equal(empty.code, 2);
  assert.match(empty.stderr, /the query is empty/);
  const out = await cli(['report', 'latest', '--out', '']);
  assert.equal(out.code, 2);
  assert.match(out.stderr, /--out: give a file name/);
  const publish = await cli(['notebook', 'publish', resolve('notebooks/01-quickstart.ipynb'), '--html', '/nonexistent-folder/x.html']);
  assert.equal(publish.code, 2);
  assert.match(publish.stderr, /--html .*folder \/nonexistent-folder does not exist/);
  assert.doesNotMatch(publish.stderr, /Traceback/);
});

test('a reader that leaves the pipe stops the query: range(10^12) | head ends, exit 0, the first rows whole', async () => {
  // A query DuckDB could not finish in hours: the verb must end because the reader went away.
  const child = spawn('bash', ['-c', `"${process.execPath}" "${CLI}" mine sql "select * from range(1000000000000)" --format csv | head -3`], { cwd: dir });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  const code = await new Promise<number | null>((done) => {
    const guard = setTimeout(() => child.kill('SIGKILL'), 120_000);
    child.on('exit', (c) => (clearTimeout(guard), done(c)));
  });
  assert.equal(code, 0, 'the pipeline ended by itself');
  assert.equal(out, 'range\n0\n1\n');
});
