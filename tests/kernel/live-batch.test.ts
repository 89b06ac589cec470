/**
 * `%%batch --live` under a real Jupyter client (issue 14 item 5): the chart of the monitors is one display under
 * the cell, updated in place (update_display_data) while the batch runs, its drawn points growing, and its last
 * state (what a saved notebook keeps) drawn after the batch ended. Meanwhile another process reads the kernel's
 * store through its live socket.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import { driveKernel, installTestKernel, type KernelOutput } from '../helpers/kernel.js';
import { until } from '../helpers/processes.js';

const run = promisify(execFile);
const CLI = path.join(import.meta.dirname, '..', '..', 'dist', 'src', 'cli', 'main.js');
const PLOTLY = 'application/vnd.plotly.v1+json';
let dir: string;
let env: NodeJS.ProcessEnv;

before(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'expert-kernel-live-'));
  env = await installTestKernel(dir);
});
after(() => rmSync(dir, { recursive: true, force: true }));

type Figure = { data: Array<{ x: unknown[]; name: string }>; layout: { title: { text: string }; shapes: unknown[] } };
const points = (o: KernelOutput) => (o.data![PLOTLY] as Figure).data.reduce((n, t) => n + t.x.length, 0);

test('%%batch --live: one chart updated in place while the batch runs; the store is read live from another process', async () => {
  const store = path.join(dir, 'k.duckdb');
  // While the kernel runs the batch, count lines from another process through the kernel's socket.
  const counts: number[] = [];
  const reader = (async () => {
    if (!(await until(() => existsSync(`${store}.sock`), 120_000))) return;
    for (let i = 0; i < 3; i++) {
      const { stdout } = await run(process.execPath, [CLI, 'mine', 'sql', 'select count(*) from line', '--store', store, '--format', 'csv']);
      counts.push(Number(stdout.trim().split('\n')[1]));
      await new Promise((r) => setTimeout(r, 1500));
    }
  })();
  const [opened, ran] = await driveKernel(dir, [
    `%store open ${store}`,
    `%%batch --live
name: live-cell
machines: {nodes: [{name: local, host: local}]}
monitors:
  - {name: vmstat, on: nodes, command: vmstat -n 1}
tests:
  - name: ticker
    on: nodes
    command: "for i in $(seq 1 {n}); do echo tick-$i; sleep 0.05; done"
    params: {n: [160]}
policies:
  - name: baseline
  - name: other
`,
  ], env);
  await reader;
  assert.equal(opened!.status, 'ok');
  assert.equal(ran!.status, 'ok', JSON.stringify(ran!.outputs.filter((o) => o.type === 'error' || o.type === 'stream')));
  const charts = ran!.outputs.filter((o) => o.data?.[PLOTLY] !== undefined);
  assert.ok(charts.length >= 4, `${charts.length} chart draws`);
  assert.equal(charts[0]!.type, 'display_data');
  assert.ok(charts.slice(1).every((o) => o.type === 'update_display_data'), 'later draws update the chart in place');
  const drawn = charts.map(points);
  assert.ok(drawn.at(-1)! > drawn[1]!, `points grow: ${drawn.join(' ')}`);
  const last = charts.at(-1)!.data![PLOTLY] as Figure;
  assert.match(last.layout.title.text, /batch 'live-cell' · finished · runs 2\/2 done/);
  assert.ok(last.data.some((t) => /local cs/.test(t.name)), last.data.map((t) => t.name).join(', '));
  assert.equal(last.layout.shapes.length, 2, 'both run starts marked');
  // The first draw and the last carry plotly.js (offline), the ones in between do not.
  assert.match(String(charts[0]!.data!['text/html']), /Plotly|plotly/);
  assert.equal(String(charts.at(-1)!.data!['text/html']).length > 1_000_000, true, 'the kept chart carries plotly.js');
  assert.equal(String(charts[1]!.data!['text/html']).length < 100_000, true);
  assert.equal(counts.length, 3, 'another process read the store while the kernel wrote it');
  assert.ok(counts[2]! > counts[0]!, counts.join(' '));
});
