/**
 * Checks that need the whole config and the machine map (after the schema
 * walk): unique names, `on:` targets that exist, parameter names,
 * zip/exclude, and placeholders in commands. Returns the normalized config.
 */
import { didYouMean, suggestion } from '../../closest.js';
import { BUILTIN_PLACEHOLDERS, isPlaceholderName, RUNTIME_PLACEHOLDERS, TemplateError, templatePlaceholders } from './template.js';
import type { ConfigPath, ConfigSource } from './source.js';
import type { BatchConfig, MachineMap, MonitorSpec, Placement, PolicySpec, ResolvedBatchConfig, TestSpec } from './types.js';
import { MatrixError, paramCombinations } from '../plan/matrix.js';
import { PlacementError, placementNames, resolvePlacement } from '../plan/targets.js';
import { DEFAULT_POLICY } from '../plan/expand.js';
import { targetPercent } from '../plan/adaptive.js';
import { dynamicProblems } from '../../tune/dynamic-check.js';

const RESERVED = new Set<string>([...BUILTIN_PLACEHOLDERS, ...RUNTIME_PLACEHOLDERS]);

export function checkConfig(config: BatchConfig, machines: MachineMap, source: ConfigSource, file: string | undefined): ResolvedBatchConfig {
  const monitors = config.monitors ?? [];
  const policies = config.policies ?? [];
  unique(monitors, 'monitors', 'monitor', source);
  unique(config.tests, 'tests', 'test', source);
  unique(policies, 'policies', 'policy', source);

  const tests: TestSpec[] = config.tests.map((test, t) => {
    const on = placement(test.on, ['tests', t, 'on'], machines, source);
    const params = Object.keys(test.params ?? {});
    for (const key of params) {
      const path = ['tests', t, 'params', key];
      if (!isPlaceholderName(key)) throw source.error(path, `parameter name \`${key}\` must be letters, digits, _ or - (starting with a letter or _), to be usable as {${key}}`, 'key');
      if (RESERVED.has(key)) throw source.error(path, `\`${key}\` is a built-in placeholder; name the parameter differently`, 'key');
    }
    try {
      paramCombinations(test);
    } catch (e) {
      if (e instanceof MatrixError) throw source.error(['tests', t, ...e.path], e.message, e.part);
      throw e;
    }
    placeholders(test.command, ['tests', t, 'command'], new Set([...RESERVED, ...params]), source);
    adaptiveRepeat(test, ['tests', t, 'repeat'], source);
    return { ...test, on };
  });

  // A monitor runs beside every test, so it may use only the params every test has.
  const common = config.tests.map((t) => Object.keys(t.params ?? {})).reduce((a, b) => a.filter((k) => b.includes(k)));
  const checkedMonitors: MonitorSpec[] = monitors.map((monitor, m) => {
    const on = placement(monitor.on, ['monitors', m, 'on'], machines, source);
    placeholders(monitor.command, ['monitors', m, 'command'], new Set([...RESERVED, ...common]), source, ' (a monitor may use only built-ins and the params every test has)');
    return { ...monitor, on };
  });

  const guestNames = placementNames(machines).filter((n) => !['nodes', 'vms'].includes(n) && !machines.nodes.some((node) => node.name === n));
  policies.forEach((policy, p) => {
    const vms = policy.identify?.vms;
    if (Array.isArray(vms)) {
      vms.forEach((vm, k) => {
        if (!guestNames.includes(vm)) throw source.error(['policies', p, 'identify', 'vms', k], `no guest named \`${vm}\` in the machine map${suggestion(vm, guestNames)}`);
      });
    }
    // An objective, window, guest or CPU the climb could never use would run silently with no move.
    // Guests are checked here only when the map lists every node's; otherwise the run's discovery finds them (and warns).
    const listed = machines.nodes.every((n) => n.vms !== undefined) ? guestNames : undefined;
    const problem = policy.dynamic && dynamicProblems(policy.dynamic, monitors, listed)[0];
    if (problem) throw source.error(['policies', p, 'dynamic', ...problem.path], problem.message);
  });

  const resolved: ResolvedBatchConfig = {
    name: config.name,
    machines,
    monitors: checkedMonitors,
    tests,
    policies: policies.length ? policies : [{ ...DEFAULT_POLICY } as PolicySpec],
  };
  if (config.description !== undefined) resolved.description = config.description;
  if (config.order !== undefined) resolved.order = config.order;
  if (config.strict !== undefined) resolved.strict = config.strict;
  if (file !== undefined) resolved.source = file;
  return resolved;
}

/** `repeat: {min, max, until}`: min ≤ max, a CI target that is a percentage, a metric that can name a summary column. */
function adaptiveRepeat(test: TestSpec, path: ConfigPath, source: ConfigSource): void {
  const repeat = test.repeat;
  if (typeof repeat !== 'object') return;
  if (repeat.min > repeat.max) throw source.error([...path, 'max'], `expected max ≥ min (${repeat.min}), got ${repeat.max}`);
  try {
    targetPercent(repeat.until.ci);
  } catch (e) {
    throw source.error([...path, 'until', 'ci'], (e as Error).message);
  }
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(repeat.until.metric)) {
    throw source.error([...path, 'until', 'metric'], `expected a column of the run summary (letters, digits, _), e.g. iozone_write_kbps, got '${repeat.until.metric}'`);
  }
}

function unique(items: Array<{ name: string }>, key: string, what: string, source: ConfigSource): void {
  const first = new Map<string, number>();
  items.forEach((item, i) => {
    const earlier = first.get(item.name);
    if (earlier !== undefined) {
      const at = source.locate([key, earlier, 'name']);
      throw source.error([key, i, 'name'], `duplicate ${what} name \`${item.name}\` (first at line ${at.line}); ${what} names must be unique`);
    }
    first.set(item.name, i);
  });
}

/** Normalizes `on:` (absent → nodes, one name → a list) and checks every name resolves. */
function placement(on: Placement | undefined, path: ConfigPath, machines: MachineMap, source: ConfigSource): Placement {
  const normalized: Placement = on === undefined ? 'nodes' : on === 'nodes' || on === 'vms' || Array.isArray(on) ? on : [on];
  try {
    resolvePlacement(normalized, machines);
  } catch (e) {
    if (!(e instanceof PlacementError)) throw e;
    const itemPath = e.item !== undefined && Array.isArray(on) ? [...path, e.item] : path;
    throw source.error(itemPath, e.message);
  }
  return normalized;
}

function placeholders(command: string, path: ConfigPath, allowed: Set<string>, source: ConfigSource, note = ''): void {
  let used: Array<{ name: string; offset: number }>;
  try {
    used = templatePlaceholders(command);
  } catch (e) {
    if (e instanceof TemplateError) throw source.errorInString(path, e.offset, e.message);
    throw e;
  }
  for (const { name, offset } of used) {
    if (!allowed.has(name)) {
      const known = [...allowed].sort();
      const near = didYouMean(name, known);
      throw source.errorInString(path, offset, `unknown placeholder {${name}}${near}; known here: ${known.map((k) => `{${k}}`).join(' ')}${note}; write {{ and }} for literal braces`);
    }
  }
}
