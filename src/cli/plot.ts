/**
 * `expert plot <chart.yaml> --out F.html [--store F] [--batch ID]`
 * `expert report <batch> --out F.html [--store F]`
 * `expert mine wizard [--store F]` (registered on the `mine` group by `registerMineWizard`)
 *
 * Each writes one self-contained HTML file (plotly.js inlined once) that
 * opens offline; the path written is printed on stdout.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { UserError } from '../errors.js';
import { checkOutputFile } from '../output-paths.js';
import { DEFAULT_STORE_PATH } from '../store/default-path.js';
import { withExistingStore } from './store-access.js';

interface OutOptions {
  out: string;
  store: string;
}

export function registerPlot(program: Command): void {
  program
    .command('plot')
    .description('draw a chart spec (YAML: data, kind, x, y, color, facet, fit) into a self-contained HTML file')
    .argument('<chart.yaml>', 'the chart spec')
    .requiredOption('--out <file.html>', 'the HTML file to write')
    .option('--store <file>', 'the DuckDB store file', DEFAULT_STORE_PATH)
    .option('--batch <id>', "the batch to draw (overrides the spec's data.batch; id, name or latest)")
    .action(async (file: string, options: OutOptions & { batch?: string }) => {
      const written = await plotCommand(file, options);
      process.stdout.write(`${written}\n`);
    });

  program
    .command('report')
    .description('write the HTML report of a batch: charts, run table, policies and tuning, parse errors, provenance')
    .argument('<batch>', 'batch id, batch name, or latest')
    .requiredOption('--out <file.html>', 'the HTML file to write')
    .option('--store <file>', 'the DuckDB store file', DEFAULT_STORE_PATH)
    .action(async (batch: string, options: OutOptions) => {
      const written = await reportCommand(batch, options);
      process.stdout.write(`${written}\n`);
    });
}

/** Adds `wizard` to the `mine` verb group (called from src/cli/mine.ts). */
export function registerMineWizard(mine: Command): void {
  mine
    .command('wizard')
    .description('answer a few questions (batch, data, kind, x, y, colour) and get a chart spec and its HTML figure')
    .option('--store <file>', 'the DuckDB store file', DEFAULT_STORE_PATH)
    .option('--spec <file.yaml>', 'default path for the chart spec', 'chart.yaml')
    .option('--out <file.html>', 'default path for the figure', 'chart.html')
    .action(async (options: { store: string; spec: string; out: string }) => {
      // Questions go to stderr, so stdout carries only the two paths written (like `expert plot`).
      const [{ runWizard }, { runSummaryColumns }] = await Promise.all([import('../viz/wizard.js'), import('../viz/run-summary.js')]);
      const result = await withExistingStore(options.store, (store) =>
        runWizard(store, { input: process.stdin, output: process.stderr, runSummary: runSummaryColumns, specPath: options.spec, htmlPath: options.out }),
      );
      process.stdout.write(`${resolve(result.specPath)}\n${resolve(result.htmlPath)}\n`);
    });
}

export async function plotCommand(file: string, options: OutOptions & { batch?: string }): Promise<string> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new UserError(`cannot read chart spec ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
  const out = checkOutputFile(options.out, '--out');
  const [{ parseChartSpec }, { loadChartData }, { figureFromSpec }, { renderChartPage }, { runSummaryColumns }] = await Promise.all([
    import('../viz/spec.js'),
    import('../viz/chart-data.js'),
    import('../viz/chart.js'),
    import('../viz/report.js'),
    import('../viz/run-summary.js'),
  ]);
  const spec = parseChartSpec(text, file);
  if (options.batch !== undefined) spec.data.batch = options.batch;
  return withExistingStore(options.store, async (store) => {
    const data = await loadChartData(store, spec, { runSummary: runSummaryColumns });
    const figure = figureFromSpec(spec, data.columns, data.context);
    return writeHtml(out, renderChartPage(figure, { title: spec.title ?? file, source: data.source, spec: text }));
  });
}

export async function reportCommand(batch: string, options: OutOptions): Promise<string> {
  const out = checkOutputFile(options.out, '--out');
  const [{ loadReportModel }, { renderReport }, { runSummaryColumns }] = await Promise.all([
    import('../viz/report-data.js'),
    import('../viz/report.js'),
    import('../viz/run-summary.js'),
  ]);
  return withExistingStore(options.store, async (store) => {
    const model = await loadReportModel(store, batch, { runSummary: runSummaryColumns, generator: 'expert report' });
    return writeHtml(out, renderReport(model));
  });
}

function writeHtml(out: string, html: string): string {
  const path = resolve(out);
  try {
    writeFileSync(path, html);
  } catch (error) {
    throw new UserError(`cannot write ${out}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
  return path;
}
