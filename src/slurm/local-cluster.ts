/**
 * A real Slurm on this machine, for tests and the testbed: one slurmctld and
 * N slurmd on loopback (Debian's build has MULTIPLE_SLURMD: `NodeName=n[1-N]
 * NodeHostname=<host> NodeAddr=127.0.0.1 Port=[...]`, pid files, spool dirs and
 * logs by `%n`), authenticated by munged running as user munge (/run/munge).
 * No systemd: the daemons are started directly. `up` is idempotent (a running
 * cluster of the same folder with every node idle is kept); `down` stops what
 * `up` started: the PIDs in its pid files that still run with its slurm.conf,
 * and any process started with that slurm.conf (a slurmd started in another
 * PID namespace writes a PID of that namespace into its pid file).
 */
import { execFile, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { basename, join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { UserError } from '../errors.js';
import { cmdline, processesMentioning } from '../testbed/procs.js';

export interface LocalClusterOptions {
  /** Folder for slurm.conf, state, spool, logs and pid files. */
  dir: string;
  nodes?: number;
  /** slurmctld's port; slurmd ports follow `slurmdPort`, `slurmdPort+1`, ... */
  controllerPort?: number;
  slurmdPort?: number;
  /** CPUs each node declares (default: this machine's). */
  cpus?: number;
  partition?: string;
  /** Node names are `<prefix>1..<prefix>N` (default `n`; the testbed uses `node`, its own node names). */
  namePrefix?: string;
  /** argv put before `slurmd` for a node, e.g. `nsenter --target PID --pid --mount --`: the testbed runs each slurmd inside its node's PID namespace. */
  slurmdWrapper?: (node: string) => string[];
}

export interface LocalCluster {
  dir: string;
  conf: string;
  nodeNames: string[];
  partition: string;
  /** The environment a client needs (SLURM_CONF). */
  env: NodeJS.ProcessEnv;
}

export function nodeNames(count: number, prefix = 'n'): string[] {
  return Array.from({ length: count }, (_, i) => `${prefix}${i + 1}`);
}

/**
 * cgroup.conf beside it (pure). Cores are not constrained: Tune, working through srun steps, pins
 * guest threads to any CPU of the node (with ConstrainCores=yes a step's cpuset bounds taskset).
 */
export function cgroupConf(): string {
  return ['# Written by ExPerT-TS (src/slurm/local-cluster.ts).', 'CgroupPlugin=autodetect', 'ConstrainCores=no', 'ConstrainRAMSpace=no', ''].join('\n');
}

/** slurm.conf for the local cluster (pure). */
export function slurmConf(options: Required<Omit<LocalClusterOptions, 'cpus' | 'slurmdWrapper'>> & { cpus: number; host: string }): string {
  const d = options.dir;
  const last = options.slurmdPort + options.nodes - 1;
  return [
    '# Written by ExPerT-TS (src/slurm/local-cluster.ts): a local Slurm for tests and the testbed.',
    'ClusterName=expert',
    `SlurmctldHost=${options.host}(127.0.0.1)`,
    `SlurmctldPort=${options.controllerPort}`,
    'AuthType=auth/munge',
    'CredType=cred/munge',
    'SlurmUser=root',
    'SlurmdUser=root',
    `StateSaveLocation=${d}/state`,
    `SlurmdSpoolDir=${d}/spool/%n`,
    `SlurmctldPidFile=${d}/run/slurmctld.pid`,
    `SlurmdPidFile=${d}/run/slurmd.%n.pid`,
    `SlurmctldLogFile=${d}/log/slurmctld.log`,
    `SlurmdLogFile=${d}/log/slurmd.%n.log`,
    // A step's processes are tracked by cgroup (slurm_%n/uid/job/step, per slurmd): a stop reaches every one,
    // also children that left the session or were orphaned (linuxproc, by parentage, loses orphans: measured).
    'ProctrackType=proctrack/cgroup',
    'TaskPlugin=task/cgroup',
    'SelectType=select/cons_tres',
    'SelectTypeParameters=CR_Core',
    'SchedulerType=sched/backfill',
    'MpiDefault=none',
    'ReturnToService=2',
    'SlurmdTimeout=30',
    'InactiveLimit=0',
    'KillWait=5',
    'MinJobAge=30',
    'JobAcctGatherType=jobacct_gather/none',
    'AccountingStorageType=accounting_storage/none',
    `NodeName=${options.namePrefix}[1-${options.nodes}] NodeHostname=${options.host} NodeAddr=127.0.0.1 Port=[${options.slurmdPort}-${last}] CPUs=${options.cpus} State=UNKNOWN`,
    `PartitionName=${options.partition} Nodes=ALL Default=YES MaxTime=INFINITE State=UP`,
    '',
  ].join('\n');
}

function settings(options: LocalClusterOptions) {
  return {
    dir: options.dir,
    nodes: options.nodes ?? 4,
    controllerPort: options.controllerPort ?? 16817,
    slurmdPort: options.slurmdPort ?? 17001,
    cpus: options.cpus ?? Math.max(1, Number(spawnSync('nproc', { encoding: 'utf8' }).stdout.trim()) || 1),
    partition: options.partition ?? 'expert',
    namePrefix: options.namePrefix ?? 'n',
    host: hostname().split('.')[0]!,
  };
}

function describe(s: ReturnType<typeof settings>): LocalCluster {
  const conf = join(s.dir, 'slurm.conf');
  return { dir: s.dir, conf, nodeNames: nodeNames(s.nodes, s.namePrefix), partition: s.partition, env: { ...process.env, SLURM_CONF: conf } };
}

export async function clusterUp(options: LocalClusterOptions): Promise<LocalCluster> {
  const s = settings(options);
  const cluster = describe(s);
  const text = slurmConf(s);
  const cgroupFile = join(s.dir, 'cgroup.conf');
  if (existsSync(cluster.conf) && readFileSync(cluster.conf, 'utf8') === text && existsSync(cgroupFile) && readFileSync(cgroupFile, 'utf8') === cgroupConf() && alive(pidIn(join(s.dir, 'run', 'slurmctld.pid'))) && (await idleNodes(cluster)) === s.nodes) {
    return cluster;
  }
  await clusterDown(cluster);
  for (const sub of ['state', 'spool', 'log', 'run']) rmSync(join(s.dir, sub), { recursive: true, force: true });
  for (const sub of ['state', 'log', 'run', ...cluster.nodeNames.map((n) => `spool/${n}`)]) mkdirSync(join(s.dir, sub), { recursive: true });
  writeFileSync(cluster.conf, text);
  writeFileSync(cgroupFile, cgroupConf());
  await ensureMunge();
  await run('slurmctld', ['-f', cluster.conf]);
  for (const name of cluster.nodeNames) {
    const argv = [...(options.slurmdWrapper?.(name) ?? []), 'slurmd', '-f', cluster.conf, '-N', name];
    await run(argv[0]!, argv.slice(1));
  }
  const deadline = Date.now() + 30_000;
  while ((await idleNodes(cluster)) < s.nodes) {
    if (Date.now() > deadline) throw new UserError(`the local Slurm in ${s.dir} did not get ${s.nodes} idle nodes within 30 s (see ${s.dir}/log)`);
    await delay(250);
  }
  return cluster;
}

/** Stops slurmd and slurmctld of this folder (munged is left running: other users of this machine may need it). */
export async function clusterDown(cluster: Pick<LocalCluster, 'dir'>): Promise<void> {
  const pids = await clusterDaemons(cluster);
  for (const pid of pids) signal(pid, 'SIGTERM');
  const deadline = Date.now() + 10_000;
  while (pids.some(alive) && Date.now() < deadline) await delay(100);
  for (const pid of pids.filter(alive)) signal(pid, 'SIGKILL');
}

/**
 * Host PIDs of this folder's slurmctld and slurmd: a pid file's PID only while it still runs with this
 * slurm.conf (PIDs get reused, and a slurmd in another PID namespace writes that namespace's PID), plus
 * every process started with `-f <this slurm.conf>`.
 */
export async function clusterDaemons(cluster: Pick<LocalCluster, 'dir'>): Promise<number[]> {
  const conf = join(cluster.dir, 'slurm.conf');
  const run = join(cluster.dir, 'run');
  const fromFiles = existsSync(run) ? ['slurmctld.pid', ...listPidFiles(run)].map((f) => pidIn(join(run, f))).filter((p): p is number => p !== undefined) : [];
  const found = new Set<number>();
  for (const pid of fromFiles) if ((await cmdline(pid)).includes(conf)) found.add(pid);
  for (const pid of await processesMentioning(conf)) if (/^slurm(ctld|d)$/.test(basename((await cmdline(pid))[0] ?? ''))) found.add(pid);
  return [...found].filter(alive);
}

function listPidFiles(dir: string): string[] {
  return readdirSync(dir).filter((f) => /^slurmd\..+\.pid$/.test(f));
}

async function idleNodes(cluster: LocalCluster): Promise<number> {
  try {
    const out = await run('sinfo', ['-h', '-N', '-o', '%N %t'], cluster.env, 5000);
    return out.split('\n').filter((l) => /^\S+ idle$/.test(l.trim())).length;
  } catch {
    return 0;
  }
}

/** munged as user munge with its socket in /run/munge, started if no munged answers. */
async function ensureMunge(): Promise<void> {
  if (spawnSync('sh', ['-c', 'munge -n | unmunge'], { stdio: 'ignore' }).status === 0) return;
  if (!existsSync('/etc/munge/munge.key')) throw new UserError('munge has no key (/etc/munge/munge.key): run scripts/setup.sh (its Slurm step creates one)');
  mkdirSync('/run/munge', { recursive: true });
  spawnSync('chown', ['munge:munge', '/run/munge']);
  const started = spawnSync('su', ['-s', '/bin/sh', 'munge', '-c', '/usr/sbin/munged'], { encoding: 'utf8' });
  if (started.status !== 0) throw new UserError(`could not start munged: ${started.stderr.trim()}`);
  for (let i = 0; i < 50; i++) {
    if (spawnSync('sh', ['-c', 'munge -n | unmunge'], { stdio: 'ignore' }).status === 0) return;
    await delay(100);
  }
  throw new UserError('munged started but does not answer (see /var/log/munge/munged.log)');
}

function run(program: string, args: string[], env: NodeJS.ProcessEnv = process.env, timeoutMs = 30_000): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(program, args, { env, timeout: timeoutMs, encoding: 'utf8' }, (error, stdout, stderr) => {
      if (error) reject(new UserError(`${program} ${args.join(' ')} failed: ${(stderr || error.message).trim()}`));
      else resolve(stdout);
    });
  });
}

function pidIn(file: string): number | undefined {
  try {
    const pid = Number(readFileSync(file, 'utf8').trim());
    return Number.isInteger(pid) && pid > 1 ? pid : undefined;
  } catch {
    return undefined;
  }
}

function alive(pid: number | undefined): boolean {
  if (pid === undefined) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function signal(pid: number, name: NodeJS.Signals): void {
  try {
    process.kill(pid, name);
  } catch {
    // gone already
  }
}
