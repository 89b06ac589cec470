// The watch/dashboard header's counts: done, running and left add up to the runs of the batch.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { progressOf, type RunRow } from '../../src/live/progress.js';

const row = (run: number, state: 'done' | 'running' | 'pending', startedMs: number | null = null, endedMs: number | null = null): RunRow => ({
  run, policy: `p${run}`, startedMs, endedMs, ended: state === 'done', running: state === 'running',
});

test('done + running + left = total, and the ETA counts the running run as not done', () => {
  const runs = [row(1, 'done', 0, 10_000), row(2, 'running', 10_000), row(3, 'pending'), row(4, 'pending')];
  const p = progressOf(runs, 14_000);
  assert.deepEqual([p.done, p.running, p.left, p.total], [1, 1, 2, 4]);
  assert.equal(p.done + p.running + p.left, p.total);
  // 3 runs not done at a mean of 10 s, 4 s of the running one spent: 26 s.
  assert.equal(p.etaSeconds, 26);
  assert.equal(p.policy, 'p2');
  const first = progressOf([row(1, 'running', 0), row(2, 'pending'), row(3, 'pending')], 1000);
  assert.deepEqual([first.done, first.running, first.left, first.etaSeconds], [0, 1, 2, null]);
  const end = progressOf([row(1, 'done', 0, 5), row(2, 'done', 5, 9)], 10);
  assert.deepEqual([end.done, end.running, end.left, end.etaSeconds], [2, 0, 0, 0]);
});
