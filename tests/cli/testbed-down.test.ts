// `expert testbed down` where no testbed was ever brought up: a plain answer, exit 0, nothing created.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';

const run = promisify(execFile);
const CLI = resolve('dist/src/cli/main.js');

test('testbed down in a folder with no testbed says so and exits 0 (was an internal error on the missing lock file)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'expert-no-testbed-'));
  try {
    const { stdout, stderr } = await run(process.execPath, [CLI, 'testbed', 'down'], { cwd: dir, env: { ...process.env, EXPERT_TESTBED_DIR: '' } });
    assert.match(stdout + stderr, /was not up; nothing to do/);
    assert.doesNotMatch(stderr, /internal error/);
    assert.deepEqual(readdirSync(dir), [], 'nothing is created');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
