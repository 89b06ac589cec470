/**
 * The batch runner: records the batch and one `process` row per planned
 * process, then executes the runs one after another. In each run: the hooks'
 * beforeRun (Tune applies the policy and tells guest PIDs), monitors start,
 * all workloads start together and are waited for (with their timeout),
 * monitors are stopped, and the hooks' afterRun always runs. Every output line
 * goes to the store as it arrives. An abort signal stops everything, still
 * restores (afterRun), keeps every line, and marks the batch `interrupted`.
 *
 * Before anything is recorded, pre-flight checks run on every node
 * (../preflight); `strict: true` refuses to start when one fails. Runs go in
 * the plan's order (`position`); tests with an adaptive `repeat` get more
 * rounds while a RepeatRule says their cells are not precise enough. With
 * `resume`, only the given runs are run again, into the existing batch, as
 * their next attempt.
 */
import type { ExitInfo, OutputLine, RemoteProcess } from '../executor.js';
import type { ExecutorPool, RunContext, RunHook } from '../hooks.js';
import type { Plan, PlannedProcess, PlannedRun, PolicySpec } from '../config/types.js';
import { UserError } from '../../errors.js';
import { nextRound } from '../plan/adaptive.js';
import { preflightFailures, preflightFatal, runPreflight, type PreflightReport } from '../preflight/index.js';
import { adaptiveCells, medianPrecisionRule, type AdaptiveCell, type RepeatRule } from './repeat-rule.js';
import { claimBatch, readProvenance, saveProvenance } from './batch-record.js';
import type { BatchStatus, ExpertStore, LineWriter, ProcessUpdate } from '../../store/types.js';
import type { BatchEvent, BatchEventListener, BatchSummary, ProcessView } from './events.js';
import { createExecutorPool } from '../executor-pool.js';
import { collectProvenance } from '../provenance.js';
import { mergeRunTimeValues, substituteRunTime, type RunTimeValues } from './run-placeholders.js';
import { formatDuration } from './format-duration.js';
import { cellKey } from '../plan/expand.js';

export interface RunBatchOptions {
  store: ExpertStore;
  /** Defaults to a pool made (and closed) here. */
  executors?: ExecutorPool;
  hooks?: RunHook[];
  /** Abort = stop everything, restore, keep lines, mark `interrupted`. */
  signal?: AbortSignal;
  onEvent?: BatchEventListener;
  /** Precomputed provenance; collected here when absent. */
  provenance?: unknown;
  /** SIGTERM → SIGKILL grace when stopping processes (default 3 s). */
  graceMs?: number;
  /** How often line counts are reported (default 250 ms). */
  progressIntervalMs?: number;
  /** Pre-flight checks on every node first (default true). */
  preflight?: boolean;
  /** Decides adaptive repetitions (default: the median-CI rule over Mine's run summary). */
  repeatRule?: RepeatRule;
  /** Run these runs again into an existing batch (see resume.ts). */
  resume?: ResumeRequest;
}

export interface ResumeRequest {
  batchId: number;
  /** The runs to run again, with their new positions. */
  runs: PlannedRun[];
  /** Run index → the attempt this re-run is. */
  attempts: ReadonlyMap<number, number>;
  /** Every run of the batch so far (the base for adaptive rounds). */
  allRuns: PlannedRun[];
  /** Adaptive cells that had stopped already. */
  stoppedCells: ReadonlySet<string>;
}

/** `strict: true` and a pre-flight check failed: nothing was started (exit 2). */
export class PreflightError extends UserError {
  constructor(readonly failures: string[], strict = true) {
    super(`${strict ? 'strict: ' : ''}pre-flight checks failed, nothing was started:\n  ${failures.join('\n  ')}`, { exitCode: 2 });
    this.name = 'PreflightError';
  }
}

/** What `batch.provenance.repeat` records of adaptive repetitions. */
interface RepeatRecord {
  rounds: Array<{ round: number; cells: string[] }>;
  cells: Record<string, { runs: number; rounds: number; stopped?: 'precise' | 'max' | 'rule failed'; half_width_pct?: number; target_pct: number; metric: string }>;
}

export interface BatchOutcome {
  batchId: number;
  /** Finished, and every workload exited with code 0. */
  ok: boolean;
  summary: BatchSummary;
}

export async function runBatch(plan: Plan, options: RunBatchOptions): Promise<BatchOutcome> {
  return new BatchRun(plan, options).execute();
}

interface Handle {
  planned: PlannedProcess;
  id: number;
  proc: RemoteProcess;
  /** Resolves once the exit was recorded. */
  recorded: Promise<void>;
  ended: boolean;
  timedOutAfter?: number;
  interrupted?: boolean;
  note?: string;
}

class BatchRun {
  private readonly store: ExpertStore;
  private readonly hooks: RunHook[];
  /** The caller's signal, or our own stop when the store cannot take lines any more. */
  private readonly signal: AbortSignal;
  private readonly internalStop = new AbortController();
  private ingestFailure: Error | undefined;
  private readonly graceMs: number | undefined;
  private readonly startedAt = Date.now();
  private readonly views = new Map<number, ProcessView>();
  private readonly ids = new Map<PlannedProcess, number>();
  private readonly active = new Set<Handle>();
  private readonly warnings: string[] = [];
  private executors!: ExecutorPool;
  private provenance: Record<string, unknown> = {};
  private repeatRecord: RepeatRecord = { rounds: [], cells: {} };
  private writer!: LineWriter;
  private batchId = 0;
  private couldNotStart = 0;
  private totalLines = 0;
  private lastReportedLines = -1;
  /** The interrupt was announced (one `stopping` event, whichever run it hits). */
  private stopAnnounced = false;

  constructor(
    private readonly plan: Plan,
    private readonly options: RunBatchOptions,
  ) {
    this.store = options.store;
    this.hooks = options.hooks ?? [];
    this.signal = options.signal ? AbortSignal.any([options.signal, this.internalStop.signal]) : this.internalStop.signal;
    this.graceMs = options.graceMs;
  }

  async execute(): Promise<BatchOutcome> {
    const ownPool = !this.options.executors;
    this.executors = this.options.executors ?? createExecutorPool();
    const onAbort = () => void this.stopAll('interrupted');
    let progressTimer: NodeJS.Timeout | undefined;
    const resume = this.options.resume;
    try {
      const config = this.plan.config;
      const preflight = this.options.preflight === false ? undefined : await runPreflight(this.plan, this.executors);
      if (preflight) {
        const failures = preflightFailures(preflight);
        this.emit({ type: 'preflight', report: preflight, failures });
        const fatal = preflightFatal(preflight);
        if (fatal.length > 0) throw new PreflightError(fatal, false);
        if (config.strict && failures.length > 0) throw new PreflightError(failures);
      }
      const order = { ...this.plan.order };
      if (resume) {
        this.batchId = resume.batchId;
        await claimBatch(this.store, this.batchId);
        const provenance = (await readProvenance(this.store, this.batchId)) as Record<string, unknown>;
        const resumes = Array.isArray(provenance.resumes) ? provenance.resumes : [];
        resumes.push({ at: new Date().toISOString(), argv: process.argv.slice(2), runs: resume.runs.map((r) => r.index), ...(preflight ? { preflight } : {}) });
        this.provenance = { ...provenance, resumes };
        this.repeatRecord = (provenance.repeat as RepeatRecord | undefined) ?? this.repeatRecord;
        await saveProvenance(this.store, this.batchId, this.provenance);
      } else {
        const collected = this.options.provenance ?? (await collectProvenance(this.plan, { executors: this.executors, store: this.store }));
        this.provenance = { ...(collected as object), order, ...(preflight ? { preflight } : {}) };
        this.batchId = await this.store.createBatch({ name: config.name, description: config.description, config, provenance: this.provenance });
      }
      await this.store.setBatchStatus(this.batchId, 'running');
      const firstRuns = resume ? resume.runs : this.plan.runs;
      await this.createProcessRows(firstRuns);
      this.writer = this.store.lineWriter();
      this.emit({
        type: 'batch-started',
        batchId: this.batchId,
        name: config.name,
        runs: firstRuns.length,
        processes: [...this.views.values()].map((v) => ({ ...v })),
        startedAt: this.startedAt,
      });
      progressTimer = setInterval(() => this.reportLines(), this.options.progressIntervalMs ?? 250);
      progressTimer.unref();
      this.signal.addEventListener('abort', onAbort, { once: true });
      try {
        for (const run of firstRuns) {
          if (this.signal.aborted) break;
          await this.executeRun(run);
        }
        await this.adaptiveRounds(resume ? resume.allRuns : this.plan.runs, resume?.stoppedCells ?? new Set());
      } finally {
        // Whatever happened (a store error included), nothing we started keeps running.
        await this.stopAll('interrupted');
        try {
          await this.writer.close();
        } catch (error) {
          this.ingestFailure ??= error as Error;
        }
      }
      this.reportLines();
      if (this.ingestFailure) this.warn(`lines could not be stored: ${message(this.ingestFailure)}`);
      if (this.repeatRecord.rounds.length > 0 || Object.keys(this.repeatRecord.cells).length > 0) {
        await saveProvenance(this.store, this.batchId, { ...this.provenance, repeat: this.repeatRecord });
      }
      const status: BatchStatus = this.ingestFailure
        ? 'failed'
        : this.signal.aborted
          ? 'interrupted'
          : this.couldNotStart > 0
            ? 'failed'
            : 'finished';
      if (status !== 'finished') await this.store.markNotStarted(this.batchId);
      await this.store.setBatchStatus(this.batchId, status);
      const summary = this.summarize(status);
      this.emit({ type: 'batch-finished', batchId: this.batchId, summary });
      return { batchId: this.batchId, ok: status === 'finished' && summary.failedWorkloads === 0, summary };
    } catch (error) {
      // The runner itself broke (e.g. the store): the batch must not stay `running`.
      if (this.batchId) await this.store.setBatchStatus(this.batchId, 'failed').catch(() => undefined);
      throw error;
    } finally {
      clearInterval(progressTimer);
      this.signal.removeEventListener('abort', onAbort);
      if (ownPool) await this.executors.closeAll();
    }
  }

  /**
   * Adaptive repetitions: while some adaptive cell is neither precise enough
   * nor at `max`, ask the rule, then run one more round of the cells that need it.
   */
  private async adaptiveRounds(runsSoFar: PlannedRun[], stopped: ReadonlySet<string>): Promise<void> {
    const runs = [...runsSoFar];
    const measured = (key: string) => runs.filter((r) => !r.warmup && cellKey(r.test, r.params, r.policy) === key).length;
    let active: AdaptiveCell[] = adaptiveCells(this.plan.config).filter((c) => !stopped.has(c.key));
    const record = this.repeatRecord;
    for (const cell of active) record.cells[cell.key] ??= { runs: measured(cell.key), rounds: measured(cell.key), target_pct: cell.targetPct, metric: cell.metric };
    while (active.length > 0 && !this.signal.aborted && !this.ingestFailure) {
      await this.writer.flush();
      let verdicts;
      try {
        verdicts = await (this.options.repeatRule ?? medianPrecisionRule).judge({ batchId: this.batchId, store: this.store, config: this.plan.config, runs, cells: active });
      } catch (error) {
        this.warn(`adaptive repeat: ${message(error)}; no more rounds`);
        for (const cell of active) record.cells[cell.key]!.stopped = 'rule failed';
        return;
      }
      const byKey = new Map(verdicts.map((v) => [v.key, v]));
      const next: AdaptiveCell[] = [];
      for (const cell of active) {
        const verdict = byKey.get(cell.key);
        const entry = record.cells[cell.key]!;
        if (verdict?.halfWidthPct !== undefined) entry.half_width_pct = verdict.halfWidthPct;
        else delete entry.half_width_pct;
        if (verdict?.precise) entry.stopped = 'precise';
        else if (measured(cell.key) >= cell.max) entry.stopped = 'max';
        else next.push(cell);
      }
      active = next;
      if (active.length === 0) break;
      const round = nextRound(this.plan.config, this.plan.order, runs, new Set(active.map((c) => c.key)));
      runs.push(...round);
      record.rounds.push({ round: round[0]!.round, cells: active.map((c) => c.key) });
      for (const cell of active) {
        record.cells[cell.key]!.runs = measured(cell.key);
        record.cells[cell.key]!.rounds++;
      }
      await saveProvenance(this.store, this.batchId, { ...this.provenance, repeat: record });
      await this.createProcessRows(round);
      this.emit({ type: 'round-added', batchId: this.batchId, round: round[0]!.round, runs: round.length, cells: active.map((c) => c.key) });
      for (const run of round) {
        if (this.signal.aborted) break;
        await this.executeRun(run);
      }
    }
  }

  private async createProcessRows(runs: readonly PlannedRun[]): Promise<void> {
    for (const run of runs) {
      for (const planned of [...run.monitors, ...run.workloads]) {
        const id = await this.store.createProcess({
          batchId: this.batchId,
          label: planned.label,
          host: planned.target.node,
          vm: planned.target.vm,
          role: planned.role,
          command: planned.command,
          params: planned.params,
          policy: planned.policy,
          rep: planned.rep,
          parser: planned.parser,
          run: run.index,
          position: run.position,
          warmup: run.warmup,
          attempt: this.options.resume?.attempts.get(run.index) ?? 1,
        });
        this.ids.set(planned, id);
        this.views.set(id, {
          processId: id,
          label: planned.label,
          role: planned.role,
          host: planned.target.node,
          vm: planned.target.vm,
          run: run.index,
          status: 'pending',
          exitCode: null,
          signal: null,
          error: null,
          startedAt: null,
          endedAt: null,
          lines: 0,
        });
      }
    }
  }

  private async executeRun(run: PlannedRun): Promise<void> {
    const runs = this.plan.runs.length;
    this.emit({ type: 'run-started', batchId: this.batchId, run: run.index, position: run.position, warmup: run.warmup, runs, test: run.test, policy: run.policy, rep: run.rep, params: run.params });
    const context: RunContext = {
      batchId: this.batchId,
      run,
      policy: this.policy(run.policy),
      config: this.plan.config,
      store: this.store,
      executors: this.executors,
      signal: this.signal,
    };
    try {
      const values: RunTimeValues = {};
      try {
        for (const hook of this.hooks) {
          const result = await hook.beforeRun?.(context);
          mergeRunTimeValues(values, result?.placeholders);
          for (const warning of result?.warnings ?? []) this.warnOnce(warning);
        }
      } catch (error) {
        const reason = `before-run hook failed: ${message(error)}`;
        this.warn(`run ${run.index}: ${reason}`);
        for (const planned of [...run.monitors, ...run.workloads]) await this.fail(planned, reason);
        return;
      }
      if (this.signal.aborted) return;
      const monitorEnv = { LC_ALL: 'C' };
      const monitors = await Promise.all(run.monitors.map((p) => this.start(p, values, monitorEnv)));
      if (this.signal.aborted) return;
      const workloads = await Promise.all(run.workloads.map((p) => this.start(p, values)));
      await Promise.all(workloads.map((h) => (h ? this.awaitWorkload(h) : undefined)));
      await Promise.all(monitors.map((h) => (h ? this.stop(h) : undefined)));
    } finally {
      await this.stopAll(this.signal.aborted ? 'interrupted' : 'run ended');
      for (const hook of [...this.hooks].reverse()) {
        try {
          await hook.afterRun?.(context);
        } catch (error) {
          this.warn(`run ${run.index}: after-run hook failed: ${message(error)}`);
        }
      }
      this.emit({ type: 'run-finished', batchId: this.batchId, run: run.index, runs });
    }
  }

  private policy(name: string): PolicySpec {
    return this.plan.config.policies.find((p) => p.name === name) ?? { name };
  }

  private async start(planned: PlannedProcess, values: RunTimeValues, env?: Record<string, string>): Promise<Handle | undefined> {
    const id = this.ids.get(planned)!;
    const { command, empty } = substituteRunTime(planned.command, planned.target.node, values);
    const note = empty.length > 0 ? `{${empty.join('}, {')}} had no value on ${planned.target.node} (no guests?): substituted ''` : undefined;
    if (note) this.warn(`${planned.label}: ${note}`);
    let proc: RemoteProcess;
    try {
      const executor = await this.executors.get(planned.target);
      if (this.signal.aborted) return undefined;
      proc = await executor.start({ command, env, stdin: planned.stdin !== undefined }, (line) => this.ingest(id, line));
    } catch (error) {
      await this.fail(planned, message(error), note);
      return undefined;
    }
    const handle: Handle = { planned, id, proc, ended: false, note, recorded: Promise.resolve() };
    this.active.add(handle);
    handle.recorded = proc.wait().then((info) => this.recordExit(handle, info!));
    await this.update(id, { status: 'running', startedAt: proc.startedAt, pid: proc.pid ?? null, error: note ?? null });
    if (this.signal.aborted) {
      // The stop began while this process was starting: it missed stopAll's list.
      handle.interrupted = true;
      void this.stop(handle);
      return handle;
    }
    if (planned.stdin !== undefined) {
      try {
        await proc.write(planned.stdin);
        await proc.closeStdin();
      } catch (error) {
        this.warn(`${planned.label}: writing stdin failed: ${message(error)}`);
      }
    }
    return handle;
  }

  private async awaitWorkload(handle: Handle): Promise<void> {
    const timeoutMs = handle.planned.timeoutMs;
    if (timeoutMs !== undefined && !(await handle.proc.wait(timeoutMs))) {
      if (!handle.interrupted) handle.timedOutAfter = timeoutMs;
      await handle.proc.kill({ graceMs: this.graceMs });
    }
    await handle.recorded;
  }

  /** Stops a process we no longer want (a monitor after its run, anything on interrupt) and waits for its record. */
  private async stop(handle: Handle): Promise<void> {
    if (!handle.ended) await handle.proc.kill({ graceMs: this.graceMs });
    await handle.recorded;
  }

  private stopAll(reason: 'interrupted' | 'run ended'): Promise<void> {
    if (reason === 'interrupted' && this.active.size > 0 && !this.stopAnnounced) {
      this.stopAnnounced = true;
      this.emit({ type: 'stopping', batchId: this.batchId, reason: 'interrupted: stopping every process' });
    }
    const handles = [...this.active];
    for (const h of handles) if (reason === 'interrupted') h.interrupted = true;
    return Promise.all(handles.map((h) => this.stop(h))).then(() => undefined);
  }

  private async recordExit(handle: Handle, info: ExitInfo): Promise<void> {
    handle.ended = true;
    this.active.delete(handle);
    let status = info.status;
    let error = info.error ?? null;
    if (handle.timedOutAfter !== undefined) {
      status = 'failed';
      error = `timed out after ${formatDuration(handle.timedOutAfter)}`;
    } else if (handle.interrupted && status === 'killed' && handle.planned.role === 'workload') {
      error = 'batch interrupted';
    }
    if (handle.note) error = error ? `${error}; ${handle.note}` : handle.note;
    await this.update(handle.id, { status, exitCode: info.exitCode, signal: info.signal, endedAt: info.endedAt, error });
  }

  private async fail(planned: PlannedProcess, reason: string, note?: string): Promise<void> {
    this.couldNotStart++;
    await this.update(this.ids.get(planned)!, { status: 'failed', error: note ? `${reason}; ${note}` : reason, endedAt: Date.now() });
  }

  private async update(id: number, update: ProcessUpdate): Promise<void> {
    await this.store.updateProcess(id, update);
    const view = this.views.get(id)!;
    if (update.status !== undefined) view.status = update.status;
    if (update.exitCode !== undefined) view.exitCode = update.exitCode;
    if (update.signal !== undefined) view.signal = update.signal;
    if (update.error !== undefined) view.error = update.error;
    if (update.startedAt !== undefined) view.startedAt = update.startedAt;
    if (update.endedAt !== undefined) view.endedAt = update.endedAt;
    this.emit({ type: 'process', batchId: this.batchId, process: { ...view } });
  }

  private ingest(id: number, line: OutputLine): void {
    if (this.ingestFailure) return;
    try {
      this.writer.append(id, line);
    } catch (error) {
      // Lines we cannot keep make the experiment worthless: stop it (status `failed`).
      this.ingestFailure = error as Error;
      this.internalStop.abort();
      return;
    }
    this.views.get(id)!.lines++;
    this.totalLines++;
  }

  private reportLines(): void {
    if (this.totalLines === this.lastReportedLines) return;
    this.lastReportedLines = this.totalLines;
    const perProcess: Record<number, number> = {};
    for (const [id, view] of this.views) if (view.lines > 0) perProcess[id] = view.lines;
    this.emit({ type: 'lines', batchId: this.batchId, total: this.totalLines, perProcess });
  }

  private readonly said = new Set<string>();

  /** A warning that would repeat every run (a policy that matched nothing) is said once. */
  private warnOnce(text: string): void {
    if (this.said.has(text)) return;
    this.said.add(text);
    this.warn(text);
  }

  private warn(text: string): void {
    this.warnings.push(text);
    this.emit({ type: 'warning', batchId: this.batchId, message: text });
  }

  private emit(event: BatchEvent): void {
    try {
      this.options.onEvent?.(event);
    } catch {
      // A display that throws must not stop the experiment.
    }
  }

  private summarize(status: BatchStatus): BatchSummary {
    const views = [...this.views.values()];
    const byStatus: BatchSummary['byStatus'] = {};
    for (const v of views) byStatus[v.status] = (byStatus[v.status] ?? 0) + 1;
    const workloads = views.filter((v) => v.role === 'workload');
    return {
      status,
      processes: views.length,
      workloads: workloads.length,
      failedWorkloads: workloads.filter((v) => !(v.status === 'exited' && v.exitCode === 0)).length,
      byStatus,
      lines: this.totalLines,
      elapsedMs: Date.now() - this.startedAt,
      warnings: [...this.warnings],
    };
  }
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
