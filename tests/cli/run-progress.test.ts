// The progress display's pure side: events folded into state, the TTY frame and the plain log lines.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ProgressState, logLine, renderFrame } from '../../src/cli/run-progress.js';
import type { BatchEvent, ProcessView } from '../../src/batch/runner/index.js';

const view = (id: number, label: string, role: 'workload' | 'monitor', run: number): ProcessView => ({
  processId: id, label, role, host: 'local', run, status: 'pending', exitCode: null, signal: null, error: null, startedAt: null, endedAt: null, lines: 0,
});

test('events fold into a frame with the current run, per-process state, line counts and elapsed time', () => {
  const state = new ProgressState();
  const t0 = 1_000_000;
  const events: BatchEvent[] = [
    { type: 'batch-started', batchId: 4, name: 'demo', runs: 2, startedAt: t0, processes: [view(1, 'vmstat (run 1)', 'monitor', 1), view(2, 'dd[mb=4] #1', 'workload', 1), view(3, 'dd[mb=4] #2', 'workload', 2)] },
    { type: 'run-started', batchId: 4, run: 1, position: 1, warmup: false, runs: 2, test: 'dd', policy: 'baseline', rep: 1, params: { mb: '4' } },
    { type: 'process', batchId: 4, process: { ...view(2, 'dd[mb=4] #1', 'workload', 1), status: 'running', startedAt: t0 + 100 } },
    { type: 'lines', batchId: 4, total: 1234, perProcess: { 2: 1234 } },
    { type: 'process', batchId: 4, process: { ...view(2, 'dd[mb=4] #1', 'workload', 1), status: 'exited', exitCode: 0, startedAt: t0 + 100, endedAt: t0 + 5100, lines: 1300 } },
    { type: 'warning', batchId: 4, message: 'something odd' },
  ];
  for (const e of events) state.apply(e);
  const frame = renderFrame(state, t0 + 65_000, 200);
  const lines = frame.split('\n');
  assert.equal(lines[0], 'batch 4 demo  run 1/2: dd [mb=4] baseline #1  1:05  1,234 lines');
  assert.match(frame, /✓ work dd\[mb=4\] #1  exited \(0\)  1,300 lines  0:05/);
  assert.match(frame, /· mon  vmstat \(run 1\)  pending/);
  assert.doesNotMatch(frame, /#2/, 'only the current run is listed');
  assert.match(frame, /all processes: 2 pending, 1 exited/);
  assert.match(frame, /warning: something odd/);
  assert.ok(renderFrame(state, t0, 20).split('\n').every((l) => l.length <= 20));
  assert.equal(logLine(events[4]!, state, t0 + 5100), '[0:05]   exited (0) dd[mb=4] #1 (1300 lines)');
  assert.equal(logLine(events[3]!, state, t0), undefined);
});

test('the run counter follows execution order: interleaved run index 4 running second reads "run 2/4"', () => {
  const state = new ProgressState();
  state.apply({ type: 'batch-started', batchId: 1, name: 'order', runs: 4, startedAt: 0, processes: [1, 2, 3, 4].map((r) => view(r, `w #${r}`, 'workload', r)) });
  state.apply({ type: 'run-started', batchId: 1, run: 4, position: 2, warmup: false, runs: 4, test: 't', policy: 'b', rep: 1, params: {} });
  assert.match(renderFrame(state, 0, 200).split('\n')[0]!, /run 2\/4/);
  assert.match(logLine({ type: 'run-started', batchId: 1, run: 4, position: 2, warmup: false, runs: 4, test: 't', policy: 'b', rep: 1, params: {} }, state, 0)!, /run 2\/4/);
});
