// `expert watch` in a real terminal (tmux) against a running batch (issue 14 item 3): the view updates in place
// (one frame, counts growing between two captures), shows runs done/left with an ETA, the processes and their line
// counts, the latest vmstat figures and the policy; it ends by itself with the batch, the last frame left on screen.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { setTimeout as delay } from 'node:timers/promises';
import { until } from '../helpers/processes.js';
import { CLI, liveBatch, LiveDir } from './helpers.js';

let d: LiveDir;
const session = `expert-watch-${process.pid}`;

function tmux(...args: string[]): string {
  return execFileSync('tmux', args, { encoding: 'utf8' });
}
const screen = () => tmux('capture-pane', '-p', '-t', session);

before(() => {
  d = new LiveDir();
  d.file('w.yaml', liveBatch('watched', 240, 1));
});
after(() => {
  try {
    tmux('kill-session', '-t', session);
  } catch {
    // ended with the batch
  }
  d.cleanup();
});

test('expert watch follows a running batch in place and stops when it ends', async () => {
  const writer = await d.run('w.yaml', 'w.duckdb');
  tmux('new-session', '-d', '-s', session, '-x', '150', '-y', '30', '-c', d.dir, `${process.execPath} ${CLI} watch --store w.duckdb 2>watch.err; echo WATCH-EXIT=$?; sleep 600`);
  assert.ok(await until(() => /ticker\[n=240\] baseline/.test(screen()) && /\bcs\b/.test(screen()), 15_000), screen());
  const one = screen();
  await delay(2500);
  const two = screen();
  for (const frame of [one, two]) {
    assert.match(frame, /batch \d+ 'watched' running · runs \d\/2 done, 1 running, \d left · ETA/);
    assert.match(frame, /policy (baseline|other)/);
    assert.match(frame, /local\s+workload\s+running\s+\d+\s+ticker\[n=240\]/);
    assert.match(frame, /local\s+monitor\s+running\s+\d+\s+vmstat/);
    assert.match(frame, /^latest\s+cs\s+bo\s+us\s+sy\s+wa/m);
    assert.match(frame, /^local\s+\d+\s+\d+\s+\d+\s+\d+\s+\d+/m);
    // Updated in place: one frame on the screen, not one per second.
    assert.equal(frame.match(/batch \d+ 'watched'/g)!.length, 1, frame);
  }
  const lines = (frame: string) => Number(/workload\s+running\s+(\d+)/.exec(frame)?.[1]);
  assert.ok(lines(two) > lines(one), `line counts grow: ${lines(one)} then ${lines(two)}`);

  assert.equal((await writer.result).code, 0);
  assert.ok(await until(() => /WATCH-EXIT=0/.test(screen()), 10_000), screen());
  const last = screen();
  assert.match(last, /batch \d+ 'watched' finished · runs 2\/2 done, 0 running, 0 left · ETA 0s/);
  assert.equal(last.match(/batch \d+ 'watched'/g)!.length, 1, last);
});
