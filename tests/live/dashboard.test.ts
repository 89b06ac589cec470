// The live dashboard of `expert run --dashboard` (issue 14 items 4 and 6), in Debian's headless Chromium with every
// request outside the dashboard refused and recorded: the drawn points grow while the batch runs, run boundaries
// and policies are marked, the page keeps updating after the network drops and comes back; every path wants the
// token (401 without it); /metrics passes `promtool check metrics` and a real Prometheus scrapes it.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { setTimeout as delay } from 'node:timers/promises';
import { HeadlessChromium } from '../viz/browser.js';
import { until } from '../helpers/processes.js';
import { liveBatch, LiveDir } from './helpers.js';

let d: LiveDir;
let browser: HeadlessChromium | undefined;
let prometheus: ChildProcess | undefined;

before(() => {
  d = new LiveDir();
  d.file('dash.yaml', liveBatch('dashboarded', 700, 1));
});
after(async () => {
  prometheus?.kill('SIGKILL');
  await browser?.close();
  d.cleanup();
});

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

const POINTS = `document.querySelectorAll('.js-plotly-plot .scatterlayer .point').length`;
/** Per chart, the x tick labels whose box meets the legend's box: what a reader would see overlapping. */
const OVERLAPS = `[...document.querySelectorAll('.js-plotly-plot')].flatMap((plot, i) => {
  const legend = plot.querySelector('.legend')?.getBoundingClientRect();
  if (!legend) return [];
  return [...plot.querySelectorAll('.xtick text, .xaxislayer-above text, .g-xtitle text')].map((t) => [t.textContent, t.getBoundingClientRect()])
    .filter(([, r]) => r.width > 0 && r.left < legend.right && r.right > legend.left && r.top < legend.bottom && r.bottom > legend.top)
    .map(([text]) => 'chart ' + i + ': ' + text);
})`;

test('expert run --dashboard: growing charts offline, 401 without the token, reconnects, /metrics for promtool and Prometheus', async () => {
  const writer = await d.run('dash.yaml', 'dash.duckdb', ['--dashboard']);
  assert.ok(await until(() => /dashboard: http:\/\/127\.0\.0\.1:\d+\/\?token=\S+/.test(writer.stderr()), 20_000), writer.stderr());
  const url = new URL(/dashboard: (\S+)/.exec(writer.stderr())![1]!);
  const token = url.searchParams.get('token')!;
  const at = (path: string, t: string | null = token) => `${url.origin}${path}${t === null ? '' : `?token=${encodeURIComponent(t)}`}`;

  for (const path of ['/', '/events', '/metrics', '/plotly.min.js']) {
    assert.equal((await fetch(at(path, null))).status, 401, `${path} without a token`);
    assert.equal((await fetch(at(path, token.slice(1) + 'x'))).status, 401, `${path} with a wrong token`);
  }

  browser = await HeadlessChromium.launch();
  const { page, consoleErrors, blockedRequests } = await browser.open('', { url: url.href, allow: url.origin });
  await page.waitForFunction(`${POINTS} > 5`, undefined, { timeout: 30_000 });
  const first = (await page.evaluate(POINTS)) as number;
  await delay(3000);
  const second = (await page.evaluate(POINTS)) as number;
  assert.ok(second > first, `drawn points grow: ${first} then ${second}`);
  const progress = (await page.textContent('#progress')) ?? '';
  assert.match(progress, /batch \d+ 'dashboarded' running · runs \d\/2 done, 1 running, \d left · ETA .* · policy (baseline|other)/);
  assert.ok((await page.locator('#charts h2', { hasText: 'node local' }).count()) === 1);
  assert.ok((await page.locator('.js-plotly-plot .shapelayer path').count()) >= 1, 'run boundaries drawn');
  assert.ok((await page.locator('.js-plotly-plot .annotation-text', { hasText: /baseline|other/ }).count()) >= 1, 'policy marked');
  // Each chart's legend sits clear of its x axis's labels (the date axis prints a second line with the day).
  const overlaps = (await page.evaluate(OVERLAPS)) as string[];
  assert.deepEqual(overlaps, [], 'legend over axis labels');
  // One trace per figure and place: a series the snapshot drew is not drawn again when an update names it.
  const legends = (await page.evaluate(`[...document.querySelectorAll('.js-plotly-plot')].map((p) => p.data.map((t) => t.name))`)) as string[][];
  assert.ok(legends.length >= 1);
  for (const names of legends) assert.deepEqual(names, [...new Set(names)], `one trace per figure: ${names.join(', ')}`);

  // The network goes away and comes back: the page reconnects (EventSource) and goes on drawing.
  await page.context().setOffline(true);
  await delay(2500);
  await page.context().setOffline(false);
  const offline = (await page.evaluate(POINTS)) as number;
  await page.waitForFunction(`${POINTS} > ${offline}`, undefined, { timeout: 15_000 });

  assert.deepEqual(blockedRequests, [], 'nothing requested from outside the dashboard');
  assert.deepEqual(consoleErrors.filter((e) => !/ERR_INTERNET_DISCONNECTED|net::ERR/.test(e)), []);

  // /metrics: OpenMetrics text that promtool accepts, with the figures labelled by batch, node, guest and policy.
  const scraped = await fetch(at('/metrics'));
  assert.equal(scraped.status, 200);
  assert.match(scraped.headers.get('content-type') ?? '', /^application\/openmetrics-text; version=1\.0\.0/);
  const text = await scraped.text();
  assert.match(text, /^expert_lines_ingested\{batch="\d+"\} \d+$/m);
  assert.match(text, /^expert_processes\{batch="\d+",state="running"\} [1-9]\d*$/m);
  assert.match(text, /^expert_vmstat_cs\{batch="\d+",node="local",guest="",policy="(baseline|other)"\} \d+$/m);
  assert.match(text, /# EOF\n$/);
  const lint = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
  assert.equal(lint.status, 0, `promtool: ${lint.stdout}${lint.stderr}`);

  // A real Prometheus on loopback scrapes it every second; its query API returns the series.
  const promPort = await freePort();
  mkdirSync(d.path('prom-data'));
  const config = d.file(
    'prometheus.yml',
    `global: {scrape_interval: 1s, scrape_timeout: 1s}
scrape_configs:
  - job_name: expert
    metrics_path: /metrics
    params: {token: ['${token}']}
    static_configs: [{targets: ['${url.host}']}]
`,
  );
  prometheus = spawn('prometheus', [`--config.file=${config}`, `--storage.tsdb.path=${d.path('prom-data')}`, `--web.listen-address=127.0.0.1:${promPort}`], { stdio: 'ignore' });
  const query = async (q: string) => {
    try {
      const r = await fetch(`http://127.0.0.1:${promPort}/api/v1/query?query=${encodeURIComponent(q)}`);
      return ((await r.json()) as { data?: { result?: Array<{ metric: Record<string, string>; value: [number, string] }> } }).data?.result ?? [];
    } catch {
      return [];
    }
  };
  let lines: Awaited<ReturnType<typeof query>> = [];
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline && lines.length === 0) {
    lines = await query('expert_lines_ingested');
    if (lines.length === 0) await delay(500);
  }
  assert.equal(lines.length, 1, 'Prometheus has expert_lines_ingested');
  assert.equal(lines[0]!.metric.job, 'expert');
  assert.ok(Number(lines[0]!.value[1]) > 0);
  const cs = await query('expert_vmstat_cs{node="local"}');
  assert.equal(cs.length, 1, JSON.stringify(cs));
  assert.match(cs[0]!.metric.policy ?? '', /baseline|other/);
  const targets = (await (await fetch(`http://127.0.0.1:${promPort}/api/v1/targets`)).json()) as { data: { activeTargets: Array<{ health: string }> } };
  assert.equal(targets.data.activeTargets[0]!.health, 'up');

  writer.child.kill('SIGINT');
  await writer.result;
});
