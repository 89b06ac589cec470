/**
 * What can be known about a `dynamic:` policy before anything runs, and what
 * only the run's discovery tells. Pure. At load (from the config and the
 * machine map): an objective naming a monitor column must be a column the
 * vmstat parser gives or an event the batch's perf monitor counts (`-e`);
 * the window must be at least as long as that monitor's own interval; named
 * guests must be in the machine map; CPU choices must parse. At the start of
 * a run (from discovery): named guests not on the run's nodes and CPUs not
 * online there, which the climb then leaves out. Each of these otherwise
 * gives a climb that silently makes no move, or moves on empty windows.
 */
import type { DynamicPolicySpec, MonitorSpec } from '../batch/config/types.js';
import { parseTemplate, TemplateError } from '../batch/config/template.js';
import { parseDuration } from '../batch/config/duration.js';
import { didYouMean, suggestion } from '../closest.js';
import { vmstatParser } from '../mine/parsers/vmstat.js';
import { programWords } from '../mine/program.js';
import { cpuChoice } from './space/dimensions.js';
import type { Choice } from './space/types.js';
import type { ParsedDiscovery } from './discover-parse.js';

/** Objectives read from /proc counters of the guests (dynamic-climb.ts's FIGURE). */
export const GUEST_FIGURES = ['write_bps', 'read_bps', 'io_bps', 'ctx_switches_per_s', 'cpu_pct'] as const;

/** A problem at a key path below `policies[i].dynamic`. */
export interface DynamicProblem {
  path: Array<string | number>;
  message: string;
}

/** `vmstat_<column>` for every numeric column the vmstat parser gives (its definition, not a list kept here). */
export function vmstatObjectives(): string[] {
  return vmstatParser.columns.filter((c) => c.type === 'BIGINT' || c.type === 'DOUBLE').map((c) => `vmstat_${c.name}`);
}

/** The name the live views and the monitor window give a perf event (batch-status.ts: non-alphanumerics as `_`). */
export const perfObjective = (event: string): string => `perf_${event.replace(/[^A-Za-z0-9]+/g, '_')}`;

/** A placeholder's stand-in in a command's words: a word holding it cannot be read before the run. */
const UNKNOWN = '\u0000';

/** The real program's words with placeholders as UNKNOWN and `{{ }}` as braces; undefined when the template does not parse. */
function words(command: string): string[] | undefined {
  try {
    return programWords(parseTemplate(command).map((p) => ('text' in p ? p.text : UNKNOWN)).join(''));
  } catch (error) {
    if (error instanceof TemplateError) return undefined;
    throw error;
  }
}

export type MonitorProgram = 'vmstat' | 'perf';

/** Which objective program a monitor is: vmstat, perf stat, or neither. */
export function monitorProgram(monitor: Pick<MonitorSpec, 'command' | 'parser'>): MonitorProgram | undefined {
  if (monitor.parser === 'vmstat') return 'vmstat';
  if (monitor.parser === 'perf-stat') return 'perf';
  if (monitor.parser !== undefined) return undefined;
  const w = words(monitor.command) ?? [];
  if (w[0] === 'vmstat') return 'vmstat';
  if (w[0] === 'perf' && w[1] === 'stat') return 'perf';
  return undefined;
}

/** An option's values: `-e X`, `-eX`, `--event X`, `--event=X` (every occurrence). */
function optionValues(args: string[], short: string, long: string): string[] {
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '--') break;
    if (a === short || a === long) {
      if (args[i + 1] !== undefined) out.push(args[++i]!);
    } else if (a.startsWith(`${long}=`)) out.push(a.slice(long.length + 1));
    else if (a.startsWith(short) && !a.startsWith('--') && a.length > short.length) out.push(a.slice(short.length));
  }
  return out;
}

/** Splits an event list at commas outside a PMU term (`cpu/event=0x3c,umask=0/`); group braces dropped. */
function splitEvents(list: string): string[] {
  const out: string[] = [];
  let item = '';
  let slashes = 0;
  for (const ch of list.replace(/[{}]/g, '')) {
    if (ch === '/') slashes++;
    if (ch === ',' && slashes % 2 === 0) {
      out.push(item);
      item = '';
    } else item += ch;
  }
  out.push(item);
  return out.filter((e) => e !== '');
}

/**
 * The events a `perf stat` command counts, as written after `-e` (perf prints them so); undefined when that
 * cannot be known before the run: no `-e` (perf's default set depends on the machine) or a placeholder in it.
 */
export function perfEvents(command: string): string[] | undefined {
  const w = words(command);
  if (!w || w[0] !== 'perf') return undefined;
  const lists = optionValues(w.slice(2), '-e', '--event');
  if (lists.length === 0 || lists.some((l) => l.includes(UNKNOWN))) return undefined;
  return lists.flatMap(splitEvents);
}

/**
 * How often a monitor prints a sample, in ms: vmstat's delay (seconds), perf stat's `-I` (ms). `once` when it
 * prints no interval samples at all (vmstat without a delay: one since-boot row; perf stat without -I: totals at
 * the end); undefined when a placeholder decides it.
 */
export function monitorIntervalMs(monitor: Pick<MonitorSpec, 'command' | 'parser'>): number | 'once' | undefined {
  const program = monitorProgram(monitor);
  const w = words(monitor.command);
  if (!program || !w) return undefined;
  if (program === 'perf') {
    const values = optionValues(w.slice(2), '-I', '--interval-print');
    if (values.length === 0) return 'once';
    const v = values[values.length - 1]!;
    return v.includes(UNKNOWN) || !/^\d+$/.test(v) ? undefined : Number(v);
  }
  // vmstat [options] [delay [count]]: the first word that is not an option (nor -p/-S's value).
  const args = w.slice(1);
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a.includes(UNKNOWN)) return undefined;
    if (a === '-p' || a === '-S' || a === '--partition' || a === '--unit') {
      i++;
      continue;
    }
    if (a.startsWith('-')) continue;
    const seconds = Number(a);
    return Number.isFinite(seconds) && seconds > 0 ? seconds * 1000 : undefined;
  }
  return 'once';
}

const DEFAULT_INTERVAL = '5s';

/** What the config alone says is wrong with a `dynamic:` policy; the first problem in key order first. */
/** `guestNames`: the machine map's guests when it lists every node's (undefined: guests are found on the nodes when the run starts). */
export function dynamicProblems(spec: DynamicPolicySpec, monitors: ReadonlyArray<Pick<MonitorSpec, 'name' | 'command' | 'parser'>>, guestNames: readonly string[] | undefined): DynamicProblem[] {
  const problems: DynamicProblem[] = [];
  const objective = spec.objective as string;
  const program: MonitorProgram | undefined = objective.startsWith('vmstat_') ? 'vmstat' : objective.startsWith('perf_') ? 'perf' : undefined;
  const mine = monitors.map((m, i) => ({ m, i })).filter(({ m }) => monitorProgram(m) === program);
  if (program === 'vmstat') {
    const columns = vmstatObjectives();
    if (!columns.includes(objective)) {
      problems.push({ path: ['objective'], message: `no vmstat column \`${objective.slice('vmstat_'.length)}\`: the vmstat parser gives ${columns.join(', ')}${didYouMean(objective, [...columns, ...GUEST_FIGURES])}` });
    }
  } else if (program === 'perf' && mine.length > 0) {
    // Only when every perf monitor says what it counts: perf's default events depend on the machine.
    const counted = mine.map(({ m }) => perfEvents(m.command));
    if (counted.every((e): e is string[] => e !== undefined)) {
      const names = [...new Set(counted.flat().map(perfObjective))];
      if (!names.includes(objective)) {
        const where = mine.map(({ m }) => `\`${m.name}\``).join(', ');
        problems.push({ path: ['objective'], message: `no perf event gives \`${objective}\`: the perf monitor${mine.length > 1 ? 's' : ''} ${where} count${mine.length > 1 ? '' : 's'} (-e) ${names.join(', ')}${suggestion(objective, names, 'add the event to -e, or use one of')}` });
      }
    }
  }

  // A window shorter than the monitor's interval often holds no sample: the move is judged on nothing.
  if (program && mine.length > 0 && problems.length === 0) {
    const intervals = mine.map(({ m }) => monitorIntervalMs(m));
    if (intervals.every((v) => v !== undefined)) {
      const known = intervals.filter((v): v is number => v !== 'once');
      const windowText = String(spec.interval ?? DEFAULT_INTERVAL);
      const windowMs = parseDuration(spec.interval ?? DEFAULT_INTERVAL);
      const path = spec.interval === undefined ? [] : ['interval'];
      const said = spec.interval === undefined ? `the default interval ${DEFAULT_INTERVAL}` : `interval ${windowText}`;
      if (known.length === 0) {
        const fix = program === 'vmstat' ? 'give vmstat a delay, e.g. `vmstat -n 1`' : 'give perf stat an interval, e.g. `-I 1000`';
        problems.push({ path, message: `the objective ${objective} needs samples during the run, and the ${program} monitor ${mine.map(({ m }) => `\`${m.command}\``).join(', ')} prints none (${program === 'vmstat' ? 'no delay: one since-boot row' : 'no -I: totals at the end'}); ${fix}` });
      } else if (windowMs < Math.min(...known)) {
        const every = Math.min(...known);
        const monitor = mine[intervals.indexOf(every)]!.m;
        problems.push({ path, message: `${said} is shorter than the ${program} monitor's own interval (${every / 1000} s, \`${monitor.command}\`): windows would often hold no sample; use an interval of at least ${every >= 1000 ? `${every / 1000}s` : `${every}ms`}` });
      }
    }
  }

  spec.guests?.forEach((guest, k) => {
    if (guestNames && !guestNames.includes(guest)) problems.push({ path: ['guests', k], message: `no guest named \`${guest}\` in the machine map${suggestion(guest, guestNames)}` });
  });
  spec.cpus?.forEach((value, k) => {
    try {
      cpuChoice(value, ['cpus', k], (_path, message) => new Error(message));
    } catch (error) {
      problems.push({ path: ['cpus', k], message: (error as Error).message });
    }
  });
  return problems;
}

/** The guests a climb moves and the CPU choices it may pin to, on what discovery found; warnings for what it leaves out. */
export interface ClimbScope {
  guests: Array<{ node: string; name: string; pid: number }>;
  /** Choices whose CPUs are online on every node of the run, and always `any` (not pinned). */
  cpuChoices: Choice[];
  warnings: string[];
}

export function climbScope(spec: DynamicPolicySpec, discoveries: ReadonlyMap<string, Pick<ParsedDiscovery, 'guests' | 'topology'>>): ClimbScope {
  const warnings: string[] = [];
  const nodes = [...discoveries.keys()];
  const found = [...discoveries].flatMap(([node, d]) => d.guests.map((g) => ({ node, name: g.name, pid: g.pid })));
  const wanted = spec.guests ? new Set(spec.guests) : undefined;
  const guests = found.filter((g) => !wanted || wanted.has(g.name));
  const missing = (spec.guests ?? []).filter((name) => !found.some((g) => g.name === name));
  const onNodes = nodes.join(', ');
  if (missing.length) {
    const seen = [...new Set(found.map((g) => g.name))].sort();
    warnings.push(`dynamic.guests: ${missing.map((m) => `\`${m}\``).join(', ')} ${missing.length > 1 ? 'are' : 'is'} not running on the run's node${nodes.length > 1 ? 's' : ''} (${onNodes}; found: ${seen.join(', ') || 'no guest'})${guests.length ? '' : ': the climb will make no move'}`);
  } else if (guests.length === 0) warnings.push(`dynamic: no guest is running on the run's node${nodes.length > 1 ? 's' : ''} (${onNodes}): the climb will make no move`);

  // A CPU set must be online on every node: the same choice index means the same CPUs on each.
  const onlineSets = [...discoveries.values()].map((d) => new Set(d.topology.cpus.map((c) => c.cpu)));
  const online = onlineSets.length ? [...onlineSets[0]!].filter((c) => onlineSets.every((s) => s.has(c))).sort((a, b) => a - b) : [];
  const written = (spec.cpus ?? ['any', ...online]).map((c, i) => ({ value: c, choice: cpuChoice(c, ['dynamic', 'cpus', i]) }));
  const usable = written.filter(({ choice }) => !choice.cpus || choice.cpus.every((c) => online.includes(c)));
  const dropped = written.filter((w) => !usable.includes(w));
  if (dropped.length) {
    warnings.push(`dynamic.cpus: ${dropped.map((d) => `\`${typeof d.value === 'object' ? d.value.join(',') : d.value}\``).join(', ')} ${dropped.length > 1 ? 'name CPUs' : 'names a CPU'} not online on ${onNodes} (online: ${online.join(', ')}): the climb leaves ${dropped.length > 1 ? 'them' : 'it'} out`);
  }
  const cpuChoices = usable.map((u) => u.choice);
  const anyAt = cpuChoices.findIndex((c) => !c.cpus);
  if (anyAt < 0) cpuChoices.unshift({ label: '*' });
  return { guests, cpuChoices, warnings };
}
