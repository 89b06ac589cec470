/**
 * The plan: every run the batch will make, in execution order, and every
 * process of each run. Pure apart from choosing a seed for `order: random`
 * when the config gives none (pass `seed` to make it pure): same config and
 * seed in, same plan out.
 *
 * A cell is a test with one parameter combination under one policy, in
 * sequential order: for each test (config order), for each combination (see
 * matrix.ts), for each policy (config order; one `baseline` policy when none
 * is given). Each cell gets `warmup` warm-up runs and then its repetitions
 * (`repeat`, or `repeat.min` when adaptive: more rounds are added while the
 * batch runs, see adaptive.ts). Run indexes count from 1 in that sequential
 * layout; order.ts then puts the runs in execution order (their `position`).
 * Each run carries its workloads (the test on every target of its `on`) and
 * its monitors (every monitor on each of its targets; monitors run beside
 * every run).
 */
import type { MonitorSpec, Plan, PlannedProcess, PlannedRun, PolicySpec, ResolvedBatchConfig, ResolvedOrder, Target, TestSpec } from '../config/types.js';
import { parseDuration } from '../config/duration.js';
import { renderTemplate, RUNTIME_PLACEHOLDERS } from '../config/template.js';
import { label, paramCombinations, type ParamCombination } from './matrix.js';
import { inferParser } from './parser-hint.js';
import { resolvePlacement } from './targets.js';
import { arrange, resolveOrder } from './order.js';

export const DEFAULT_POLICY: PolicySpec = { name: 'baseline' };
const KEEP = new Set<string>(RUNTIME_PLACEHOLDERS);

export interface ExpandOptions {
  /** The seed of `order: random` when the config gives none (otherwise one is chosen). */
  seed?: number;
}

/** A test with one parameter combination under one policy: what repetitions repeat. */
export interface Cell {
  /** `test[k=v,...] policy`, unique within the batch. */
  key: string;
  test: TestSpec;
  params: ParamCombination;
  policy: PolicySpec;
}

/** One run before it is built: its cell, what kind of run, and where it sits. */
export interface RunSlot {
  cell: Cell;
  warmup: boolean;
  rep: number;
  round: number;
  index: number;
  /** The (test, params) block whose policies interleave. */
  block: string;
}

export function cellKey(test: string, params: ParamCombination, policy: string): string {
  return `${test}${label(params)} ${policy}`;
}

/** Every cell, in sequential order. */
export function planCells(config: ResolvedBatchConfig): Cell[] {
  const policies = config.policies.length ? config.policies : [DEFAULT_POLICY];
  return config.tests.flatMap((test) =>
    paramCombinations(test).flatMap((params) => policies.map((policy) => ({ key: cellKey(test.name, params, policy.name), test, params, policy }))),
  );
}

/** Repetitions planned up front: `repeat`, or `repeat.min` for an adaptive test. */
export function initialRepeats(test: TestSpec): number {
  return typeof test.repeat === 'object' ? test.repeat.min : (test.repeat ?? 1);
}

export function expandPlan(config: ResolvedBatchConfig, options: ExpandOptions = {}): Plan {
  const order = resolveOrder(config.order, options.seed);
  const cells = planCells(config);
  const warmupRounds = Math.max(0, ...config.tests.map((t) => t.warmup ?? 0));
  const slots: RunSlot[] = [];
  for (const cell of cells) {
    const block = `${cell.test.name}${label(cell.params)}`;
    const warmups = cell.test.warmup ?? 0;
    // A test with fewer warm-ups than another does them in the last warm-up rounds, right before its measured runs.
    for (let w = 1; w <= warmups; w++) slots.push({ cell, warmup: true, rep: w, round: warmupRounds - warmups + w, index: slots.length + 1, block });
    for (let rep = 1; rep <= initialRepeats(cell.test); rep++) slots.push({ cell, warmup: false, rep, round: warmupRounds + rep, index: slots.length + 1, block });
  }
  return { config, order, runs: buildRuns(config, order, slots, 1) };
}

/** Slots (in sequential order) → runs in execution order, positions counting from `firstPosition`. */
export function buildRuns(config: ResolvedBatchConfig, order: ResolvedOrder, slots: RunSlot[], firstPosition: number): PlannedRun[] {
  const monitorTargets = config.monitors.map((m) => ({ monitor: m, targets: resolvePlacement(m.on ?? 'nodes', config.machines) }));
  return arrange(slots, order).map((slot, i) => {
    const { cell } = slot;
    const test = cell.test;
    const targets = resolvePlacement(test.on ?? 'nodes', config.machines);
    const timeoutMs = test.timeout === undefined ? undefined : parseDuration(test.timeout);
    const run: RunFacts = { index: slot.index, test: test.name, params: cell.params, policy: cell.policy.name, rep: slot.rep, warmup: slot.warmup, batch: config.name };
    return {
      index: slot.index,
      position: firstPosition + i,
      round: slot.round,
      warmup: slot.warmup,
      test: test.name,
      params: cell.params,
      policy: cell.policy.name,
      rep: slot.rep,
      monitors: monitorTargets.flatMap(({ monitor, targets }) => targets.map((t) => monitorProcess(monitor, t, run))),
      workloads: targets.map((t) => workloadProcess(test, t, run, timeoutMs)),
    };
  });
}

interface RunFacts {
  index: number;
  test: string;
  params: ParamCombination;
  policy: string;
  rep: number;
  warmup?: boolean;
  batch: string;
}

/** Values of plan-time placeholders for one process. Built-ins win over params (the loader forbids such params anyway). */
export function placeholderValues(run: RunFacts, target: Target): Record<string, string> {
  return {
    ...run.params,
    test: run.test,
    policy: run.policy,
    rep: String(run.rep),
    run: String(run.index),
    node: target.node,
    vm: target.vm ?? '',
    host: target.host,
    batch: run.batch,
  };
}

export function where(target: Target): string {
  return target.vm === undefined ? target.node : `${target.node}/${target.vm}`;
}

function workloadProcess(test: TestSpec, target: Target, run: RunFacts, timeoutMs: number | undefined): PlannedProcess {
  const which = run.warmup ? `warmup #${run.rep}` : `#${run.rep}`;
  const process = plannedProcess('workload', test, target, run, `${test.name}${label(run.params)} ${run.policy} ${which} @${where(target)}`);
  if (timeoutMs !== undefined) process.timeoutMs = timeoutMs;
  if (test.stdin !== undefined) process.stdin = test.stdin;
  return process;
}

function monitorProcess(monitor: MonitorSpec, target: Target, run: RunFacts): PlannedProcess {
  return plannedProcess('monitor', monitor, target, run, `${monitor.name} (run ${run.index}) @${where(target)}`);
}

/** What workloads and monitors share: the command with plan-time placeholders filled, and the parser it gets. */
function plannedProcess(
  role: PlannedProcess['role'],
  spec: Pick<TestSpec | MonitorSpec, 'name' | 'command' | 'parser'>,
  target: Target,
  run: RunFacts,
  processLabel: string,
): PlannedProcess {
  const command = renderTemplate(spec.command, placeholderValues(run, target), KEEP);
  const process: PlannedProcess = {
    label: processLabel,
    role,
    name: spec.name,
    target,
    command,
    params: run.params,
    policy: run.policy,
    rep: run.rep,
  };
  const parser = spec.parser ?? inferParser(command);
  if (parser !== undefined) process.parser = parser;
  return process;
}
