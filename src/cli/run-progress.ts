/**
 * What `expert run` shows while a batch runs, built from the runner's events.
 * Pure: the state folds events; rendering returns text. The effects (a
 * redrawn block on a TTY, log lines otherwise) are in run-display.ts.
 */
import { plural } from '../output/print.js';
import type { BatchEvent, ProcessView } from '../batch/runner/index.js';
import { formatElapsed } from '../batch/runner/index.js';

export class ProgressState {
  batchId = 0;
  name = '';
  runs = 0;
  currentRun: { run: number; position: number; test: string; policy: string; rep: number; params: Record<string, string> } | undefined;
  startedAt = Date.now();
  totalLines = 0;
  stopping = false;
  readonly processes = new Map<number, ProcessView>();
  readonly warnings: string[] = [];

  apply(event: BatchEvent): void {
    switch (event.type) {
      case 'batch-started':
        this.batchId = event.batchId;
        this.name = event.name;
        this.runs = event.runs;
        this.startedAt = event.startedAt;
        for (const p of event.processes) this.processes.set(p.processId, p);
        break;
      case 'run-started':
        this.currentRun = { run: event.run, position: event.position, test: event.test, policy: event.policy, rep: event.rep, params: event.params };
        break;
      case 'process':
        this.processes.set(event.process.processId, { ...event.process });
        break;
      case 'lines':
        this.totalLines = event.total;
        for (const [id, count] of Object.entries(event.perProcess)) {
          const view = this.processes.get(Number(id));
          if (view) view.lines = count;
        }
        break;
      case 'warning':
        this.warnings.push(event.message);
        break;
      case 'stopping':
        this.stopping = true;
        break;
      case 'run-finished':
      case 'batch-finished':
        break;
    }
  }

  /** Which run this is in execution order (interleaved or random order runs run indexes out of order). */
  get runsStarted(): number {
    return this.currentRun?.position ?? 0;
  }

  counts(): Record<string, number> {
    const counts: Record<string, number> = {};
    for (const p of this.processes.values()) counts[p.status] = (counts[p.status] ?? 0) + 1;
    return counts;
  }
}

const STATE_MARK: Record<string, string> = { pending: '·', running: '▶', exited: '✓', killed: '■', lost: '?', failed: '✗' };

export function describeExit(p: ProcessView): string {
  if (p.status === 'exited') return p.signal ? `exited (${p.signal})` : `exited (${p.exitCode})`;
  if (p.status === 'failed' || p.status === 'lost') return `${p.status}${p.error ? `: ${p.error}` : ''}`;
  if (p.status === 'killed') return p.signal ? `killed (${p.signal})` : 'killed';
  return p.status;
}

function paramsText(params: Record<string, string>): string {
  const entries = Object.entries(params);
  return entries.length ? ` [${entries.map(([k, v]) => `${k}=${v}`).join(',')}]` : '';
}

/** The block redrawn on a TTY: header, the current run's processes, totals. */
export function renderFrame(state: ProgressState, now: number, width = 100, maxProcessRows = 20): string {
  const fit = (text: string) => (text.length > width ? text.slice(0, Math.max(1, width - 1)) + '…' : text);
  const lines: string[] = [];
  const run = state.currentRun;
  lines.push(
    fit(
      `batch ${state.batchId} ${state.name}  run ${state.runsStarted}/${state.runs}` +
        (run ? `: ${run.test}${paramsText(run.params)} ${run.policy} #${run.rep}` : '') +
        `  ${formatElapsed(now - state.startedAt)}  ${state.totalLines.toLocaleString('en-US')} lines`,
    ),
  );
  const current = [...state.processes.values()].filter((p) => run && p.run === run.run);
  for (const p of current.slice(0, maxProcessRows)) {
    const elapsed = p.startedAt ? formatElapsed((p.endedAt ?? now) - p.startedAt) : '';
    lines.push(fit(`  ${STATE_MARK[p.status] ?? ' '} ${p.role === 'monitor' ? 'mon ' : 'work'} ${p.label}  ${describeExit(p)}  ${p.lines.toLocaleString('en-US')} lines  ${elapsed}`));
  }
  if (current.length > maxProcessRows) lines.push(`  … ${current.length - maxProcessRows} more`);
  const counts = Object.entries(state.counts()).map(([status, n]) => `${n} ${status}`).join(', ');
  lines.push(fit(`  all processes: ${counts}`));
  for (const w of state.warnings.slice(-3)) lines.push(fit(`  warning: ${w}`));
  if (state.stopping) lines.push('  stopping every process (restoring tuning, keeping every line)…');
  return lines.join('\n');
}

/** One log line per notable event (non-TTY output); undefined for events not worth a line. */
export function logLine(event: BatchEvent, state: ProgressState, now: number): string | undefined {
  const at = `[${formatElapsed(now - state.startedAt)}]`;
  switch (event.type) {
    case 'batch-started':
      return `${at} batch ${event.batchId} '${event.name}': ${plural(event.runs, 'run')}, ${plural(event.processes.length, 'process', 'processes')}`;
    case 'run-started':
      return `${at} run ${state.runsStarted}/${event.runs}: ${event.test}${paramsText(event.params)} policy=${event.policy} rep=${event.rep}`;
    case 'process': {
      const p = event.process;
      if (p.status === 'running') return `${at}   start ${p.label}`;
      if (p.status === 'pending') return undefined;
      const lines = state.processes.get(p.processId)?.lines ?? p.lines;
      return `${at}   ${describeExit(p)} ${p.label} (${plural(lines, 'line')})`;
    }
    case 'warning':
      return `${at} warning: ${event.message}`;
    case 'stopping':
      return `${at} ${event.reason}`;
    case 'batch-finished': {
      const s = event.summary;
      return `${at} ${outcomeLine(event.batchId, s)}`;
    }
    default:
      return undefined;
  }
}

/** How a batch ended, in one line (the CLI's log and the kernel say it the same way). */
export function outcomeLine(batchId: number, s: { status: string; workloads: number; failedWorkloads: number; lines: number }): string {
  return `batch ${batchId} ${s.status}: ${s.workloads - s.failedWorkloads} of ${plural(s.workloads, 'workload')} succeeded, ${plural(s.lines, 'line')} stored`;
}
