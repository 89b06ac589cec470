/**
 * What a `%%batch` that did not fully succeed says: one row per workload
 * that did not exit 0, with its cause in full (the process's error, else its
 * exit code or signal and the last lines it wrote to stderr), and a message
 * that names the distinct causes. The progress display cuts long causes to
 * its width; this is where they are read whole.
 */
import type { ExpertStore } from '../../src/store/types.js';

export interface FailedProcess {
  process_id: number;
  label: string;
  status: string;
  exit_code: number | null;
  signal: string | null;
  error: string | null;
  last_stderr: string | null;
}

/** Lines of stderr quoted when a process has no error of its own. */
const STDERR_LINES = 3;

export async function failedWorkloads(store: ExpertStore, batchId: number): Promise<FailedProcess[]> {
  const result = await store.query(
    `SELECT p.process_id, p.label, p.status, p.exit_code, p.signal, p.error,
            (SELECT string_agg(t.text, chr(10) ORDER BY t.seq)
             FROM (SELECT l.text, l.seq FROM line l WHERE l.process_id = p.process_id AND l.stream = 'stderr'
                   ORDER BY l.seq DESC LIMIT ${STDERR_LINES}) t) AS last_stderr
     FROM process p
     WHERE p.batch_id = $1 AND p.role = 'workload' AND NOT (p.status = 'exited' AND p.exit_code = 0)
     ORDER BY p.process_id`,
    [batchId],
  );
  return result.rows.map((row) => Object.fromEntries(result.columns.map((c, i) => [c, typeof row[i] === 'bigint' ? Number(row[i]) : row[i]])) as unknown as FailedProcess);
}

/** The cause of one failure, whole. Pure. */
export function failureCause(p: FailedProcess): string {
  if (p.error) return p.error;
  const how = p.status === 'exited' ? `exited with code ${p.exit_code}` : p.signal ? `${p.status} by ${p.signal}` : p.status;
  // One line: a table cell or an error message shows a newline as an escape, not a break.
  return p.last_stderr ? `${how}: ${p.last_stderr.split('\n').join(' | ')}` : how;
}

/** One line per distinct cause with how many workloads it stopped, most frequent first. Pure. */
export function causesSummary(failed: readonly FailedProcess[], most = 5): string {
  const counts = new Map<string, number>();
  for (const p of failed) {
    const cause = failureCause(p);
    counts.set(cause, (counts.get(cause) ?? 0) + 1);
  }
  const sorted = [...counts].sort((a, b) => b[1] - a[1]);
  const lines = sorted.slice(0, most).map(([cause, n]) => `  ${n} × ${cause}`);
  if (sorted.length > most) lines.push(`  … and ${sorted.length - most} other cause(s), in the table above`);
  return lines.join('\n');
}
