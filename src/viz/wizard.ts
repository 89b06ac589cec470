/**
 * `expert mine wizard`: asks in the terminal which batch, which data
 * (the per-run summary or a parser's table), which kind of chart and which
 * columns, then writes the chart spec (YAML) and its figure (HTML). Every
 * question offers the valid answers and a default (Enter takes it).
 */
import { writeFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';
import { UserError } from '../errors.js';
import { defaultRegistry } from '../mine/registry.js';
import type { ExpertStore } from '../store/types.js';
import { figureFromSpec } from './chart.js';
import { loadChartData } from './chart-data.js';
import { monitorColumns, numericColumns, rankMonitors, throughputColumns } from './standard-charts.js';
import { queryRows, resolveBatch } from './data.js';
import type { RunSummaryLoader } from './report-data.js';
import { renderChartPage } from './report.js';
import { CHART_KINDS, chartSpecYaml, parseChartSpec, type ChartKind, type ChartSpec } from './spec.js';

export interface WizardOptions {
  input: Readable;
  output: Writable;
  runSummary: RunSummaryLoader;
  /** Where to write the spec and figure (asked, with these as defaults). */
  specPath?: string;
  htmlPath?: string;
}

export interface WizardResult {
  spec: ChartSpec;
  specPath: string;
  htmlPath: string;
}

class Prompter {
  private readonly lines: AsyncIterator<string>;
  private readonly echoes: boolean;
  constructor(
    input: Readable,
    private readonly output: Writable,
  ) {
    this.echoes = Boolean((input as Readable & { isTTY?: boolean }).isTTY);
    // The async iterator buffers lines, so piped answers are not lost between questions.
    this.lines = createInterface({ input, terminal: false })[Symbol.asyncIterator]();
  }

  say(text: string): void {
    this.output.write(text + '\n');
  }

  async ask(question: string, options: { choices?: string[]; default?: string; optional?: boolean } = {}): Promise<string> {
    for (let attempt = 0; attempt < 5; attempt++) {
      // Long lists (column names) were printed once above the question.
      const hint = options.choices && options.choices.length <= 8 ? ` [${options.choices.join(', ')}]` : '';
      const dflt = options.default !== undefined ? ` (Enter: ${options.default})` : options.optional ? ' (Enter: none)' : '';
      this.output.write(`${question}${hint}${dflt}: `);
      const next = await this.lines.next();
      if (next.done) throw new UserError(`wizard: input ended before '${question}' was answered`);
      const answer = next.value.trim() || options.default || '';
      // A terminal echoes the Enter; piped answers need the line ended here.
      if (!this.echoes) this.output.write('\n');
      if (answer === '' && options.optional) return '';
      if (answer === '') {
        this.say('  an answer is needed');
        continue;
      }
      if (options.choices && !options.choices.includes(answer)) {
        const close = options.choices.filter((c) => c.includes(answer) || answer.includes(c)).slice(0, 5);
        this.say(`  '${answer}' is not one of: ${(close.length ? close : options.choices).join(', ')}`);
        continue;
      }
      return answer;
    }
    throw new UserError(`wizard: no valid answer to '${question}' after 5 tries`);
  }
}

export async function runWizard(store: ExpertStore, options: WizardOptions): Promise<WizardResult> {
  const p = new Prompter(options.input, options.output);
  const recent = await queryRows(store, 'SELECT batch_id, name, status FROM batch ORDER BY batch_id DESC LIMIT 10');
  if (recent.length === 0) throw new UserError(`store ${store.path} has no batch yet: run one with \`expert run <batch.yaml>\` first`);
  p.say('Recent batches:');
  for (const b of recent) p.say(`  ${b.batch_id}  ${b.name}  (${b.status})`);
  const batchAnswer = await p.ask('Batch (id or name)', { default: String(recent[0]!.batch_id) });
  const batch = await resolveBatch(store, batchAnswer);
  const batchId = Number(batch.batch_id);

  const processes = await queryRows(store, 'SELECT DISTINCT command, parser FROM process WHERE batch_id = $1', [batchId]);
  const registry = defaultRegistry();
  const parsers = [...new Set(processes.map((r) => registry.parserFor({ command: String(r.command), parser: (r.parser as string | null) ?? null })?.name).filter((n): n is string => Boolean(n)))].sort();
  const source = await p.ask('Data: the per-run summary, or a parser table', { choices: ['runs', ...parsers], default: 'runs' });
  const data = source === 'runs' ? { runs: true as const, batch: batchId } : { parser: source, batch: batchId };

  const kind = (await p.ask('Kind of chart', { choices: [...CHART_KINDS], default: source === 'runs' ? 'scatter' : 'line' })) as ChartKind;
  const draft: ChartSpec = { data, kind };
  const { columns } = await loadChartData(store, { ...draft, x: 'x', y: 'y' }, { runSummary: options.runSummary });
  const all = Object.keys(columns);
  const numeric = numericColumns(columns);
  // Measured figures first in what is shown and suggested; ids stay valid answers.
  const measures = numeric.filter((c) => !/^(batch_id|process_id|run|seq|pid|tid|uid|exit_code)$/.test(c));
  if (measures.length === 0) throw new UserError(`batch ${batchId}: ${source} has no numeric column to plot`);
  const throughput = throughputColumns(columns);
  const monitors = rankMonitors(monitorColumns(columns));
  p.say(`Columns with numbers: ${measures.join(', ')}`);
  p.say(`Other columns: ${all.filter((c) => !measures.includes(c)).join(', ')}`);

  if (kind === 'scatter' || kind === 'line' || kind === 'heatmap') {
    const timeColumn = ['line_ts', 'ts', 'interval_s', 'started_at'].find((c) => all.includes(c));
    draft.x = await p.ask('x column', {
      choices: kind === 'scatter' ? numeric : all,
      default: kind === 'scatter' ? (monitors[0] ?? measures[0]) : (timeColumn ?? all[0]),
    });
  } else {
    const x = await p.ask('x column (groups side by side, optional)', { choices: all, optional: true });
    if (x) draft.x = x;
  }
  draft.y = await p.ask(kind === 'heatmap' ? 'row column' : 'y column', {
    choices: kind === 'heatmap' ? all : numeric,
    default: kind === 'heatmap' ? undefined : (throughput.find((c) => c !== draft.x) ?? measures.find((c) => c !== draft.x)),
  });
  if (kind === 'heatmap') draft.z = await p.ask('value column (colour)', { choices: numeric, default: measures.find((c) => c !== draft.x && c !== draft.y) });
  if (kind !== 'heatmap') {
    const colour = await p.ask('colour column', { choices: all, ...(all.includes('policy') ? { default: 'policy' } : { optional: true }) });
    if (colour) draft.color = colour;
  }
  if (kind === 'scatter') draft.fit = (await p.ask('fit line', { choices: ['each', 'all', 'none'], default: 'each' })) as ChartSpec['fit'];
  draft.title = await p.ask('title', { default: `${draft.y} vs ${draft.x ?? draft.color ?? 'policy'}` });

  // Round-trip through the parser: the file written is exactly what `expert plot` will accept.
  const yaml = chartSpecYaml(draft);
  const spec = parseChartSpec(yaml, 'wizard');
  const specPath = await p.ask('write the chart spec to', { default: options.specPath ?? 'chart.yaml' });
  const htmlPath = await p.ask('write the figure to', { default: options.htmlPath ?? 'chart.html' });
  const loaded = await loadChartData(store, spec, { runSummary: options.runSummary });
  const figure = figureFromSpec(spec, loaded.columns, loaded.context);
  writeFileSync(specPath, yaml);
  writeFileSync(htmlPath, renderChartPage(figure, { title: spec.title ?? 'chart', source: loaded.source, spec: yaml }));
  p.say(`wrote ${specPath} and ${htmlPath}; redraw later with: expert plot ${specPath} --out ${htmlPath}`);
  return { spec, specPath, htmlPath };
}
