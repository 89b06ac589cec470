/**
 * A search space of placements, as a search spec's `space:` gives it: per
 * guest (or per thread kind of a guest) a list of choices for each knob
 * (CPU set, nice level, ionice class), constraints that rule placements out,
 * and groups of interchangeable guests (one of each equivalent placement is kept).
 */

/** A CPU choice as written: `any` (not pinned), a CPU, a list of CPUs, or a CPU-list string. */
export type CpuChoiceText = 'any' | number | number[] | string;
/** An ionice choice as written: `none` (unchanged), a class, or a class with a level. */
export type IoniceChoiceText = 'none' | 'realtime' | 'best-effort' | 'idle' | { class: 'realtime' | 'best-effort' | 'idle'; level?: number };

export interface KnobChoices {
  cpus?: CpuChoiceText[];
  nice?: number[];
  ionice?: IoniceChoiceText[];
}

/** A guest's choices: knobs for all its threads, and/or CPU sets per thread kind (nice and ionice act on every thread of a guest). */
export interface GuestChoices extends KnobChoices {
  vcpu?: Pick<KnobChoices, 'cpus'>;
  iothread?: Pick<KnobChoices, 'cpus'>;
  emulator?: Pick<KnobChoices, 'cpus'>;
}

export type Constraint =
  /** No CPU may be open to more than N guests. */
  | { max_guests_per_cpu: number }
  /** These guests never share a CPU (the CPUs each may run on are disjoint). */
  | { apart: string[] };

export interface SpaceSpec {
  guests: Record<string, GuestChoices>;
  constraints?: Constraint[];
  /** Groups of guests with the same role: a placement and its swaps within a group are one candidate. */
  symmetric?: string[][];
  /** The node's CPUs that an unpinned thread may use (default: every CPU the choices name). */
  cpus?: number[] | string;
}

export type ThreadScope = 'all' | 'vcpu' | 'iothread' | 'emulator';
export type Knob = 'cpus' | 'nice' | 'ionice';

/** One choice, normalised: `undefined` fields mean "leave as it is". */
export interface Choice {
  cpus?: number[];
  nice?: number;
  ionice?: { class: 'realtime' | 'best-effort' | 'idle'; level?: number };
  /** Short text for names and tables (`*` for unchanged). */
  label: string;
}

/** One axis of the space: a knob of a guest's threads (of one kind) and its choices. */
export interface Dimension {
  guest: string;
  scope: ThreadScope;
  knob: Knob;
  choices: Choice[];
}

/** A placement: the index of the chosen choice on every dimension. */
export type Placement = readonly number[];
