/**
 * A placement as Tune policies: one policy part per guest and thread scope
 * that changes something (pin, nice, ionice), all under the placement's name,
 * applied together before a run and restored together after it. Names are
 * short and stable: `vm1@0+n5,vm2@1,vm3@*`; the placement that changes
 * nothing is `baseline`.
 */
import type { PolicySpec } from '../../batch/config/types.js';
import { SCOPE_LABEL, type NormalisedSpace } from './dimensions.js';
import type { Choice, Placement, ThreadScope } from './types.js';

export interface PlacementPolicy {
  name: string;
  /** What to apply; empty for the baseline. */
  parts: PolicySpec[];
}

function merged(choices: Choice[]): Omit<Choice, 'label'> {
  return Object.assign({}, ...choices.map(({ label: _label, ...rest }) => rest)) as Omit<Choice, 'label'>;
}

export function placementName(space: NormalisedSpace, placement: Placement): string {
  const segments: string[] = [];
  let changed = false;
  for (const guest of space.guests) {
    const byScope = new Map<ThreadScope, string[]>();
    space.dimensions.forEach((d, i) => {
      if (d.guest !== guest) return;
      const choice = d.choices[placement[i]!]!;
      if (choice.cpus || choice.nice !== undefined || choice.ionice) changed = true;
      // Unchanged knobs stay out of the name, except a guest's CPU choice (`*` reads "not pinned").
      if (!choice.cpus && !(d.knob === 'cpus') && choice.nice === undefined && !choice.ionice) return;
      if (!byScope.has(d.scope)) byScope.set(d.scope, []);
      byScope.get(d.scope)!.push(choice.label);
    });
    const text = [...byScope].map(([scope, labels]) => `${SCOPE_LABEL[scope]}${labels.join('+')}`).join(';');
    segments.push(`${guest}@${text || '*'}`);
  }
  return changed ? segments.join(',') : 'baseline';
}

export function placementPolicy(space: NormalisedSpace, placement: Placement): PlacementPolicy {
  const name = placementName(space, placement);
  const parts: PolicySpec[] = [];
  for (const guest of space.guests) {
    for (const scope of ['all', 'vcpu', 'iothread', 'emulator'] as const) {
      const chosen = space.dimensions.flatMap((d, i) => (d.guest === guest && d.scope === scope ? [d.choices[placement[i]!]!] : []));
      if (chosen.length === 0) continue;
      const { cpus, nice, ionice } = merged(chosen);
      if (!cpus && nice === undefined && !ionice) continue;
      parts.push({
        name,
        identify: { vms: [guest] },
        ...(cpus ? { pin: { cpus, threads: scope } } : {}),
        ...(nice === undefined ? {} : { nice }),
        ...(ionice ? { ionice } : {}),
      });
    }
  }
  return { name, parts };
}
