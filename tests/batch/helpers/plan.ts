// Builds small Plans by hand for runner tests (the YAML loader is tested on its own; the CLI tests use it end to end).
import type { Plan, PlannedProcess, PlannedRun, ResolvedBatchConfig, Target } from '../../../src/batch/config/types.js';

export const LOCAL: Target = { node: 'local', host: 'local' };

export function proc(role: 'workload' | 'monitor', name: string, command: string, extra: Partial<PlannedProcess> = {}): PlannedProcess {
  return { label: `${name}@local`, role, name, target: LOCAL, command, params: {}, policy: 'baseline', rep: 1, ...extra };
}

export function plan(runs: Array<Pick<PlannedRun, 'monitors' | 'workloads'> & Partial<PlannedRun>>, name = 'runner-test'): Plan {
  const config: ResolvedBatchConfig = {
    name,
    machines: { nodes: [{ name: 'local', host: 'local' }] },
    monitors: [],
    tests: [],
    policies: [{ name: 'baseline' }],
  };
  return {
    config,
    order: { kind: 'sequential' },
    runs: runs.map((r, index) => ({ index, position: index + 1, round: 1, warmup: false, test: 't', params: {}, policy: 'baseline', rep: 1, ...r })),
  };
}
