/**
 * `expert tune discover|apply|restore|search`: Tune from the command line.
 * `apply` leaves the threads tuned (journaled) until `tune restore`.
 */
import type { Command } from 'commander';
import { collect } from './options.js';
import { existsSync } from 'node:fs';
import type { Target } from '../batch/config/types.js';
import { createExecutorPool } from '../batch/executor-pool.js';
import type { ExecutorPool } from '../batch/hooks.js';
import { openStore, DEFAULT_STORE_PATH } from '../store/store.js';
import type { ExpertStore } from '../store/types.js';
import { checkColumnNames as checkColumns, columnsOption, dataOptions, printData, resolveFormat, type DataOptions } from './format.js';
import { defaultJournalPath, Journal } from '../tune/journal.js';
import { loadPolicyFile } from '../tune/policy-file.js';
import { restoreEntries } from '../tune/restore.js';
import { applyPolicy, discoverAll, type TuneNode } from '../tune/session.js';
import { nodeTargets, parseWindow } from '../tune/hook.js';
import { loadMachineMap } from '../batch/config/machines.js';
import { UserError } from '../errors.js';
import type { ParsedDiscovery } from '../tune/discover-parse.js';
import { runSearchCommand } from '../tune/search/command.js';
import { parseJumpSpec } from '../batch/ssh/ssh-config.js';

function hostTarget(host: string): Target {
  let spec: ReturnType<typeof parseJumpSpec>;
  try {
    spec = parseJumpSpec(host);
  } catch {
    throw new UserError(`--host ${host}: expected local, or an SSH host [user@]host[:port]`);
  }
  return { node: host, host: spec.host, ...(spec.user ? { user: spec.user } : {}), ...(spec.port ? { port: spec.port } : {}) };
}

async function nodesFor(hosts: string[], pool: ExecutorPool, machines?: string): Promise<TuneNode[]> {
  if (machines !== undefined) {
    // Nodes of a machine map (with its SSH settings); --host picks some by name.
    const all = nodeTargets(await loadMachineMap(machines));
    const unknown = hosts.filter((h) => !all.some((t) => t.node === h));
    if (unknown.length) throw new UserError(`--host ${unknown.join(', ')}: not a node of ${machines} (nodes: ${all.map((t) => t.node).join(', ')})`);
    const picked = hosts.length ? all.filter((t) => hosts.includes(t.node)) : all;
    return Promise.all(picked.map(async (target) => ({ node: target.node, target, executor: await pool.get(target) })));
  }
  const list = hosts.length ? hosts : ['local'];
  return Promise.all(list.map(async (host) => {
    const target = hostTarget(host);
    return { node: host, target, executor: await pool.get(target) };
  }));
}

const APPLY_COLUMNS = ['node', 'guest', 'tid', 'kind', 'action', 'before', 'after', 'verified', 'error'];
const RESTORE_COLUMNS = ['node', 'guest', 'tid', 'kind', 'outcome', 'error'];

export const DISCOVER_COLUMNS = ['node', 'guest', 'pid', 'tid', 'kind', 'vcpu', 'comm', 'cpus', 'nice', 'manager', 'domain', 'cgroup', 'allowed_cpus'];

export function discoveryRows(discoveries: Iterable<ParsedDiscovery>): unknown[][] {
  const rows: unknown[][] = [];
  for (const d of discoveries) for (const g of d.guests) for (const t of g.threads) rows.push([d.node, g.name, g.pid, t.tid, t.kind, t.vcpu ?? null, t.comm, t.state.cpus, t.state.nice, g.manager, g.libvirt?.domain ?? null, t.cgroup ?? null, t.allowedCpus ?? null]);
  return rows;
}

function topologyText(d: ParsedDiscovery): string {
  const t = d.topology;
  return `${d.node}: ${t.cpus.length} CPUs, ${t.cores} cores, ${t.sockets} socket${t.sockets === 1 ? '' : 's'}; L2 shared by ${t.sharedL2.join(' | ') || '?'}; L3 shared by ${t.sharedL3.join(' | ') || '?'}; kernel ${d.kernel}; missing tools: ${Object.entries(d.tools).filter(([k, v]) => !v && k !== 'virsh').map(([k]) => k).join(', ') || 'none'}\n`;
}

export function registerTune(program: Command): void {
  const tune = program.command('tune').description('discover QEMU guests and their threads, apply/restore taskset·nice·ionice policies, search for a good policy');

  dataOptions(
    tune
      .command('discover')
      .description('list the QEMU guests on a node with every host thread (kind, affinity, nice) and the CPU topology (--format json without --columns: the whole discovery, topology included)')
      .option('--host <host>', 'node to look at: local (default) or an SSH host [user@]host[:port]; with --machines a node name (repeatable)', collect, [])
      .option('--machines <file>', 'take the nodes (and SSH settings) from a machine map, or `testbed`'),
  ).action(async (options: { host: string[]; machines?: string } & DataOptions) => {
      const format = resolveFormat(options.format);
      const columns = columnsOption(options.columns);
      checkColumns(DISCOVER_COLUMNS, columns);
      const pool = createExecutorPool();
      try {
        const discoveries = await discoverAll(await nodesFor(options.host, pool, options.machines));
        if (format === 'json' && !columns) {
          process.stdout.write(JSON.stringify([...discoveries.values()], null, 1) + '\n');
          return;
        }
        await printData(DISCOVER_COLUMNS, discoveryRows(discoveries.values()), options);
        for (const d of discoveries.values()) {
          if (format === 'table') process.stdout.write(topologyText(d));
          for (const w of d.warnings) process.stderr.write(`warning: ${w}\n`);
        }
      } finally {
        await pool.closeAll();
      }
    });

  dataOptions(
    tune
      .command('apply')
      .description('apply a policy now and leave it applied (recorded in the store, journaled for `tune restore`)')
      .argument('<policy.yaml>', 'one policy (name, identify, pin, nice, ionice, chrt), or a `policies:` list with --policy')
      .option('--policy <name>', 'which policy of a `policies:` list')
      .option('--host <host>', 'node: local (default) or an SSH host; with --machines a node name (repeatable)', collect, [])
      .option('--machines <file>', 'take the nodes (and SSH settings) from a machine map, or `testbed`')
      .option('--store <file>', 'the DuckDB store file', DEFAULT_STORE_PATH)
      .option('--journal <file>', 'restore journal (default .expert/tune/journal.json beside the store)'),
  ).action(async (file: string, options: { policy?: string; host: string[]; machines?: string; store: string; journal?: string } & DataOptions) => {
      resolveFormat(options.format);
      checkColumns(APPLY_COLUMNS, columnsOption(options.columns));
      const policy = await loadPolicyFile(file, options.policy);
      const pool = createExecutorPool();
      const store = await openStore(options.store);
      try {
        const journal = new Journal(options.journal ?? defaultJournalPath(options.store));
        const applied = await applyPolicy(await nodesFor(options.host, pool, options.machines), policy, { store, batchId: null, journal }, parseWindow);
        await printData(APPLY_COLUMNS, applied.results.map((r) => [r.node, r.guest, r.tid, r.threadKind, r.action, JSON.stringify(r.before), JSON.stringify(stripError(r.after)), r.verified, r.error ?? '']), options);
        const failed = applied.results.filter((r) => !r.verified).length;
        process.stderr.write(`${applied.results.length - failed} of ${applied.results.length} actions verified; undo with: expert tune restore${options.journal ? ` --journal ${options.journal}` : ''}\n`);
        if (failed) process.exitCode = 1;
      } finally {
        await pool.closeAll();
        await store.close();
      }
    });

  dataOptions(
    tune
      .command('restore')
      .description('return every thread a tuning changed (also by a crashed run) to its recorded state')
      .option('--store <file>', 'the DuckDB store file (restored_at is set there)', DEFAULT_STORE_PATH)
      .option('--journal <file>', 'restore journal (default .expert/tune/journal.json beside the store)'),
  ).action(async (options: { store: string; journal?: string } & DataOptions) => {
      resolveFormat(options.format);
      checkColumns(RESTORE_COLUMNS, columnsOption(options.columns));
      process.exitCode = await restoreCommand(options.store, options.journal, options);
    });

  dataOptions(
    tune
      .command('search')
      .description('search candidate policies or a space of placements (rounds run as interleaved batches) and report the best by an objective (median and its interval), how many trials it used and how sure it is')
      .argument('<spec.yaml>', 'search spec: batch, candidates, generate or space, objective {metric or sql, direction}, budget, strategy (random|exhaustive|halving|model)')
      .option('--store <file>', 'the DuckDB store file', DEFAULT_STORE_PATH)
      .option('--apply', 'apply the best policy at the end (left applied; undo with `expert tune restore`)')
      .option('--dry-run', "run nothing: print the space's size and a sample of its candidates")
      .option('--sample <n>', 'candidates the dry run shows (default 10)'),
  ).action(async (file: string, options: { store: string; apply?: boolean; dryRun?: boolean; sample?: string } & DataOptions, command: Command) => {
      // A usage error like commander's own (one line, then main's `Run '... --help' for usage.`, exit 2): without it a search would run in full.
      if (options.sample !== undefined && options.dryRun !== true) command.error('error: --sample only goes with --dry-run (it is how many candidates the dry run shows); a search measures what its strategy and budget say', { exitCode: 2, code: 'expert.sampleWithoutDryRun' });
      const sample = options.sample === undefined ? undefined : Number(options.sample);
      if (sample !== undefined && !(Number.isInteger(sample) && sample > 0)) throw new UserError(`--sample: expected a whole number above 0, got '${options.sample}'`);
      const columns = columnsOption(options.columns);
      process.exitCode = await runSearchCommand(file, { store: options.store, apply: options.apply === true, dryRun: options.dryRun === true, ...(sample ? { sample } : {}), format: resolveFormat(options.format), ...(columns ? { columns } : {}) });
    });
}

function stripError(after: unknown): unknown {
  if (after && typeof after === 'object') {
    const { error: _e, ...rest } = after as Record<string, unknown>;
    return rest;
  }
  return after;
}

async function restoreCommand(storePath: string, journalPath: string | undefined, output: DataOptions): Promise<number> {
  const journal = new Journal(journalPath ?? defaultJournalPath(storePath));
  const entries = await journal.entries();
  if (entries.length === 0) {
    process.stderr.write(`nothing to restore (${journal.path} lists no tuned threads)\n`);
    return 0;
  }
  const pool = createExecutorPool();
  const stores = new Map<string, ExpertStore | undefined>();
  try {
    // restored_at goes to the store each change was recorded in (when it still exists).
    for (const path of new Set(entries.map((e) => e.store ?? storePath))) {
      stores.set(path, existsSync(path) ? await openStore(path).catch(() => undefined) : undefined);
    }
    const results = await restoreEntries(entries, { executorFor: (target) => pool.get(target), journal, storeFor: (e) => stores.get(e.store ?? storePath) });
    await printData(RESTORE_COLUMNS, results.map((r) => [r.node, r.guest, r.tid, r.threadKind, r.outcome, r.error ?? '']), output);
    const failed = results.filter((r) => r.outcome === 'failed').length;
    process.stderr.write(`${results.filter((r) => r.outcome === 'restored').length} restored, ${results.filter((r) => r.outcome === 'gone').length} gone, ${failed} failed${failed ? ` (still listed in ${journal.path})` : ''}\n`);
    return failed ? 1 : 0;
  } finally {
    await pool.closeAll();
    for (const s of stores.values()) await s?.close();
  }
}
