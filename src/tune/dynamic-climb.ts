/**
 * The online optimizer a policy names in YAML, `dynamic: {optimizer:
 * hill-climb, objective, interval, settle, moves}`: while the run's workload
 * runs it measures the objective (a live figure summed over the guests, from
 * /proc counters: sample.ts) over `interval`, moves ONE guest's threads (a pin
 * or a nice level; optimize/hill-climb.ts picks it), waits `settle`, measures
 * again, keeps the move when it helps by more than the threshold and twice
 * the noise (the change between two windows of the same settings), and
 * otherwise undoes it. Every move is a row of `dynamic_move`; every thread it
 * touched is journaled and recorded in `tuning` like any policy, and put back
 * when it stops.
 */
import type { DynamicPolicySpec, GuestFigure } from '../batch/config/types.js';
import { UserError } from '../errors.js';
import type { ExpertStore } from '../store/types.js';
import { climbScope } from './dynamic-check.js';
import { climber, helps, noiseOf, type ClimbSetting, type Move } from './optimize/hill-climb.js';
import type { Journal } from './journal.js';
import { restoreEntries, type RestoreResult } from './restore.js';
import { monitorDirection, monitorProgramOf, monitorWindow } from './monitor-window.js';
import { ratesBetween, sampleCounters, type GuestRates } from './sample.js';
import { applyPolicy, discoverAll, type TuneNode } from './session.js';

export interface MoveRow {
  batch_id: number | null;
  run: number | null;
  at: Date;
  node: string;
  guest: string;
  action: Move['action'];
  before: { cpus: string; nice: number };
  after: { cpus: string; nice: number };
  objective_before: number;
  /** Null when the run ended before the window after the move did (the move was cut off; the restore undid it). */
  objective_after: number | null;
  kept: boolean;
}

export interface HillClimbOptions {
  nodes: TuneNode[];
  spec: DynamicPolicySpec;
  /** The policy's name: the `policy` of its tuning rows and journal entries. */
  name: string;
  store?: ExpertStore;
  batchId?: number | null;
  run?: number;
  journal: Journal;
  parseWindow(value: string | number): number;
  onMove?(row: MoveRow): void;
  onError?(error: unknown): void;
}

export interface HillClimb {
  /** Ends the climb (a window in progress is dropped), restores every thread it changed. */
  stop(): Promise<RestoreResult[]>;
  readonly moves: readonly MoveRow[];
}

const FIGURE: Record<GuestFigure, { of: (r: GuestRates) => number; direction: 'max' | 'min' }> = {
  write_bps: { of: (r) => r.writeBps, direction: 'max' },
  read_bps: { of: (r) => r.readBps, direction: 'max' },
  io_bps: { of: (r) => r.ioBps, direction: 'max' },
  ctx_switches_per_s: { of: (r) => r.ctxSwitchesPerSec, direction: 'min' },
  cpu_pct: { of: (r) => r.cpuPct, direction: 'min' },
};

const FLUSH_WAIT_MS = 750;

export async function recordMove(store: ExpertStore, row: MoveRow, extra: { policy: string; objective: string; threshold: number }): Promise<void> {
  await store.query(
    `INSERT INTO dynamic_move (batch_id, run, "at", node, guest, action, "before", "after", objective_before, objective_after, kept, policy, objective, threshold) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)`,
    [row.batch_id, row.run, row.at, row.node, row.guest, row.action, JSON.stringify(row.before), JSON.stringify(row.after), row.objective_before, row.objective_after, row.kept, extra.policy, extra.objective, extra.threshold],
  );
}

export function startHillClimb(options: HillClimbOptions): HillClimb {
  const spec = options.spec;
  const intervalMs = options.parseWindow(spec.interval ?? '5s');
  const settleMs = options.parseWindow(spec.settle ?? '2s');
  const figure = FIGURE[spec.objective as GuestFigure] as (typeof FIGURE)[GuestFigure] | undefined;
  const monitorColumn = figure ? undefined : monitorProgramOf(spec.objective) && spec.objective;
  if (!figure && !monitorColumn) throw new UserError(`dynamic.objective: expected one of ${Object.keys(FIGURE).join(', ')} or a monitor column (vmstat_<column>, perf_<event>), got '${String(spec.objective)}'`);
  if (monitorColumn && (!options.store || options.batchId == null || options.run === undefined)) throw new UserError(`dynamic.objective ${monitorColumn}: a monitor column is read from the run's own monitors, so it needs a batch run (expert run), not a bare climb`);
  const direction = spec.direction ?? figure?.direction ?? monitorDirection(monitorColumn!);
  // Monitor lines reach the store in chunks (the line writer flushes every 500 ms): wait that long before reading a window.
  const window = monitorColumn ? monitorWindow(options.store!, options.batchId!, options.run!, monitorColumn) : undefined;
  const threshold = spec.threshold ?? 5;
  const moves: MoveRow[] = [];
  let stopped = false;
  const wakers = new Set<() => void>();
  const sleep = (ms: number) => new Promise<void>((resolve) => {
    if (stopped) return resolve();
    let timer: NodeJS.Timeout | undefined = undefined;
    const done = (): void => {
      clearTimeout(timer);
      wakers.delete(done);
      resolve();
    };
    timer = setTimeout(done, ms);
    wakers.add(done);
  });

  const loop = async () => {
    const discoveries = await discoverAll(options.nodes);
    // Guests not running and CPUs not online are left out (the hook warns of them when the run starts).
    const { guests, cpuChoices } = climbScope(spec, discoveries);
    if (guests.length === 0) return;
    const niceChoices = [...new Set([0, ...(spec.nice ?? [0, 5, 10])])];
    const settings = new Map<string, ClimbSetting>(guests.map((g) => [g.name, { cpus: cpuChoices.findIndex((c) => !c.cpus), nice: 0 }]));
    const climb = climber(guests.map((g) => g.name), spec.moves ?? ['pin', 'nice'], { cpus: cpuChoices.length, nice: niceChoices.length }, spec.seed ?? 1);
    const view = (s: ClimbSetting) => ({ cpus: cpuChoices[s.cpus]!.label, nice: niceChoices[s.nice]! });

    const measure = async (): Promise<number> => {
      if (window) {
        const from = Date.now();
        await sleep(intervalMs);
        if (stopped) return Number.NaN;
        const to = Date.now();
        await sleep(FLUSH_WAIT_MS);
        return stopped ? Number.NaN : window.mean(from, to);
      }
      const first = await Promise.all(options.nodes.map((n) => sampleCounters(n.executor, guests.filter((g) => g.node === n.node).map((g) => g.pid))));
      await sleep(intervalMs);
      if (stopped) return Number.NaN;
      const second = await Promise.all(options.nodes.map((n) => sampleCounters(n.executor, guests.filter((g) => g.node === n.node).map((g) => g.pid))));
      let total = 0;
      first.forEach((a, i) => {
        for (const r of ratesBetween(a, second[i]!).values()) total += figure!.of(r);
      });
      return total;
    };

    /** Puts one guest's threads to its setting: back to where they started, then the setting's pin and nice. */
    const place = async (guest: { node: string; name: string }, s: ClimbSetting) => {
      const mine = (await options.journal.entries()).filter((e) => e.policy === options.name && e.guest === guest.name && e.node === guest.node && e.owner.pid === process.pid && e.batchId === (options.batchId ?? null));
      const byNode = new Map(options.nodes.map((n) => [n.node, n.executor]));
      if (mine.length) await restoreEntries(mine, { executorFor: async (t) => byNode.get(t.node)!, journal: options.journal, storeFor: () => options.store });
      const cpus = cpuChoices[s.cpus]!.cpus;
      const nice = niceChoices[s.nice]!;
      if (!cpus && nice === 0) return;
      const node = options.nodes.filter((n) => n.node === guest.node);
      await applyPolicy(node, { name: options.name, identify: { vms: [guest.name] }, ...(cpus ? { pin: { cpus } } : {}), ...(nice ? { nice } : {}) }, { store: options.store, batchId: options.batchId ?? null, run: options.run, journal: options.journal }, options.parseWindow);
    };

    // Two windows of the starting settings: the first estimate of the noise.
    const pairs: Array<[number, number]> = [];
    let before = await measure();
    const again = await measure();
    if (stopped) return;
    pairs.push([before, again]);
    before = again;
    while (!stopped) {
      // A monitor column has no samples until the run's monitors (started after this climb) print: no move blind.
      if (!Number.isFinite(before)) {
        before = await measure();
        continue;
      }
      const move = climb.propose(settings);
      if (!move) return;
      const guest = guests.find((g) => g.name === move.guest)!;
      const old = settings.get(move.guest)!;
      const next = move.action === 'pin' ? { ...old, cpus: move.to } : { ...old, nice: move.to };
      await place(guest, next);
      settings.set(move.guest, next);
      await sleep(settleMs);
      const after = await measure();
      // A move the run's end cut off is still a move that was in force: recorded, with no objective after it.
      const kept = !stopped && helps(before, after, direction, threshold, noiseOf(pairs));
      const row: MoveRow = { batch_id: options.batchId ?? null, run: options.run ?? null, at: new Date(), node: guest.node, guest: guest.name, action: move.action, before: view(old), after: view(next), objective_before: before, objective_after: stopped ? null : after, kept };
      moves.push(row);
      if (options.store) await recordMove(options.store, row, { policy: options.name, objective: spec.objective, threshold });
      options.onMove?.(row);
      if (stopped) return;
      if (kept) {
        before = after;
        continue;
      }
      await place(guest, old);
      settings.set(move.guest, old);
      await sleep(settleMs);
      const back = await measure();
      if (stopped) return;
      // The same settings as when `before` was measured: a pair for the noise.
      pairs.push([before, back]);
      before = back;
    }
  };

  const running = loop().catch((error) => options.onError?.(error));

  return {
    moves,
    async stop() {
      stopped = true;
      for (const wake of [...wakers]) wake();
      await running;
      const mine = (await options.journal.entries()).filter((e) => e.policy === options.name && e.owner.pid === process.pid && e.batchId === (options.batchId ?? null) && (options.run === undefined || e.run === options.run));
      const byNode = new Map(options.nodes.map((n) => [n.node, n.executor]));
      return restoreEntries(mine, { executorFor: async (t) => byNode.get(t.node)!, journal: options.journal, storeFor: () => options.store });
    },
  };
}
