/**
 * Putting a libvirt domain back (pure parts): the virsh commands that return
 * each changed unit's live pinning and each changed schedinfo parameter to
 * what libvirt reported before the first change, and the check that libvirt
 * now reports exactly that.
 */
import type { DomainOutcome, ScriptDomain } from './apply-script.js';
import { sameCpuSet } from './cpu-list.js';
import type { JournalEntry } from './journal.js';
import { pinCommand, schedCommand, unitPin } from './libvirt-view.js';

export function restoreDomainScript(entry: JournalEntry): ScriptDomain {
  const d = entry.domain!;
  const commands: ScriptDomain['commands'] = [];
  for (const unit of d.units) {
    const cpus = unitPin(d.before, unit);
    if (cpus !== undefined) commands.push({ what: unit, argv: pinCommand(d.uuid, unit, cpus) });
  }
  const sched = Object.fromEntries(d.sched.filter((k) => d.before.sched[k] !== undefined).map((k) => [k, d.before.sched[k]!]));
  if (Object.keys(sched).length) commands.push({ what: 'cputune', argv: schedCommand(d.uuid, sched) });
  return { uuid: d.uuid, pid: entry.pid, startTime: entry.startTime, commands };
}

/** What is not back as it was (empty: restored). */
export function domainRestoreProblems(entry: JournalEntry, outcome: DomainOutcome): string[] {
  const d = entry.domain!;
  const problems = outcome.errors.map((e) => `${e.what}: virsh: ${e.message}`);
  if (!outcome.after) return [...problems, 'libvirt did not report the domain after restoring'];
  for (const unit of d.units) {
    const want = unitPin(d.before, unit);
    const got = unitPin(outcome.after, unit);
    if (want !== undefined && (got === undefined || !sameCpuSet(want, got))) problems.push(`${unit} pinned to ${got ?? 'nothing'}, not back to ${want}`);
  }
  for (const key of d.sched) {
    if (d.before.sched[key] !== undefined && outcome.after.sched[key] !== d.before.sched[key]) problems.push(`${key} is ${outcome.after.sched[key]}, not back to ${d.before.sched[key]}`);
  }
  return problems;
}
