/**
 * `expert run --dry-run`: the plan as rows, one per process to start, in
 * start order (by `position`; each run's monitors, then its workloads).
 * `run` is the run index (sequential layout), `position` the execution order; `launcher` says how each
 * process starts (srun -w NODE, ssh host:port, local). Feed to
 * src/cli/format.ts formatRows(columns, rows, format).
 */
import type { Plan, Target } from '../config/types.js';
import { where } from './expand.js';

export const PLAN_COLUMNS = ['position', 'run', 'test', 'params', 'policy', 'rep', 'warmup', 'role', 'name', 'target', 'host', 'launcher', 'timeout_ms', 'command'] as const;

export function planRows(plan: Plan): { columns: string[]; rows: unknown[][] } {
  const rows: unknown[][] = [];
  for (const run of plan.runs) {
    const params = Object.entries(run.params).map(([k, v]) => `${k}=${v}`).join(',');
    for (const p of [...run.monitors, ...run.workloads]) {
      rows.push([run.position, run.index, run.test, params, run.policy, run.rep, run.warmup, p.role, p.name, where(p.target), hostText(p.target), launcherText(p.target), p.timeoutMs ?? null, p.command]);
    }
  }
  return { columns: [...PLAN_COLUMNS], rows };
}

/** `user@host:port` as ssh would be told, or `local`. */
export function hostText(target: Target): string {
  return `${target.user ? target.user + '@' : ''}${target.host}${target.port ? ':' + target.port : ''}`;
}

/**
 * How the process is started: `srun -w NODE [srun args]` for a node under `launcher: srun` (its `host`
 * is then only the NodeAddr its guests are reached at), `ssh user@host:port`, or `local`.
 */
export function launcherText(target: Target): string {
  if (target.launcher === 'srun') return ['srun', '-w', target.node, ...(target.srun?.args ?? [])].join(' ');
  return target.host === 'local' ? 'local' : `ssh ${hostText(target)}`;
}
