/**
 * Hostile parameter values and names reach a real /bin/sh literally: the
 * planned command, run by sh, prints each value back byte for byte and
 * nothing in them is executed.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expandPlan } from '../../src/batch/plan/index.js';
import { resolveBatchConfig } from '../../src/batch/config/index.js';

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'expert-quote-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('placeholder values are shell-quoted', () => {
  it('hostile values print back literally and run nothing', async () => {
    const canary = join(dir, 'pwned');
    const values = [
      "it's",
      `$(touch ${canary})`,
      `\`touch ${canary}\``,
      `; touch ${canary}`,
      `a && touch ${canary} || true`,
      'line one\nline two',
      'ünïcødé 日本語 🚀',
      '"double" \\back\\slash',
      '*',
      '~',
      '$HOME ${PATH}',
      ' leading and trailing ',
      '',
      '-n',
      "''",
      '|&<>#!',
    ];
    const config = await resolveBatchConfig({
      name: "batch 'name' $(x)",
      machines: { nodes: [{ name: 'local', host: 'local' }] },
      policies: [{ name: 'pol;icy`x`' }],
      tests: [{ name: 't$(x)', on: 'nodes', command: "printf '%s\\0' {v} {test} {policy} {batch}", params: { v: values } }],
    }, { env: {} });
    const plan = expandPlan(config);
    assert.equal(plan.runs.length, values.length);
    plan.runs.forEach((run, i) => {
      const out = execFileSync('/bin/sh', ['-c', run.workloads[0]!.command], { cwd: dir, encoding: 'utf8' });
      assert.deepEqual(out.split('\0').slice(0, -1), [values[i], 't$(x)', 'pol;icy`x`', "batch 'name' $(x)"], run.workloads[0]!.command);
    });
    assert.equal(existsSync(canary), false, 'a value was executed');
  });
});
