/**
 * The guests and CPUs a search's candidates name, each with the spec key that
 * names it, checked against Tune's discovery of the batch's nodes before the
 * first round (with the same rules `tune apply` refuses a policy by: a named
 * guest runs on one of the nodes, a pinned CPU is online on every node). A
 * search that would spend its rounds on hooks that fail is refused up front.
 * Pure: discovery is done by the caller (preflight.ts).
 */
import type { ConfigPath } from '../../batch/config/source.js';
import { formatCpuList } from '../cpu-list.js';
import type { ParsedDiscovery } from '../discover-parse.js';
import { cpusOf, cpusNotOnline, onlineCpus } from '../planner.js';
import { guestsNowhere } from '../session.js';
import { normaliseSpace } from '../space/dimensions.js';
import { specError, type SearchSpec } from './spec.js';

export interface TargetClaim {
  /** The spec key that names it. */
  path: ConfigPath;
  /** Point at the key rather than its value (a guest named by its key in `space.guests`). */
  part?: 'key';
  guests?: string[];
  cpus?: number[];
}

export function targetClaims(spec: SearchSpec): TargetClaim[] {
  const claims: TargetClaim[] = [];
  if (spec.space) {
    const space = normaliseSpace(spec.space);
    for (const guest of space.guests) claims.push({ path: ['space', 'guests', guest], part: 'key', guests: [guest] });
    for (const d of space.dimensions) {
      if (d.knob !== 'cpus') continue;
      const at: ConfigPath = d.scope === 'all' ? ['space', 'guests', d.guest, 'cpus'] : ['space', 'guests', d.guest, d.scope, 'cpus'];
      // Choices keep the order they were written in (dimensions.ts), so index i is the i-th entry.
      d.choices.forEach((c, i) => c.cpus && claims.push({ path: [...at, i], cpus: c.cpus }));
    }
    if (spec.space.cpus !== undefined) claims.push({ path: ['space', 'cpus'], cpus: space.cpus });
  }
  spec.candidates?.forEach((p, i) => {
    const vms = p.identify?.vms;
    if (Array.isArray(vms) && !p.identify?.top) vms.forEach((name, j) => claims.push({ path: ['candidates', i, 'identify', 'vms', j], guests: [name] }));
    if (p.pin?.cpus) claims.push({ path: ['candidates', i, 'pin', 'cpus'], cpus: p.pin.cpus });
  });
  spec.generate?.guests.forEach((name, j) => claims.push({ path: ['generate', 'guests', j], guests: [name] }));
  spec.generate?.cpus?.forEach((value, k) => claims.push({ path: ['generate', 'cpus', k], cpus: cpusOf(value) }));
  return claims;
}

/** Throws at the first claim the nodes cannot meet: a guest that runs on none of them, a CPU one of them does not have online. */
export function checkTargets(spec: SearchSpec, claims: readonly TargetClaim[], discoveries: ReadonlyMap<string, ParsedDiscovery>): void {
  for (const claim of claims) {
    const nowhere = claim.guests && guestsNowhere(claim.guests, discoveries);
    if (nowhere) throw specError(spec, claim.path, nowhere, claim.part);
    for (const d of claim.cpus ? discoveries.values() : []) {
      const online = onlineCpus(d);
      const offline = online && cpusNotOnline(claim.cpus!, online, d.node);
      if (offline) throw specError(spec, claim.path, claim.cpus!.length === 1 ? `CPU ${offline}` : `CPUs ${formatCpuList(claim.cpus!)}: ${offline}`, claim.part);
    }
  }
}
