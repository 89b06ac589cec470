/**
 * Pre-flight checks on every node of a plan before its batch starts: one
 * script per node through the runner's executors (SSH or local), judged by
 * checks.ts. A node that cannot be asked gets an `error` entry (itself a
 * failed check). Recorded in `batch.provenance.preflight`.
 */
import type { ExecutorPool } from '../hooks.js';
import type { Plan } from '../config/types.js';
import { nodeTarget } from '../plan/targets.js';
import { judgeNode, type CheckResult } from './checks.js';
import { nodeFactsScript, parseNodeFacts, type NodeFacts } from './facts.js';

export type PreflightReport = Record<string, { checks: CheckResult[]; facts: NodeFacts } | { error: string }>;

export async function runPreflight(plan: Plan, executors: ExecutorPool, timeoutMs = 10_000): Promise<PreflightReport> {
  const machines = plan.config.machines;
  const pinnedCpus = [...new Set(plan.config.policies.flatMap((p) => p.pin?.cpus ?? []))];
  const report: PreflightReport = {};
  await Promise.all(
    machines.nodes.map(async (node) => {
      try {
        const executor = await executors.get(nodeTarget(node, machines));
        const result = await executor.exec(nodeFactsScript(), { timeoutMs });
        const facts = parseNodeFacts(result.stdout);
        report[node.name] = { checks: judgeNode(facts, { pinnedCpus, hasGuests: (node.vms ?? []).length > 0 }), facts };
      } catch (error) {
        report[node.name] = { error: error instanceof Error ? error.message : String(error) };
      }
    }),
  );
  return report;
}

/** One line per failed check (or unreachable node), e.g. `node1: swap: 2048 kB of swap in use: ...`. */
/** Failures that make the batch impossible as configured (refused whatever `strict` says). */
export function preflightFatal(report: PreflightReport): string[] {
  const lines: string[] = [];
  for (const [node, entry] of Object.entries(report).sort(([a], [b]) => a.localeCompare(b))) {
    if (!('error' in entry)) for (const c of entry.checks) if (c.fatal) lines.push(`${node}: ${c.check}: ${c.detail ?? c.value}`);
  }
  return lines;
}

export function preflightFailures(report: PreflightReport): string[] {
  const lines: string[] = [];
  for (const [node, entry] of Object.entries(report).sort(([a], [b]) => a.localeCompare(b))) {
    if ('error' in entry) lines.push(`${node}: pre-flight checks could not run: ${entry.error}`);
    else for (const c of entry.checks) if (c.ok === false) lines.push(`${node}: ${c.check}: ${c.detail ?? c.value}`);
  }
  return lines;
}
