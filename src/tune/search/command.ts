/**
 * `expert tune search <spec.yaml>`: loads the spec and its base batch, runs
 * the search with progress on stderr, prints the ranking (median and its
 * interval per candidate), how many trials and runs it used and how sure it
 * is, and can apply the winner (restorable with `expert tune restore`).
 * `--dry-run` runs nothing: it prints the space's size and a sample of its
 * candidates, after checking the batch as written (not its machines) and the
 * objective's columns against it.
 */
import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import type { BatchConfig, PolicySpec, ResolvedBatchConfig } from '../../batch/config/types.js';
import { batchConfigSchema, parseBatchConfigText, parseYamlAgainst, resolveBatchConfig } from '../../batch/config/index.js';
import { createExecutorPool } from '../../batch/executor-pool.js';
import { UserError } from '../../errors.js';
import { openStore } from '../../store/store.js';
import { checkColumnNames, type OutputFormat } from '../../cli/format.js';
import { printRows } from '../../output/print.js';
import { permutation, seededRandom } from '../../stats/random.js';
import { defaultJournalPath, Journal } from '../journal.js';
import { nodeTargets, parseWindow } from '../hook.js';
import { applyPolicy } from '../session.js';
import { formatCpuList } from '../cpu-list.js';
import { searchCandidates, type CandidateSet } from './candidates.js';
import { checkSummaryColumns } from './columns.js';
import { parseSpecText, specError, type SearchSpec } from './spec.js';
import { strategyName } from './strategy.js';
import { runSearch, type SearchResult } from './run.js';

async function readSpecFile(file: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (error) {
    throw new UserError(`cannot read search spec ${file}: ${(error as Error).message}`);
  }
}

export async function loadSearchSpec(file: string): Promise<{ spec: SearchSpec; base: ResolvedBatchConfig }> {
  return parseSearchSpec(await readSpecFile(file), file, dirname(resolve(file)));
}

/** A search spec's text (a file's, or a `%%tune search` cell's); `dir` is where its relative paths start. */
export async function parseSearchSpec(text: string, file: string, dir: string): Promise<{ spec: SearchSpec; base: ResolvedBatchConfig }> {
  const spec = parseSpecText(text, file);
  if (typeof spec.batch !== 'string') return { spec, base: await resolveBatchConfig(spec.batch, { file: `${file} (batch:)`, cwd: dir }) };
  const { path, text: batchText } = await readBatchFile(spec, dir);
  return { spec, base: await parseBatchConfigText(batchText, { file: path, path }) };
}

/** The spec's `batch:` file's text; one that cannot be read is an error at `batch:` in the spec. */
async function readBatchFile(spec: SearchSpec, dir: string): Promise<{ path: string; text: string }> {
  const path = resolve(dir, spec.batch as string);
  try {
    return { path, text: await readFile(path, 'utf8') };
  } catch (error) {
    throw specError(spec, ['batch'], `cannot read the batch config ${path}: ${(error as Error).message}`);
  }
}

/**
 * The base batch as written, checked against the batch schema (file:line:column) but with its machines not
 * loaded: what the dry run needs (its tests and monitors) while the testbed may not be up yet.
 */
export async function batchAsWritten(spec: SearchSpec, dir: string): Promise<BatchConfig> {
  if (typeof spec.batch !== 'string') return spec.batch;
  const { path, text } = await readBatchFile(spec, dir);
  return parseYamlAgainst<BatchConfig>(text, path, batchConfigSchema).value;
}

export const RANKING_COLUMNS = ['rank', 'policy', 'n', 'median', 'ci_low', 'ci_high', 'ci_level', 'batches'];

/** The ranking as rows; `batches` is text (`3 5 6`) for tables and CSV, or with `batchList` the list of batch ids (JSON). */
export function rankingRows(result: SearchResult, options: { batchList?: boolean } = {}): { columns: string[]; rows: unknown[][] } {
  return { columns: RANKING_COLUMNS, rows: result.ranking.map((r, i) => [i + 1, r.name, r.n, r.median, r.ciLow, r.ciHigh, r.ciLevel, options.batchList ? r.batches : r.batches.join(' ')]) };
}

export const DRY_RUN_COLUMNS = ['candidate', 'policy', 'applies'];

/**
 * `--columns` against the columns of what this run prints: the dry run's sample and the search's ranking have
 * different columns, so a name of the other one is told as such.
 */
export function checkSearchColumns(dryRun: boolean, picked: readonly string[] | undefined): void {
  const [own, other] = dryRun ? [DRY_RUN_COLUMNS, RANKING_COLUMNS] : [RANKING_COLUMNS, DRY_RUN_COLUMNS];
  const theirs = other.filter((c) => !own.includes(c));
  checkColumnNames(own, picked, {
    where: dryRun ? 'the dry run' : 'the ranking',
    hint: (name) => (other.includes(name) ? ` ('${name}' is a column of ${dryRun ? "the search's ranking, without --dry-run" : 'the dry run (--dry-run)'})` : ` (${theirs.join(', ')} are ${dryRun ? "the search's ranking's, without --dry-run" : "the dry run's"})`),
  });
}

const counted = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

/** The stderr line after a search: trials (a candidate measured in a round), how many distinct candidates that was, runs, rounds. */
export function searchSummaryLine(result: SearchResult): string {
  return `${counted(result.trials.length, 'trial')} of ${counted(result.candidatesTried, 'distinct candidate')} of the ${result.spaceSize} in the space (${counted(result.runs, 'run')} in ${counted(result.rounds, 'round')}), ${(result.elapsedMs / 1000).toFixed(1)} s, strategy ${result.strategy}, ended: ${result.ended}`;
}

/**
 * When a budget ended the search before its confirmation rounds, what happened and the trial budget that leaves
 * room for them; else undefined. A trial budget keeps top × rounds trials for confirmation once at least
 * max(3, top) are left to explore (strategy.ts), or is enough when the whole space is explored before it runs out.
 */
export function confirmationNote(result: SearchResult, spec: SearchSpec): string | undefined {
  const c = result.confirmation;
  if (!c?.cutOff || (result.ended !== 'trial budget' && result.ended !== 'time budget')) return undefined;
  const reserve = c.top * c.rounds;
  const needed = Math.min(result.spaceSize + Math.min(c.top, result.spaceSize) * c.rounds, reserve + Math.max(3, c.top));
  const asked = `confirm: top ${c.top} × ${counted(c.rounds, 'round')}`;
  const budget = result.ended === 'trial budget' ? `the trial budget (${spec.budget?.trials})` : `the time budget (${spec.budget?.time})`;
  const why =
    result.ended === 'trial budget'
      ? `it keeps ${counted(reserve, 'trial')} for confirmation only when at least ${Math.max(3, c.top)} are left to explore`
      : `${result.strategy} explores until its time is up`;
  const raise = result.ended === 'trial budget' ? `raise budget.trials to at least ${needed} for ${asked}` : `${asked} takes up to ${needed} trials in all; raise budget.time`;
  return c.ran === 0
    ? `confirmation skipped: ${budget} was spent exploring (${why}); ${raise}`
    : `confirmation cut short: ${budget} ran out after ${c.ran} of its ${counted(c.rounds, 'round')} began; ${raise}`;
}

/** A policy part in words: `vm1: pin vcpu→0, nice 5`. */
export function describePart(p: PolicySpec): string {
  const guests = p.identify?.vms === 'all' ? 'all guests' : (p.identify?.vms ?? ['all guests']).join(' ');
  const what = [
    p.pin ? `pin ${p.pin.threads && p.pin.threads !== 'all' ? `${[p.pin.threads].flat().join('+')}→` : ''}${formatCpuList(p.pin.cpus)}` : '',
    p.nice === undefined ? '' : `nice ${p.nice}`,
    p.ionice ? `ionice ${p.ionice.class}${p.ionice.level === undefined ? '' : ` ${p.ionice.level}`}` : '',
    p.chrt ? `chrt ${p.chrt.policy}` : '',
  ].filter(Boolean);
  return `${guests}: ${what.join(', ') || 'unchanged'}`;
}

export function candidateParts(set: CandidateSet, index: number): PolicySpec[] {
  const c = set.candidates[index]!;
  return c.parts.length ? c.parts : c.policy.pin || c.policy.nice !== undefined || c.policy.ionice || c.policy.chrt ? [c.policy] : [];
}

/** The dry run: the space's size (and what constraints and symmetry took out) on stderr, a seeded sample of candidates as rows. */
export function dryRun(spec: SearchSpec, sample: number): { summary: string; columns: string[]; rows: unknown[][] } {
  const set = searchCandidates(spec);
  const n = set.candidates.length;
  const e = set.enumeration;
  const summary = e
    ? `space: ${n} placement${n === 1 ? '' : 's'} of ${set.space!.guests.length} guest${set.space!.guests.length === 1 ? '' : 's'} (${e.product} combinations of ${set.space!.dimensions.length} knob${set.space!.dimensions.length === 1 ? '' : 's'}; ${e.ruledOut} ruled out by constraints, ${e.symmetric} swaps of interchangeable guests left out); strategy ${strategyName(spec)}`
    : `${n} candidate${n === 1 ? '' : 's'} (listed or generated); strategy ${strategyName(spec)}`;
  const picked = n <= sample ? Array.from({ length: n }, (_, i) => i) : permutation(seededRandom(spec.seed ?? 1), n).slice(0, sample).sort((a, b) => a - b);
  const rows = picked.map((i) => [i + 1, set.candidates[i]!.name, candidateParts(set, i).map(describePart).join('; ') || 'nothing changed']);
  return { summary, columns: DRY_RUN_COLUMNS, rows };
}

/** The line an interrupt (SIGINT, SIGTERM) prints: what it stops, given where the search is. */
/** Where a search is, for what an interrupt stops: its checks, a round's batch, between rounds, or done. */
export interface SearchPhase {
  phase: 'checks' | 'round' | 'between' | 'ended';
  round: number;
  batchId?: number;
}

export function interruptNote(at: SearchPhase): string {
  switch (at.phase) {
    case 'checks':
      return 'stopping the search before its first round: nothing has run';
    case 'round':
      return `stopping the search: round ${at.round} is cut off (its finished runs count) and its tuning restored…`;
    case 'between':
      return `stopping the search between rounds: nothing is running (round ${at.round}'s batch ${at.batchId} had ended); the results so far are kept and no new round starts`;
    case 'ended':
      return 'the search had already ended: its result is being reported';
  }
}

export interface SearchCommandOptions {
  store: string;
  apply: boolean;
  format: OutputFormat;
  /** `--columns`: only these columns of the ranking (or of the dry run's sample), in this order. */
  columns?: string[];
  /** Print the space (size and a sample) instead of searching. */
  dryRun?: boolean;
  /** Candidates the dry run shows (default 10). */
  sample?: number;
  /** The spec's text when it does not come from `file` (the kernel's `%%tune search` cell); `file` then only names it. */
  text?: string;
}

export async function runSearchCommand(file: string, options: SearchCommandOptions): Promise<number> {
  const dir = options.text === undefined ? dirname(resolve(file)) : process.cwd();
  if (options.dryRun) {
    checkSearchColumns(true, options.columns);
    // The space needs only the spec and the batch as written: the machines it names (e.g. a testbed not up yet) are not loaded.
    const spec = parseSpecText(options.text ?? (await readSpecFile(file)), file);
    checkSummaryColumns(spec, await batchAsWritten(spec, dir));
    const { summary, columns, rows } = dryRun(spec, options.sample ?? 10);
    process.stderr.write(`${summary}; a sample of ${rows.length}:\n`);
    await printRows(columns, rows, options.format, options.columns ? { columns: options.columns } : {});
    return 0;
  }
  // A --columns typo is told before the search, not after it.
  checkSearchColumns(false, options.columns);
  const { spec, base } = await parseSearchSpec(options.text ?? (await readSpecFile(file)), file, dir);
  const timeBudgetMs = spec.budget?.time === undefined ? undefined : parseWindow(spec.budget.time);
  const store = await openStore(options.store);
  const executors = createExecutorPool();
  const controller = new AbortController();
  // What an interrupt stops depends on where the search is: say that, not what it would do in a round.
  const at: SearchPhase = { phase: 'checks', round: 0 };
  const onSignal = () => {
    process.stderr.write(`${interruptNote(at)}\n`);
    controller.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    const result = await runSearch(spec, {
      store,
      base,
      executors,
      signal: controller.signal,
      timeBudgetMs,
      journalPath: defaultJournalPath(options.store),
      onWarning: (message) => process.stderr.write(`warning: ${message}\n`),
      onRound: (r) => {
        Object.assign(at, { phase: 'round', round: r.index });
        process.stderr.write(`round ${r.index}: ${r.candidates.length} candidate(s) × ${r.repetitions} run(s), interleaved\n`);
      },
      onRoundEnd: (r) => {
        Object.assign(at, { phase: 'between', batchId: r.batchId });
        process.stderr.write(`round ${r.index}: batch ${r.batchId} ended; reading its values\n`);
      },
      onTrial: (t) => process.stderr.write(`  ${t.candidate}: batch ${t.batchId}, values ${t.values.map((v) => Number(v.toPrecision(5))).join(' ') || 'none'}${t.ok ? '' : ' (some workloads failed or were cut off)'}\n`),
    });
    at.phase = 'ended';
    const { columns, rows } = rankingRows(result, { batchList: options.format === 'json' });
    await printRows(columns, rows, options.format, options.columns ? { columns: options.columns } : {});
    const best = result.best;
    process.stderr.write(`${searchSummaryLine(result)}\n`);
    const note = confirmationNote(result, spec);
    if (note) process.stderr.write(`${note}\n`);
    if (result.strategy === 'model') process.stderr.write(`side information: ${result.sideColumns.length ? result.sideColumns.join(', ') : 'none (no monitor counted context switches or CPU time; see side: in the spec)'}\n`);
    if (!best) {
      if (result.ended === 'interrupted') {
        process.stderr.write('interrupted before any candidate was measured\n');
        return 130;
      }
      process.stderr.write('no candidate produced a measurement: check the objective against one of the trial batches\n');
      return 1;
    }
    const interval = best.ciLow === null ? `no interval (n=${best.n})` : `${Math.round(best.ciLevel! * 1000) / 10}% CI ${Number(best.ciLow.toPrecision(5))} … ${Number(best.ciHigh!.toPrecision(5))}, n=${best.n}`;
    process.stderr.write(`best (${result.direction}): ${best.name} = ${Number(best.median.toPrecision(5))} (median, ${interval})\n`);
    process.stderr.write(`how sure: ${result.certainty.statement}\n`);
    if (options.apply) {
      const nodes = await Promise.all(nodeTargets(base.machines).map(async (target) => ({ node: target.node, target, executor: await executors.get(target) })));
      const journal = new Journal(defaultJournalPath(options.store));
      const parts = best.parts.length ? best.parts : [best.policy];
      let verified = 0;
      let total = 0;
      for (const part of parts) {
        const applied = await applyPolicy(nodes, part, { store, batchId: null, journal }, parseWindow);
        verified += applied.results.filter((r) => r.verified).length;
        total += applied.results.length;
      }
      process.stderr.write(`applied ${best.name}: ${verified}/${total} actions verified; undo with: expert tune restore\n`);
    }
    return result.ended === 'interrupted' ? 130 : 0;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await executors.closeAll();
    await store.close();
  }
}
