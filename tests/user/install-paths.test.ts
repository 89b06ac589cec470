// Every way a user gets an `expert` command does something (issue 11 item 1: the installed command printed
// nothing and exited 0): a global install of the packed tarball, a project that depends on it
// (node_modules/.bin/expert and npx), npm link, and npm link from the checkout reached through a symlinked folder.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { OTHER } from './helpers/batches.js';
import { describe, expert, shell } from './helpers/expert.js';
import { CHECKOUT, PACKAGE, installGlobal, installInProject, linkCheckout, packTarball, symlinkedCheckout, type Installed } from './helpers/install.js';
import { pyCsv } from './helpers/python.js';

let dir: string;
/** Each install path: the installed command, or why installing it failed (that path's tests then fail with it). */
const paths = new Map<string, Installed | Error>();

function attempt(name: string, install: () => Installed): void {
  try {
    paths.set(name, install());
  } catch (error) {
    paths.set(name, error as Error);
  }
}

function installed(name: string): Installed {
  const got = paths.get(name);
  if (got instanceof Error) throw got;
  assert.ok(got, `no install path ${name}`);
  return got;
}

const PATHS = ['global install', 'project node_modules/.bin', 'npm link', 'npm link through a symlinked folder'];

before(() => {
  assert.ok(existsSync(join(CHECKOUT, 'dist/src/cli/main.js')), 'build first: npx tsc -p tsconfig.json');
  dir = mkdtempSync(join(tmpdir(), 'expert-user-install-'));
  const tarball = packTarball(join(dir, 'pack'));
  attempt('global install', () => installGlobal(tarball, join(dir, 'global')));
  attempt('project node_modules/.bin', () => installInProject(tarball, join(dir, 'project')));
  attempt('npm link', () => linkCheckout(CHECKOUT, join(dir, 'link')));
  attempt('npm link through a symlinked folder', () => linkCheckout(symlinkedCheckout(join(dir, 'symlinked')), join(dir, 'link-via-symlink')));
  writeFileSync(join(dir, 'user-other.yaml'), OTHER);
});
after(() => rmSync(dir, { recursive: true, force: true }));

for (const name of PATHS) {
  test(`${name}: expert --version prints the package version and exits 0`, async () => {
    const ran = await expert(installed(name), ['--version'], { cwd: dir });
    assert.equal(ran.code, 0, describe(ran));
    assert.equal(ran.stdout, `${PACKAGE.version}\n`);
  });

  test(`${name}: expert with no verb is not silent`, async () => {
    const ran = await expert(installed(name), [], { cwd: dir });
    assert.ok(`${ran.stdout}${ran.stderr}`.includes('Usage: expert'), `expert alone printed ${JSON.stringify(ran.stdout + ran.stderr)} (${describe(ran)})`);
  });

  test(`${name}: expert run --dry-run prints the plan, expert run runs the batch into a new store`, async () => {
    const expertCmd = installed(name);
    const plan = await expert(expertCmd, ['run', 'user-other.yaml', '--dry-run', '--format', 'csv'], { cwd: dir });
    assert.equal(plan.code, 0, describe(plan));
    const rows = pyCsv(plan.stdout);
    assert.equal(rows.length, 2, `one header and one process: ${plan.stdout}`);
    assert.ok(rows[0]!.includes('command'), `the plan has a command column: ${rows[0]}`);

    const store = `${name.replace(/\W+/g, '-')}.duckdb`;
    const ran = await expert(expertCmd, ['run', 'user-other.yaml', '--store', store], { cwd: dir });
    assert.equal(ran.code, 0, describe(ran));
    assert.equal(ran.stdout.split('\n')[0]?.split(' ')[0], 'batch', `first line: ${ran.stdout}`);
    assert.ok(existsSync(join(dir, store)), 'the store was written');
    const check = await expert(expertCmd, ['mine', 'sql', 'SELECT status FROM process', '--store', store, '--format', 'csv'], { cwd: dir });
    assert.deepEqual(pyCsv(check.stdout), [['status'], ['exited']], describe(check));
  });
}

test('npx expert in the project that installed the tarball prints the version', async () => {
  const project = installed('project node_modules/.bin');
  // npx as a user types it; offline, so it can only use the project's own install.
  const ran = await shell(project, 'npx expert --version', { cwd: join(dir, 'project'), env: { npm_config_offline: 'true' } });
  assert.equal(ran.code, 0, describe(ran));
  assert.equal(ran.stdout, `${PACKAGE.version}\n`);
});

test("npm link: the README's examples/local.yaml runs the batch through the installed command", async () => {
  const linked = installed('npm link');
  const ran = await expert(
    linked,
    ['run', join(CHECKOUT, 'examples/local.yaml'), '--store', 'local.duckdb', '--set', 'tests.0.params.mb=[1]', '--set', 'tests.0.repeat=1', '--set', 'tests.1.params.size=[1m]', '--set', 'tests.1.repeat=1'],
    { cwd: dir },
  );
  assert.equal(ran.code, 0, describe(ran));
  const summary = await expert(linked, ['mine', 'summary', '--store', 'local.duckdb', '--format', 'csv'], { cwd: dir });
  assert.equal(summary.code, 0, describe(summary));
  const rows = pyCsv(summary.stdout);
  const status = rows[0]!.indexOf('status');
  assert.deepEqual(rows.slice(1).map((r) => r[status]), ['exited', 'exited'], summary.stdout);
});
