/**
 * What the dashboard sends: one poll of the batch per tick (status, runs,
 * and the monitor figures that arrived since the last tick, read by a
 * (process, seq) cursor), and the history so far for a page that connects
 * or reconnects. `withStore` runs a read on the store: the writer's own
 * store in `expert run --dashboard`, a fresh open per tick in
 * `expert dashboard` (so it never keeps the file locked).
 */
import type { ExpertStore } from '../store/types.js';
import { readBatchStatus, readFigures, type BatchStatus, type FigurePoint } from './batch-status.js';
import type { RunRow } from './progress.js';

export type WithStore = <T>(work: (store: ExpertStore) => Promise<T>) => Promise<T>;

export interface Series {
  key: string;
  host: string;
  guest: string | null;
  name: string;
  x: number[];
  y: number[];
}

export interface Tick {
  status: Omit<BatchStatus, 'processes' | 'latest' | 'runs'> & { states: Record<string, number> };
  runs: RunRow[];
  /** New points since the previous tick: [series key, epoch ms, value]. */
  points: Array<[string, number, number]>;
  series: Array<Omit<Series, 'x' | 'y'>>;
}

/** At most this many points are kept per series for pages that connect later (the oldest go first). */
const KEEP_PER_SERIES = 20_000;

export class DashboardFeed {
  private readonly cursor = new Map<number, number>();
  private readonly series = new Map<string, Series>();
  /** The latest poll (points: everything not yet sent to pages, see `drain`). */
  last: Tick | undefined;
  lastStatus: BatchStatus | undefined;
  private pendingPoints: Array<[string, number, number]> = [];
  private pendingSeries: Series[] = [];

  constructor(
    private readonly withStore: WithStore,
    readonly batchId: number,
  ) {}

  async tick(): Promise<Tick> {
    const { status, points } = await this.withStore(async (store) => ({
      status: await readBatchStatus(store, this.batchId),
      points: await readFigures(store, this.batchId, this.cursor),
    }));
    const runs = status.runs;
    for (const p of points) this.take(p, this.pendingPoints, this.pendingSeries);
    const states: Record<string, number> = {};
    for (const proc of status.processes) states[proc.status] = (states[proc.status] ?? 0) + 1;
    const { processes: _processes, latest: _latest, runs: _runs, ...rest } = status;
    this.lastStatus = status;
    this.last = { status: { ...rest, states }, runs, points: [], series: [] };
    return this.last;
  }

  /** The latest poll with the points and series no page has been sent yet (a scrape's poll keeps them for the next update). */
  drain(): Tick | undefined {
    if (!this.last) return undefined;
    const tick = { ...this.last, points: this.pendingPoints, series: this.pendingSeries.map(({ x: _x, y: _y, ...s }) => s) };
    this.pendingPoints = [];
    this.pendingSeries = [];
    return tick;
  }

  private take(p: FigurePoint, fresh: Array<[string, number, number]>, added: Series[]): void {
    this.cursor.set(p.processId, Math.max(this.cursor.get(p.processId) ?? -1, p.seq));
    const key = `${p.host}|${p.guest ?? ''}|${p.name}`;
    let s = this.series.get(key);
    if (!s) {
      s = { key, host: p.host, guest: p.guest, name: p.name, x: [], y: [] };
      this.series.set(key, s);
      added.push(s);
    }
    s.x.push(p.atMs);
    s.y.push(p.value);
    if (s.x.length > KEEP_PER_SERIES) {
      s.x.splice(0, s.x.length - KEEP_PER_SERIES);
      s.y.splice(0, s.y.length - KEEP_PER_SERIES);
    }
    fresh.push([key, p.atMs, p.value]);
  }

  /**
   * Everything so far, for a page that (re)connects. Points still pending are
   * in it; the page ignores them in the next update by their timestamps.
   */
  snapshot(): { status: Tick['status'] | undefined; runs: RunRow[]; series: Series[] } {
    return { status: this.last?.status, runs: this.last?.runs ?? [], series: [...this.series.values()] };
  }
}
