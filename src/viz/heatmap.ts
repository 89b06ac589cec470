/**
 * Heatmaps: a pivot of z over (x, y), e.g. per-thread CPU % over time from
 * pidstat, and the CPU affinity of each guest thread (which CPUs a thread may
 * run on) as recorded by Tune.
 */
import { axisTitle } from './axis-titles.js';
import { column, groupKey, rowCount, toColumns, type TableInput } from './columns.js';
import { sampleColumns } from './since-boot.js';
import { baseLayout, type CommonOptions, type Figure } from './figure.js';
import { toNumber } from './numbers.js';
import { UserError } from '../errors.js';

export type Aggregate = 'mean' | 'sum' | 'max' | 'min' | 'count';

export interface HeatmapOptions extends CommonOptions {
  x: string;
  y: string;
  z: string;
  /** How several rows in one cell combine (default mean). */
  agg?: Aggregate;
  zTitle?: string;
  colorscale?: string;
}

export interface Pivot {
  x: string[];
  y: string[];
  /** z[row = y index][col = x index]; null where no row fell in the cell. */
  z: (number | null)[][];
}

/** Pivot z over the distinct x and y values (in order of appearance, numbers sorted numerically). */
export function pivot(input: TableInput, x: string, y: string, z: string, agg: Aggregate = 'mean'): Pivot {
  const columns = toColumns(input);
  const xs = column(columns, x, 'x column');
  const ys = column(columns, y, 'y column');
  const zs = column(columns, z, 'z column');
  const xKeys = distinctSorted(xs);
  const yKeys = distinctSorted(ys);
  const xi = new Map(xKeys.map((k, i) => [k, i]));
  const yi = new Map(yKeys.map((k, i) => [k, i]));
  const cells: number[][][] = yKeys.map(() => xKeys.map(() => []));
  for (let i = 0; i < rowCount(columns); i++) {
    const v = toNumber(zs[i]);
    if (v === null && agg !== 'count') continue;
    cells[yi.get(groupKey(ys[i]))!]![xi.get(groupKey(xs[i]))!]!.push(v ?? 0);
  }
  return { x: xKeys, y: yKeys, z: cells.map((row) => row.map((values) => aggregate(values, agg))) };
}

function distinctSorted(values: readonly unknown[]): string[] {
  const keys = [...new Set(values.map(groupKey))];
  const allNumeric = keys.every((k) => k !== '' && Number.isFinite(Number(k)));
  return allNumeric ? keys.sort((a, b) => Number(a) - Number(b)) : keys;
}

function aggregate(values: number[], agg: Aggregate): number | null {
  if (agg === 'count') return values.length;
  if (values.length === 0) return null;
  switch (agg) {
    case 'sum':
      return values.reduce((a, b) => a + b, 0);
    case 'max':
      return Math.max(...values);
    case 'min':
      return Math.min(...values);
    case 'mean':
      return values.reduce((a, b) => a + b, 0) / values.length;
  }
}

export function heatmapFigure(input: TableInput, options: HeatmapOptions): Figure {
  const { x, y, z } = pivot(sampleColumns(input, options.sinceBoot), options.x, options.y, options.z, options.agg);
  const zTitle = options.zTitle ?? axisTitle(options.z);
  const layout = baseLayout({
    title: options.title,
    xTitle: options.xTitle ?? axisTitle(options.x),
    yTitle: options.yTitle ?? axisTitle(options.y),
    height: options.height ?? Math.max(300, 120 + 28 * y.length),
  });
  (layout.yaxis as Record<string, unknown>).type = 'category';
  return {
    data: [
      {
        type: 'heatmap',
        name: zTitle,
        x,
        y,
        z,
        colorscale: options.colorscale ?? 'Viridis',
        colorbar: { title: { text: zTitle } },
        hoverongaps: false,
      },
    ],
    layout,
  };
}

/** "0-3,6,8-9" (taskset/cpuset syntax) → [0,1,2,3,6,8,9]. */
export function parseCpuList(list: string): number[] {
  const cpus: number[] = [];
  for (const part of list.split(',').map((p) => p.trim()).filter(Boolean)) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(part);
    if (!m) throw new UserError(`CPU list '${list}': '${part}' is not a CPU number or range`);
    const lo = Number(m[1]);
    const hi = m[2] === undefined ? lo : Number(m[2]);
    for (let c = lo; c <= hi; c++) cpus.push(c);
  }
  return cpus;
}

export interface ThreadAffinity {
  /** Row label, e.g. "node1/vm2 vcpu0 (tid 1234)". */
  thread: string;
  /** Allowed CPUs: a cpuset list ("0-3") or numbers. */
  cpus: string | number[];
}

/** One row per thread, one column per host CPU, filled where the thread may run. */
export function affinityFigure(threads: readonly ThreadAffinity[], options: CommonOptions & { cpuCount?: number } = {}): Figure {
  const sets = threads.map((t) => new Set(typeof t.cpus === 'string' ? parseCpuList(t.cpus) : t.cpus));
  const maxCpu = Math.max(options.cpuCount ? options.cpuCount - 1 : 0, ...sets.flatMap((s) => [...s]));
  const cpus = Array.from({ length: maxCpu + 1 }, (_, i) => i);
  const layout = baseLayout({
    title: options.title ?? 'CPU affinity per thread',
    xTitle: options.xTitle ?? 'Host CPU',
    yTitle: options.yTitle ?? 'Thread',
    height: options.height ?? Math.max(260, 120 + 26 * threads.length),
  });
  (layout.xaxis as Record<string, unknown>).dtick = 1;
  (layout.yaxis as Record<string, unknown>).type = 'category';
  return {
    data: [
      {
        type: 'heatmap',
        name: 'allowed',
        x: cpus,
        y: threads.map((t) => t.thread),
        z: sets.map((s) => cpus.map((c) => (s.has(c) ? 1 : 0))),
        zmin: 0,
        zmax: 1,
        colorscale: [
          [0, '#f2f2f2'],
          [1, '#1f77b4'],
        ],
        showscale: false,
        xgap: 2,
        ygap: 2,
        hovertemplate: 'CPU %{x}<br>%{y}<br>%{z:.0f}<extra></extra>',
      },
    ],
    layout,
  };
}
