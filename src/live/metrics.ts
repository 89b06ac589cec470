/**
 * `/metrics`: a batch's live state in the OpenMetrics text format, for
 * Prometheus and friends. Pure. Every family is a gauge (the same text then
 * also passes `promtool check metrics`, which reads Prometheus' own text
 * format, where OpenMetrics counters' `_total` samples would lack their help):
 *   expert_lines_ingested{batch}                 lines stored so far
 *   expert_processes{batch,state}                processes by status
 *   expert_runs_done{batch}, expert_runs{batch}  runs finished / planned
 *   expert_vmstat_cs, expert_vmstat_bo, expert_vmstat_cpu_{user,system,iowait}_percent{batch,node,guest,policy}
 *                                                latest vmstat row (us/sy/wa renamed: promtool reads `_us` as microseconds)
 *   expert_perf{batch,node,guest,policy,event}  latest perf stat count
 */
import type { BatchStatus } from './batch-status.js';

export const OPENMETRICS_CONTENT_TYPE = 'application/openmetrics-text; version=1.0.0; charset=utf-8';

/** vmstat column → metric name. */
const VMSTAT_METRICS: Record<string, string> = {
  cs: 'expert_vmstat_cs',
  bo: 'expert_vmstat_bo',
  us: 'expert_vmstat_cpu_user_percent',
  sy: 'expert_vmstat_cpu_system_percent',
  wa: 'expert_vmstat_cpu_iowait_percent',
};

const STATES = ['pending', 'running', 'exited', 'killed', 'lost', 'failed', 'not_started'];

function labelValue(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

function labels(pairs: Record<string, string>): string {
  return `{${Object.entries(pairs).map(([k, v]) => `${k}="${labelValue(v)}"`).join(',')}}`;
}

function number(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Infinity) return '+Inf';
  if (value === -Infinity) return '-Inf';
  return String(value);
}

class Families {
  private readonly order: string[] = [];
  private readonly families = new Map<string, { help: string; samples: string[] }>();
  add(name: string, help: string, pairs: Record<string, string>, value: number): void {
    let family = this.families.get(name);
    if (!family) {
      family = { help, samples: [] };
      this.families.set(name, family);
      this.order.push(name);
    }
    family.samples.push(`${name}${labels(pairs)} ${number(value)}`);
  }
  text(): string {
    const out: string[] = [];
    for (const name of this.order) {
      const f = this.families.get(name)!;
      out.push(`# TYPE ${name} gauge`, `# HELP ${name} ${f.help}`, ...f.samples);
    }
    out.push('# EOF');
    return out.join('\n') + '\n';
  }
}

export function openMetrics(status: BatchStatus): string {
  const batch = String(status.batchId);
  const m = new Families();
  m.add('expert_lines_ingested', 'Output lines of the batch stored so far.', { batch }, status.lines);
  const counts = new Map<string, number>(STATES.map((s) => [s, 0]));
  for (const p of status.processes) counts.set(p.status, (counts.get(p.status) ?? 0) + 1);
  for (const [state, n] of counts) m.add('expert_processes', 'Processes of the batch by status.', { batch, state }, n);
  m.add('expert_runs_done', 'Runs of the batch that have ended.', { batch }, status.progress.done);
  m.add('expert_runs', 'Runs of the batch planned so far.', { batch }, status.progress.total);
  for (const f of status.latest) {
    const where = { batch, node: f.host, guest: f.guest ?? '', policy: f.policy ?? '' };
    if (f.name.startsWith('vmstat_')) {
      const column = f.name.slice(7);
      m.add(VMSTAT_METRICS[column] ?? `expert_vmstat_${column}`, `Latest vmstat ${column} of the node or guest.`, where, f.value);
    } else {
      m.add('expert_perf', 'Latest perf stat count of the node or guest, by event.', { ...where, event: f.name.slice(5) }, f.value);
    }
  }
  return m.text();
}
