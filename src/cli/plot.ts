/**
 * `expert plot <chart.yaml> --out F.html [--store F] [--batch ID]`
 * `expert report <batch> --out F.html [--store F]`
 * `expert mine wizard [--store F]` (registered on the `mine` group by `registerMineWizard`)
 *
 * Each writes one self-contained HTML file (plotly.js inlined once) that
 * opens offline; the path written is printed on stdout.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { UserError } from '../errors.js';
import { DEFAULT_STORE_PATH, openStore } from '../store/store.js';
import type { ExpertStore } from '../store/types.js';
import { figureFromSpec } from '../viz/chart.js';
import { loadChartData } from '../viz/chart-data.js';
import { renderChartPage, renderReport } from '../viz/report.js';
import { loadReportModel } from '../viz/report-data.js';
import { runSummaryColumns } from '../viz/run-summary.js';
import { parseChartSpec } from '../viz/spec.js';
import { runWizard } from '../viz/wizard.js';

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
      const result = await withStore(options.store, (store) =>
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
  const spec = parseChartSpec(text, file);
  if (options.batch !== undefined) spec.data.batch = options.batch;
  return withStore(options.store, async (store) => {
    const data = await loadChartData(store, spec, { runSummary: runSummaryColumns });
    const figure = figureFromSpec(spec, data.columns, data.context);
    return writeHtml(options.out, renderChartPage(figure, { title: spec.title ?? file, source: data.source, spec: text }));
  });
}

export async function reportCommand(batch: string, options: OutOptions): Promise<string> {
  return withStore(options.store, async (store) => {
    const model = await loadReportModel(store, batch, { runSummary: runSummaryColumns, generator: 'expert report' });
    return writeHtml(options.out, renderReport(model));
  });
}

async function withStore<T>(path: string, use: (store: ExpertStore) => Promise<T>): Promise<T> {
  // Opening a missing file would create an empty store: say what is wrong instead.
  if (!existsSync(path)) throw new UserError(`no store at ${path}: run a batch first (expert run) or pass --store <file>`);
  const store = await openStore(path);
  try {
    return await use(store);
  } finally {
    await store.close();
  }
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
