/**
 * The plan: every run the batch will make, in order, and every process of
 * each run. Pure: no I/O, same config in, same plan out.
 *
 * Runs are ordered test → parameter combination → policy → repetition: for
 * each test (config order), for each combination (see matrix.ts), for each
 * policy (config order; one `baseline` policy when none is given), reps
 * 1..repeat. Run indexes count from 1 across the batch. Each run carries its
 * workloads (the test on every target of its `on`) and its monitors (every
 * monitor on each of its targets; monitors run beside every run).
 */
import type { MonitorSpec, Plan, PlannedProcess, PlannedRun, PolicySpec, ResolvedBatchConfig, Target, TestSpec } from '../config/types.js';
import { parseDuration } from '../config/duration.js';
import { renderTemplate, RUNTIME_PLACEHOLDERS } from '../config/template.js';
import { label, paramCombinations, type ParamCombination } from './matrix.js';
import { inferParser } from './parser-hint.js';
import { resolvePlacement } from './targets.js';

export const DEFAULT_POLICY: PolicySpec = { name: 'baseline' };
const KEEP = new Set<string>(RUNTIME_PLACEHOLDERS);

export function expandPlan(config: ResolvedBatchConfig): Plan {
  const policies = config.policies.length ? config.policies : [DEFAULT_POLICY];
  const monitorTargets = config.monitors.map((m) => ({ monitor: m, targets: resolvePlacement(m.on ?? 'nodes', config.machines) }));
  const runs: PlannedRun[] = [];
  for (const test of config.tests) {
    const targets = resolvePlacement(test.on ?? 'nodes', config.machines);
    const timeoutMs = test.timeout === undefined ? undefined : parseDuration(test.timeout);
    for (const params of paramCombinations(test)) {
      for (const policy of policies) {
        for (let rep = 1; rep <= (test.repeat ?? 1); rep++) {
          const run: RunFacts = { index: runs.length + 1, test: test.name, params, policy: policy.name, rep, batch: config.name };
          runs.push({
            index: run.index,
            test: test.name,
            params,
            policy: policy.name,
            rep,
            monitors: monitorTargets.flatMap(({ monitor, targets }) => targets.map((t) => monitorProcess(monitor, t, run))),
            workloads: targets.map((t) => workloadProcess(test, t, run, timeoutMs)),
          });
        }
      }
    }
  }
  return { config, runs };
}

interface RunFacts {
  index: number;
  test: string;
  params: ParamCombination;
  policy: string;
  rep: number;
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
  const process = plannedProcess('workload', test, target, run, `${test.name}${label(run.params)} ${run.policy} #${run.rep} @${where(target)}`);
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
