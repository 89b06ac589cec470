/**
 * Two clones, one system-wide kernelspec: the kernel is installed from this
 * checkout, and a notebook in a second clone (its own package.json and
 * build, the dependencies shared) runs with it through `expert notebook
 * run`. Its magics and its `import ... from "expert-ts"` must be one library
 * instance, the second clone's: a table `%%sql` creates is visible to
 * `openStore()` in TypeScript and the other way round, and the package name
 * resolves into the second clone.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import { installTestKernel } from '../helpers/kernel.js';

const run = promisify(execFile);
const ROOT = resolve(import.meta.dirname, '..', '..');
const CLI = join(ROOT, 'dist', 'src', 'cli', 'main.js');

let dir: string;
let clone: string;
let env: NodeJS.ProcessEnv;

before(async () => {
  dir = realpathSync(mkdtempSync(join(tmpdir(), 'expert-clone2-')));
  env = await installTestKernel(dir);
  delete env.EXPERT_STORE;
  // The second clone: this checkout's package.json and build (what `git clone` + `npm ci` + `npm run build` gives),
  // its dependencies shared through a symlink (expert-ts itself is not among them).
  clone = join(dir, 'clone2');
  mkdirSync(join(clone, 'notebooks'), { recursive: true });
  cpSync(join(ROOT, 'package.json'), join(clone, 'package.json'));
  cpSync(join(ROOT, 'dist'), join(clone, 'dist'), { recursive: true });
  symlinkSync(join(ROOT, 'node_modules'), join(clone, 'node_modules'));
});

after(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

let cellCount = 0;
const code = (source: string) => ({ cell_type: 'code', id: `cell-${++cellCount}`, metadata: {}, source, outputs: [], execution_count: null });

test('a notebook in a second clone sees one database from %%sql and from openStore()', async () => {
  const notebook = {
    nbformat: 4,
    nbformat_minor: 5,
    metadata: { kernelspec: { name: 'expert', display_name: 'ExPerT (TypeScript)', language: 'typescript' } },
    cells: [
      code('%store open one.duckdb'),
      code('%%sql\nCREATE TABLE from_magic AS SELECT 42 AS answer'),
      code([
        'import { openStore } from "expert-ts";',
        'const store = await openStore("one.duckdb");',
        'const seen = await store.query("SELECT answer FROM from_magic");',
        'console.log("typescript sees " + String(seen.rows[0]![0]));',
        'await store.query("CREATE TABLE from_typescript AS SELECT 7 AS seven");',
        'console.log("expert-ts is " + require.resolve("expert-ts"));',
      ].join('\n')),
      code('%%sql\nSELECT seven FROM from_typescript'),
    ],
  };
  const input = join(clone, 'notebooks', 'one-db.ipynb');
  const out = join(clone, 'notebooks', 'one-db.out.ipynb');
  writeFileSync(input, JSON.stringify(notebook));
  let failure = '';
  await run(process.execPath, [CLI, 'notebook', 'run', input, '--out', out], { env, cwd: dir, timeout: 300_000 }).catch((e: { stderr?: string }) => {
    failure = String(e.stderr ?? e);
  });
  const cells = (JSON.parse(readFileSync(out, 'utf8')) as { cells: { outputs: { output_type: string; name?: string; text?: string | string[]; data?: Record<string, string | string[]> }[] }[] }).cells;
  const flat = (v: string | string[] | undefined) => (Array.isArray(v) ? v.join('') : (v ?? ''));
  const streams = (i: number) => cells[i]!.outputs.filter((o) => o.output_type === 'stream').map((o) => `${o.name}: ${flat(o.text)}`).join('');
  const plain = (i: number) => cells[i]!.outputs.map((o) => flat(o.data?.['text/plain'])).join('\n');
  assert.equal(failure, '', `the notebook failed:\n${failure}\n${cells.map((_, i) => streams(i)).join('\n')}`);
  assert.match(streams(2), /typescript sees 42/, 'TypeScript sees the table the magic created');
  assert.match(streams(2), new RegExp(`expert-ts is ${join(clone, 'dist', 'src', 'index.js').replace(/[/.]/g, '\\$&')}`), 'the package name is the second clone');
  assert.match(plain(3), /seven[\s\S]*\b7\b/, 'the magic sees the table TypeScript created');
});
