/**
 * Provenance of a batch (DESIGN.md): tool versions, host facts (kernel, CPU
 * model, core count, memory) of this machine and of every host the plan uses,
 * the git commit of the config's folder (and whether it is dirty), and a
 * content hash of the resolved config. Every probe is bounded in time; a host
 * that cannot answer gets an `error` entry instead of stopping the batch.
 */
import { createHash } from 'node:crypto';
import { execFile } from 'node:child_process';
import { hostname, cpus, release, totalmem } from 'node:os';
import { dirname } from 'node:path';
import type { ExecutorPool } from './hooks.js';
import type { MachineMap, Plan, ResolvedBatchConfig, Target } from './config/types.js';
import type { ExpertStore } from '../store/types.js';
import { packageVersion } from '../package-root.js';
import { where } from './plan/expand.js';
import { hostFactsScript, parseHostFacts, programOf, type HostFacts } from './provenance-facts.js';
import { slurmFacts, type SlurmFacts } from '../slurm/provenance.js';

export interface Provenance {
  collected_at: string;
  config_hash: string;
  tools: Record<string, string>;
  controller: { hostname: string; kernel: string; cpu_model: string | null; cores: number; memory_kb: number; node: string };
  hosts: Record<string, (HostFacts & { target: Target }) | { target: Target; error: string }>;
  git: { folder: string; commit: string; dirty: boolean; config_dirty: boolean } | null;
  /** Copied from the machine map's top-level `testbed:` key (the local testbed records accel etc. there). */
  testbed?: unknown;
  /** The Slurm job the batch ran in (job id, nodelist...), when it ran in one. */
  slurm?: SlurmFacts;
  argv: string[];
}

export interface ProvenanceOptions {
  executors?: ExecutorPool;
  store?: ExpertStore;
  /** Per probe (each host, git, duckdb). */
  timeoutMs?: number;
}

export async function collectProvenance(plan: Plan, options: ProvenanceOptions = {}): Promise<Provenance> {
  const timeoutMs = options.timeoutMs ?? 10_000;
  const config = plan.config;
  const [hosts, git, duckdb] = await Promise.all([
    options.executors ? hostFacts(plan, options.executors, timeoutMs) : Promise.resolve({}),
    config.source ? gitFacts(config.source, timeoutMs) : Promise.resolve(null),
    options.store ? duckdbVersion(options.store) : Promise.resolve(undefined),
  ]);
  const tools: Record<string, string> = { node: process.version, 'expert-ts': packageVersion() };
  if (duckdb) tools.duckdb = duckdb;
  const cpuList = cpus();
  const provenance: Provenance = {
    collected_at: new Date().toISOString(),
    config_hash: configHash(config),
    tools,
    controller: {
      hostname: hostname(),
      kernel: release(),
      cpu_model: cpuList[0]?.model ?? null,
      cores: cpuList.length,
      memory_kb: Math.round(totalmem() / 1024),
      node: process.version,
    },
    hosts,
    git,
    argv: process.argv.slice(2),
  };
  if (config.machines.testbed !== undefined) provenance.testbed = config.machines.testbed;
  const slurm = slurmFacts();
  if (slurm) provenance.slurm = slurm;
  return provenance;
}

/**
 * sha256 of the resolved config as canonical JSON (keys sorted; where the file
 * lives left out). A testbed's machine map counts by its shape only (node and
 * guest names): its ports, key paths and start time change with every
 * `testbed up` and are facts of the run (provenance), not of the experiment.
 */
export function configHash(config: ResolvedBatchConfig): string {
  const { source: _source, ...content } = config;
  const machines = config.machines.testbed ? machineShape(config.machines) : config.machines;
  return 'sha256:' + createHash('sha256').update(canonicalJson({ ...content, machines })).digest('hex');
}

/** A machine map as the names of its nodes and guests (what `on:` lists and labels refer to). */
export function machineShape(machines: MachineMap): { nodes: { name: string; vms: string[] }[] } {
  return { nodes: machines.nodes.map((n) => ({ name: n.name, vms: (n.vms ?? []).map((v) => v.name) })) };
}

export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

async function hostFacts(plan: Plan, executors: ExecutorPool, timeoutMs: number): Promise<Provenance['hosts']> {
  const byHost = new Map<string, { target: Target; programs: Set<string> }>();
  for (const run of plan.runs) {
    for (const p of [...run.monitors, ...run.workloads]) {
      const name = where(p.target);
      const entry = byHost.get(name) ?? { target: p.target, programs: new Set<string>() };
      const program = programOf(p.command);
      if (program) entry.programs.add(program);
      byHost.set(name, entry);
    }
  }
  const hosts: Provenance['hosts'] = {};
  await Promise.all(
    [...byHost].map(async ([name, { target, programs }]) => {
      const { ssh: _ssh, ...where } = target;
      try {
        const executor = await withTimeout(executors.get(target), timeoutMs, `connecting to ${name}`);
        const result = await executor.exec(hostFactsScript([...programs].sort()), { timeoutMs });
        hosts[name] = { target: where, ...parseHostFacts(result.stdout) };
      } catch (error) {
        hosts[name] = { target: where, error: error instanceof Error ? error.message : String(error) };
      }
    }),
  );
  return hosts;
}

async function gitFacts(configFile: string, timeoutMs: number): Promise<Provenance['git']> {
  const folder = dirname(configFile);
  const git = (args: string[]) =>
    new Promise<string>((resolve, reject) =>
      execFile('git', ['-C', folder, ...args], { timeout: timeoutMs, encoding: 'utf8' }, (error, stdout) => (error ? reject(error) : resolve(stdout))),
    );
  try {
    const commit = (await git(['rev-parse', 'HEAD'])).trim();
    const status = await git(['status', '--porcelain', '--untracked-files=no']);
    const configStatus = await git(['status', '--porcelain', '--', configFile]);
    return { folder, commit, dirty: status.trim() !== '', config_dirty: configStatus.trim() !== '' };
  } catch {
    return null; // Not a git checkout (or no git): nothing to record.
  }
}

async function duckdbVersion(store: ExpertStore): Promise<string | undefined> {
  try {
    const result = await store.query('SELECT version()');
    return String(result.rows[0]?.[0]);
  } catch {
    return undefined;
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise,
    new Promise<T>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}
