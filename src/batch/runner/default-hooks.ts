/**
 * The hooks `expert run` (and the kernel's %batch) put around every run.
 * Tune's hook joins when the batch needs it: a policy that changes something
 * (pin, nice, ionice, chrt), an online optimizer (`dynamic:`), or a command that uses `{guest_pids}` /
 * `{guest_tids}`. A baseline-only batch without those never discovers guests,
 * so it runs on machines without QEMU too.
 */
import type { Plan } from '../config/types.js';
import type { RunHook } from '../hooks.js';
import { runtimePlaceholdersIn } from '../config/template.js';
import { createTuneHook, type TuneHookOptions } from '../../tune/hook.js';
import { isNoOpPolicy } from '../../tune/planner.js';

export function needsTuning(plan: Plan): boolean {
  if (plan.config.policies.some((policy) => !isNoOpPolicy(policy) || policy.dynamic !== undefined)) return true;
  return plan.runs.some((run) => [...run.monitors, ...run.workloads].some((p) => runtimePlaceholdersIn(p.command).length > 0));
}

export function defaultHooks(plan: Plan, tune: TuneHookOptions = {}): RunHook[] {
  return needsTuning(plan) ? [createTuneHook(tune)] : [];
}
