/**
 * The batch report as one self-contained HTML page (pure: a model in, HTML
 * out). Everything that came from the store is HTML-escaped; figures are
 * drawn by the page's single inlined plotly.js.
 */
import { cellText } from '../cli/format.js';
import { roundedNumber } from '../output/table-text.js';
import type { Figure } from './figure.js';
import { escapeHtml, figureHtml, htmlPage } from './html.js';
import { plotlyVersion } from './plotly-source.js';

export interface TableData {
  columns: string[];
  rows: unknown[][];
}

export interface ReportChart {
  title: string;
  /** One line under the chart saying what it shows. */
  caption?: string;
  figure: Figure;
}

export interface ReportBatch {
  batchId: number;
  name: string;
  description?: string | null;
  status: string;
  createdAt?: unknown;
  finishedAt?: unknown;
  config: unknown;
  provenance: unknown;
}

export interface ParseErrorSummary {
  parser: string;
  processes: number;
  rows: number;
  errors: number;
  /** A few lines that did not parse, for a first look. */
  samples?: string[];
}

/** `compare()` of one metric across the batch's policies, as a table and how it was computed. */
export interface ReportComparison {
  metric: string;
  table: TableData;
  method: string[];
}

export interface ReportMoves {
  figure: Figure;
  table: TableData;
  /** The objectives measured (one per dynamic policy, usually one). */
  objectives: string[];
  /** How many of the moves were kept. */
  kept: number;
  /** How many the end of their run cut off before the window after them ended (no objective after; undone by the restore). */
  cutOff: number;
}

/** Significant digits of the numbers in the report's tables. */
const TABLE_DIGITS = 4;

export interface ReportModel {
  batch: ReportBatch;
  /** One row per workload run (Mine's run summary). */
  runs: TableData;
  /** Every process of the batch (workloads, monitors, tune). */
  processes: TableData;
  policies: { name: string; definition: unknown }[];
  tuning: TableData;
  parseErrors: ParseErrorSummary[];
  /** Workload processes: how many, how many did not succeed (not exited, or exit code ≠ 0), how many were warm-ups. */
  workloads?: { total: number; failed: number; warmup: number };
  /** Per throughput: policies compared run by run (`compare()`). */
  comparisons?: ReportComparison[];
  charts: ReportChart[];
  /** The moves of an online optimizer (`dynamic_move`), when the batch has any. */
  moves?: ReportMoves;
  /** Notes on what could not be shown (e.g. a parser failed), shown as such, not hidden. */
  notes?: string[];
  generatedAt?: Date;
  generator?: string;
}

/** What a climb's objective figure is: a guest counter summed over the guests, or a monitor column averaged over the run's monitors (src/tune/dynamic-climb.ts). */
function objectiveMeaning(objective: string): string {
  return /^(vmstat|perf)_/.test(objective) ? `${objective}, the mean of the run's own monitor samples over each window` : `${objective} summed over the guests`;
}

/** "2 runs, 6 workload processes": the run summary has a row per workload process (one per guest), not per run. */
function runCount(runs: ReportModel['runs']): string {
  const at = runs.columns.indexOf('run');
  const batchAt = runs.columns.indexOf('batch_id');
  const n = at < 0 ? runs.rows.length : new Set(runs.rows.map((r) => `${batchAt < 0 ? '' : String(r[batchAt])}:${String(r[at])}`)).size;
  const processes = runs.rows.length;
  return `${n} run${n === 1 ? '' : 's'}${processes !== n ? `, ${processes} workload process${processes === 1 ? '' : 'es'}` : ''}`;
}

export function renderReport(model: ReportModel): string {
  const b = model.batch;
  const sections: string[] = [];
  sections.push(
    `<h1>${escapeHtml(b.name)} <span class="meta">(batch ${escapeHtml(b.batchId)})</span></h1>`,
    b.description ? `<p>${escapeHtml(b.description)}</p>` : '',
    `<p class="meta">Status <b>${escapeHtml(b.status)}</b> · created ${escapeHtml(cellText(b.createdAt))}` +
      (b.finishedAt ? ` · finished ${escapeHtml(cellText(b.finishedAt))}` : '') +
      ` · ${runCount(model.runs)} · report generated ${escapeHtml((model.generatedAt ?? new Date()).toISOString())}` +
      ` by ${escapeHtml(model.generator ?? 'expert report')} with plotly.js ${escapeHtml(plotlyVersion())}</p>`,
  );
  if (model.workloads) sections.push(workloadsHtml(model.workloads));
  if (model.notes?.length) sections.push(`<ul class="warn">${model.notes.map((n) => `<li>${escapeHtml(n)}</li>`).join('')}</ul>`);
  const header = sections.filter(Boolean).length;

  if (model.comparisons?.length) {
    sections.push('<h2 id="comparison">Policies compared</h2>');
    for (const c of model.comparisons) {
      sections.push(`<h3>${escapeHtml(c.metric)}</h3>`, tableHtml(c.table, 'No runs to compare.'));
      sections.push(`<ul class="meta">${c.method.map((m) => `<li>${escapeHtml(m)}</li>`).join('')}</ul>`);
    }
  }

  // A reader looks first at what the optimizer did: right after the comparison, before the long run of charts.
  if (model.moves) sections.push(movesHtml(model.moves));

  sections.push('<h2 id="charts">Charts</h2>');
  if (model.charts.length === 0) sections.push('<p class="meta">No chart: the batch has no parsed numeric results yet.</p>');
  model.charts.forEach((chart, i) => {
    sections.push(`<h3>${escapeHtml(chart.title)}</h3>`);
    if (chart.caption) sections.push(`<p class="meta">${escapeHtml(chart.caption)}</p>`);
    sections.push(figureHtml(chart.figure, { id: `chart-${i + 1}` }));
  });

  sections.push(
    '<h2 id="runs">Runs</h2>',
    '<p class="meta">One row per workload process of a run (one per guest); monitor figures are averages over the process\'s own time window.</p>',
    tableHtml(withoutRedundantColumns(model.runs), 'No workload run recorded.'),
  );
  sections.push('<h2 id="policies">Policies</h2>');
  sections.push(
    model.policies.length
      ? `<table><tr><th>policy</th><th>definition</th></tr>${model.policies
          .map((p) => `<tr><td>${escapeHtml(p.name)}</td><td>${typeof p.definition === 'string' ? escapeHtml(p.definition) : `<pre>${escapeHtml(JSON.stringify(p.definition, null, 1))}</pre>`}</td></tr>`)
          .join('')}</table>`
      : '<p class="meta">No policies in the config.</p>',
  );
  sections.push('<h3>What tuning recorded</h3>', tableHtml(model.tuning, 'Nothing was tuned in this batch.'));
  sections.push('<h2 id="parse-errors">Parse errors</h2>', parseErrorsHtml(model.parseErrors));
  sections.push('<h2 id="processes">Processes</h2>', tableHtml(model.processes, 'No process recorded.'));
  sections.push(
    '<h2 id="provenance">Provenance</h2>',
    `<pre>${escapeHtml(JSON.stringify(b.provenance, null, 2))}</pre>`,
    '<h3>Resolved config</h3>',
    `<pre>${escapeHtml(JSON.stringify(b.config, null, 2))}</pre>`,
  );
  const body = sections.filter(Boolean);
  // The page runs to many screens: a contents line under the header links every section.
  body.splice(header, 0, contentsHtml(body.join('\n')));
  return htmlPage({ title: `ExPerT report: ${b.name} (batch ${b.batchId})`, body: body.join('\n'), style: CONTENTS_STYLE });
}

const CONTENTS_STYLE = 'nav.contents { margin: .6rem 0 0; font-size: .9rem; } nav.contents a { margin-right: .9rem; white-space: nowrap; }';

/** `Contents: Policies compared · Online optimizer: moves · Charts · ...`, from the page's own `<h2 id>` headings. */
function contentsHtml(body: string): string {
  const links = [...body.matchAll(/<h2 id="([^"]+)">(.*?)<\/h2>/g)].map(([, id, title]) => `<a href="#${id}">${title}</a>`);
  return `<nav class="contents"><b>Contents</b>: ${links.join(' ')}</nav>`;
}

function movesHtml(m: ReportMoves): string {
  const n = m.table.rows.length;
  return [
    '<h2 id="moves">Online optimizer: moves</h2>',
    `<p class="meta">${n} move${n === 1 ? '' : 's'}, ${m.kept} kept, ${n - m.kept - m.cutOff} undone${m.cutOff ? `, ${m.cutOff} cut off by the end of its run (no objective after it; the restore undid it)` : ''}; objective ${escapeHtml(m.objectives.map(objectiveMeaning).join('; '))}. ` +
      'Hollow circles: the objective over the interval before a move (the settings in force); triangles: over the interval after a kept move; crosses: after a move that was undone. ' +
      'Hover for the guest, the action and the settings before → after.</p>',
    figureHtml(m.figure, { id: 'moves-chart' }),
    tableHtml(m.table, 'No moves.'),
  ].join('\n');
}

function workloadsHtml(w: { total: number; failed: number; warmup: number }): string {
  const runs = `${w.total} workload process${w.total === 1 ? '' : 'es'}`;
  const warm = w.warmup ? `; ${w.warmup} of them warm-up${w.warmup === 1 ? '' : 's'}, left out of the statistics` : '';
  if (w.failed === 0) return `<p class="ok">${runs}: all succeeded${warm}.</p>`;
  return `<p class="warn"><b>${w.failed} of ${runs} did not succeed</b> (see exit_code and status in the runs table); runs with one are left out of the statistics${warm}.</p>`;
}

function parseErrorsHtml(summaries: ParseErrorSummary[]): string {
  if (summaries.length === 0) return '<p class="meta">No parser ran for this batch.</p>';
  const total = summaries.reduce((s, p) => s + p.errors, 0);
  const head = `<p class="${total ? 'warn' : 'ok'}">${total} line${total === 1 ? '' : 's'} did not parse.</p>`;
  const rows = summaries
    .map(
      (p) =>
        `<tr><td>${escapeHtml(p.parser)}</td><td class="num">${p.processes}</td><td class="num">${p.rows}</td><td class="num">${p.errors}</td><td>${(p.samples ?? [])
          .map((s) => `<code>${escapeHtml(s)}</code>`)
          .join('<br>')}</td></tr>`,
    )
    .join('');
  return `${head}<table><tr><th>parser</th><th>processes</th><th>rows</th><th>errors</th><th>sample lines that did not parse</th></tr>${rows}</table>`;
}

/** Drops columns that say the same thing in every row of a one-batch table (batch id and name) and raw params JSON when params have their own columns. */
export function withoutRedundantColumns(table: TableData): TableData {
  const drop = new Set<number>();
  table.columns.forEach((name, i) => {
    if ((name === 'batch_id' || name === 'batch') && new Set(table.rows.map((r) => cellText(r[i]))).size <= 1) drop.add(i);
  });
  const paramsAt = table.columns.indexOf('params');
  if (paramsAt >= 0) {
    const keys = new Set(table.rows.flatMap((r) => paramKeys(r[paramsAt])));
    if (keys.size > 0 && [...keys].every((k) => table.columns.includes(k) || table.columns.includes(`param_${k}`))) drop.add(paramsAt);
  }
  if (drop.size === 0) return table;
  const keep = table.columns.map((_, i) => i).filter((i) => !drop.has(i));
  return { columns: keep.map((i) => table.columns[i]!), rows: table.rows.map((r) => keep.map((i) => r[i])) };
}

function paramKeys(value: unknown): string[] {
  try {
    const parsed: unknown = typeof value === 'string' ? JSON.parse(value) : value;
    return parsed && typeof parsed === 'object' ? Object.keys(parsed) : [];
  } catch {
    return [];
  }
}

export function tableHtml(table: TableData, empty: string): string {
  if (table.rows.length === 0) return `<p class="meta">${escapeHtml(empty)}</p>`;
  const head = table.columns.map((c) => `<th>${escapeHtml(c)}</th>`).join('');
  const body = table.rows
    .map(
      (row) =>
        `<tr>${row
          .map((v) => {
            const numeric = typeof v === 'number' || typeof v === 'bigint';
            const text = typeof v === 'number' ? roundedNumber(v, TABLE_DIGITS) : cellText(v);
            return `<td${numeric ? ' class="num"' : ''}>${escapeHtml(text)}</td>`;
          })
          .join('')}</tr>`,
    )
    .join('\n');
  return `<div class="table-wrap"><table><thead><tr>${head}</tr></thead><tbody>${body}</tbody></table></div>`;
}

/** A page with one chart (what `expert plot` and the wizard write), its data source and its spec. */
export function renderChartPage(figure: Figure, options: { title: string; source?: string; spec?: string }): string {
  const body = [
    `<h1>${escapeHtml(options.title)}</h1>`,
    options.source ? `<p class="meta">Data: ${escapeHtml(options.source)} · plotly.js ${escapeHtml(plotlyVersion())}</p>` : '',
    figureHtml(figure, { id: 'chart-1' }),
    options.spec ? `<h2>Chart spec</h2><pre>${escapeHtml(options.spec)}</pre>` : '',
  ];
  return htmlPage({ title: options.title, body: body.filter(Boolean).join('\n') });
}
