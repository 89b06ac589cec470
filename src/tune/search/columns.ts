/**
 * Which run summary columns a batch can give, known before anything runs:
 * each test's and monitor's command gets a parser as the batch would give it
 * (`parser:`, else the one its program calls for: plan/expand.ts, then Mine's
 * registry), and each parser gives the summary the columns summary.ts names
 * (a monitor inside a guest with `guest_` in front). A search's
 * `objective.metric` and `side:` columns are checked against that before the
 * first round (and in the dry run), so a typo costs no round. When it cannot
 * be told (a parser that is not built in, a command whose program depends on
 * what the plan cannot fill in) nothing is refused. Pure.
 */
import type { BatchConfig, MonitorSpec, TestSpec } from '../../batch/config/types.js';
import { renderTemplate, RUNTIME_PLACEHOLDERS } from '../../batch/config/template.js';
import { inferParser } from '../../batch/plan/parser-hint.js';
import { paramCombinations } from '../../batch/plan/matrix.js';
import { placeholderValues } from '../../batch/plan/expand.js';
import { didYouMean } from '../../closest.js';
import { builtinParsers } from '../../mine/parsers/index.js';
import { defaultRegistry, type ParserRegistry } from '../../mine/registry.js';
import { SUMMARY_BASE_COLUMNS, summaryMetricsOf } from '../../mine/summary.js';
import { specError, type SearchSpec } from './spec.js';

/** One test or monitor and what it gives the summary. */
export interface ColumnSource {
  /** `test dd-write (dd)`, `monitor vmstat (vmstat)`. */
  what: string;
  names: string[];
  prefixes: string[];
}

export interface BatchColumns {
  sources: ColumnSource[];
}

const KEEP = new Set<string>(RUNTIME_PLACEHOLDERS);

/** The columns the batch's tests and monitors can give; undefined when that cannot be told before it runs. */
export function batchColumns(config: Pick<BatchConfig, 'name' | 'tests' | 'monitors'>, registry: ParserRegistry = defaultRegistry()): BatchColumns | undefined {
  const builtin = new Set(builtinParsers());
  const sources: ColumnSource[] = [];
  const add = (role: 'workload' | 'monitor', spec: TestSpec | MonitorSpec, guest: 'no' | 'yes' | 'either'): boolean => {
    let combinations: Array<Record<string, string>>;
    try {
      combinations = role === 'workload' ? paramCombinations(spec as TestSpec) : [{}];
    } catch {
      return false;
    }
    const names = new Set<string>();
    const prefixes = new Set<string>();
    const parsers = new Set<string>();
    for (const params of combinations) {
      let command: string;
      try {
        command = renderTemplate(spec.command, placeholderValues({ index: 1, test: spec.name, params, policy: 'baseline', rep: 1, batch: config.name }, { node: 'node', host: 'host' }), KEEP);
      } catch {
        return false;
      }
      const hint = spec.parser ?? inferParser(command);
      if (hint !== undefined && !registry.has(hint)) return false;
      const parser = registry.parserFor({ command, parser: hint ?? null });
      if (!parser) continue;
      if (!builtin.has(parser)) return false;
      parsers.add(parser.name);
      const own = summaryMetricsOf(parser, role);
      const inGuest = guest === 'yes' ? ['guest_'] : guest === 'either' ? ['', 'guest_'] : [''];
      for (const p of inGuest) {
        own.names.forEach((n) => names.add(p + n));
        if (own.prefix) prefixes.add(p + own.prefix);
      }
    }
    sources.push({ what: `${role === 'workload' ? 'test' : 'monitor'} ${spec.name} (${[...parsers].join(', ') || 'no parser'})`, names: [...names], prefixes: [...prefixes] });
    return true;
  };
  for (const test of config.tests ?? []) if (!add('workload', test, 'no')) return undefined;
  // A monitor `on: vms` runs inside the guests; a list may name nodes or guests (the machines tell, which a dry run does not load).
  for (const monitor of config.monitors ?? []) if (!add('monitor', monitor, monitor.on === 'vms' ? 'yes' : monitor.on === 'nodes' || monitor.on === undefined ? 'no' : 'either')) return undefined;
  return { sources };
}

export function canGive(columns: BatchColumns, name: string): boolean {
  if ((SUMMARY_BASE_COLUMNS as readonly string[]).includes(name)) return true;
  return columns.sources.some((s) => s.names.includes(name) || s.prefixes.some((p) => name.startsWith(p) && name.length > p.length));
}

/** What the batch gives, for an error: `duration_s (every run); dd_rate_bps (test dd-write (dd)); perf_<event> (monitor perf (perf-stat))`. */
export function columnsText(columns: BatchColumns): string {
  const parts = ['duration_s (every run)'];
  for (const s of columns.sources) {
    const listed = [...s.names, ...s.prefixes.map((p) => `${p}<event>`)];
    parts.push(`${listed.length ? listed.join(', ') : 'nothing'} (${s.what})`);
  }
  return parts.join('; ');
}

/** Refuses `objective.metric` and `side:` columns the batch cannot give (at their key in the spec), with what it can give. */
export function checkSummaryColumns(spec: SearchSpec, config: Pick<BatchConfig, 'name' | 'tests' | 'monitors'>, registry?: ParserRegistry): void {
  const wanted: Array<{ path: Array<string | number>; name: string }> = [];
  if (spec.objective.metric !== undefined) wanted.push({ path: ['objective', 'metric'], name: spec.objective.metric });
  spec.side?.forEach((name, i) => wanted.push({ path: ['side', i], name }));
  if (wanted.length === 0) return;
  const columns = batchColumns(config, registry);
  if (!columns) return;
  const all = ['duration_s', ...columns.sources.flatMap((s) => s.names)];
  for (const w of wanted) {
    if (canGive(columns, w.name)) continue;
    throw specError(spec, w.path, `no run summary column '${w.name}' can come from this batch's tests and monitors${didYouMean(w.name, all) || '.'} They give: ${columnsText(columns)}`);
  }
}
