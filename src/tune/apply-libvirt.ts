/**
 * The libvirt side of applying a plan: read libvirt's live view of each
 * domain before anything changes (the journal's before-state), turn domain
 * plans into virsh commands, and judge what came back: a pin through libvirt
 * is verified only when the thread's real affinity AND libvirt's view agree
 * with what was asked; a cputune change when `schedinfo --live` reads back
 * the values asked for.
 */
import type { Executor } from '../batch/executor.js';
import type { DomainPlan, ThreadPlan } from './actions.js';
import { buildApplyScript, parseDomainOutput, type DomainOutcome, type ScriptDomain } from './apply-script.js';
import { sameCpuSet } from './cpu-list.js';
import { pinCommand, schedCommand, unitPin } from './libvirt-view.js';
import type { LibvirtTune } from './types.js';

/** libvirt's live view of each domain (by UUID); a domain whose QEMU is gone is missing from the map. */
export async function queryDomains(executor: Executor, domains: ReadonlyArray<Pick<DomainPlan, 'uuid' | 'pid' | 'startTime'>>, timeoutMs = 60_000): Promise<Map<string, LibvirtTune>> {
  if (domains.length === 0) return new Map();
  const script = buildApplyScript([], domains.map((d) => ({ uuid: d.uuid, pid: d.pid, startTime: d.startTime, commands: [] })));
  const result = await executor.exec('sh -s', { stdin: script, timeoutMs });
  const views = new Map<string, LibvirtTune>();
  for (const [uuid, outcome] of parseDomainOutput(result.stdout)) if (!outcome.gone && outcome.before) views.set(uuid, outcome.before);
  return views;
}

export function scriptDomainOf(plan: DomainPlan): ScriptDomain {
  const commands: ScriptDomain['commands'] = plan.pins.map((p) => ({ what: p.unit, argv: pinCommand(plan.uuid, p.unit, p.cpus) }));
  if (plan.sched) commands.push({ what: 'cputune', argv: schedCommand(plan.uuid, plan.sched) });
  return { uuid: plan.uuid, pid: plan.pid, startTime: plan.startTime, commands };
}

/** Why a thread pinned through libvirt is not verified (undefined: it is). */
export function libvirtPinProblem(plan: ThreadPlan, requested: string, outcome: DomainOutcome | undefined): string | undefined {
  const unit = plan.libvirt!.unit;
  if (!outcome) return `libvirt did not answer for domain ${plan.libvirt!.domain}`;
  if (outcome.gone) return `domain ${plan.libvirt!.domain} stopped before it could be pinned`;
  const errors = outcome.errors.filter((e) => e.what === unit).map((e) => `virsh: ${e.message}`);
  if (errors.length) return errors.join('; ');
  const seen = outcome.after ? unitPin(outcome.after, unit) : undefined;
  if (seen === undefined || !sameCpuSet(seen, requested)) return `libvirt reports ${unit} pinned to ${seen ?? 'nothing'}, not ${requested}`;
  return undefined;
}

/** The schedinfo values a domain plan asked for, as libvirt read them before and after; verified when all match. */
export function cputuneOutcome(plan: DomainPlan, before: LibvirtTune | undefined, outcome: DomainOutcome | undefined): { before: Record<string, number | null>; after: Record<string, number | null>; error?: string } {
  const keys = Object.keys(plan.sched ?? {});
  const pick = (tune: LibvirtTune | undefined) => Object.fromEntries(keys.map((k) => [k, tune?.sched[k] ?? null]));
  const after = pick(outcome?.after);
  let error: string | undefined;
  if (!outcome) error = `libvirt did not answer for domain ${plan.domain}`;
  else if (outcome.gone) error = `domain ${plan.domain} stopped before it could be tuned`;
  else if (outcome.errors.some((e) => e.what === 'cputune')) error = outcome.errors.filter((e) => e.what === 'cputune').map((e) => `virsh: ${e.message}`).join('; ');
  else {
    const wrong = keys.filter((k) => after[k] !== plan.sched![k]);
    if (wrong.length) error = `schedinfo reads back ${wrong.map((k) => `${k}=${after[k]}`).join(', ')}, not ${wrong.map((k) => `${k}=${plan.sched![k]}`).join(', ')}`;
  }
  return { before: pick(before), after, ...(error ? { error } : {}) };
}
