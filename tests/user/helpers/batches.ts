/**
 * A small store made the way a user makes one: `expert run` of tiny local
 * batches (this machine only, no SSH, no testbed) through the installed
 * command. Three batches: `user-small` twice (so a name means the newest of
 * that name) and `user-other`. Each run of `user-small` has vmstat beside it;
 * its workloads are two dd copies and a program that does not exist (exit 127).
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expert } from './expert.js';
import type { Installed } from './install.js';

export const SMALL = `name: user-small
description: two dd copies and a missing program, vmstat beside
monitors:
  - {name: vmstat, on: nodes, command: vmstat -n 1}
tests:
  - name: dd-zero
    command: dd if=/dev/zero of=/dev/null bs=64k count={count}
    params: {count: [16, 32]}
  - name: missing
    command: expert-no-such-program-xyz --help
`;

export const OTHER = `name: user-other
machines: {nodes: [{name: local, host: local}]}
tests:
  - name: dd-zero
    command: dd if=/dev/zero of=/dev/null bs=64k count=8
`;

export interface SmallStore {
  path: string;
  /** Batch ids in the order they were run: user-small, user-small, user-other. */
  batches: { id: number; name: string }[];
}

function batchIdOf(stdout: string): number {
  const first = stdout.split('\n')[0] ?? '';
  const [word, id] = first.split(' ');
  assert.equal(word, 'batch', `expert run's first line is 'batch <id>', got ${JSON.stringify(first)}`);
  return Number(id);
}

/** Runs the three batches into `<dir>/<file>`; `expert run` exits 1 for user-small (exit 127 inside), 0 for user-other. */
export async function makeSmallStore(installed: Installed, dir: string, file = 'small.duckdb'): Promise<SmallStore> {
  writeFileSync(join(dir, 'user-small.yaml'), SMALL);
  writeFileSync(join(dir, 'user-other.yaml'), OTHER);
  const batches: SmallStore['batches'] = [];
  for (const [config, name, exit] of [['user-small.yaml', 'user-small', 1], ['user-small.yaml', 'user-small', 1], ['user-other.yaml', 'user-other', 0]] as const) {
    const ran = await expert(installed, ['run', config, '--store', file], { cwd: dir });
    assert.equal(ran.code, exit, `expert run ${config}: ${describe(ran)}`);
    batches.push({ id: batchIdOf(ran.stdout), name });
  }
  return { path: join(dir, file), batches };
}
