/**
 * SSH benchmark (`npm run bench:ssh`).
 *
 * Targets: 64 real OpenSSH sshd processes, one per loopback address
 * 127.0.1.1 … 127.0.1.64, each with its own host key; one ssh_config alias and
 * one known_hosts line per target (strict host key checking on both sides).
 *
 * (a) fan-out: `true`, then `seq 1 10000`, on every target at once, from cold
 *     (new connections, like pdsh). Every output line goes through the store's
 *     LineWriter into a DuckDB file and is counted back with SQL at the end of
 *     the timed part. Process rows are created before the clock starts.
 *     Baseline, same run, same targets: `pdsh -R ssh -f 64 -w t1,...,t64 CMD`
 *     (pdsh runs the ssh binary with the same config and known_hosts through
 *     PDSH_SSH_ARGS); its output is drained and its lines counted.
 * (b) 1,000 short commands (`true`) to one target over pooled, warm
 *     connections (up to 32 in flight), plus a sequential run for the latency.
 *
 *   npm run bench:ssh -- [--targets N] [--lines N] [--commands N] [--reps N]
 *
 * The last line is one JSON object: fanout_s, pdsh_fanout_s, ratio, per_command_ms, ...
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { SshExecutor, Semaphore } from '../src/batch/ssh/index.js';
import type { SshSettings } from '../src/batch/config/types.js';
import { openStore } from '../src/store/store.js';
import { makeClientKey, startSshd, type SshdInstance } from '../src/testbed/sshd.js';

const { values: args } = parseArgs({
  options: {
    targets: { type: 'string', default: '64' },
    lines: { type: 'string', default: '10000' },
    commands: { type: 'string', default: '1000' },
    reps: { type: 'string', default: '1' },
    keep: { type: 'boolean', default: false },
  },
});
const targetCount = Number(args.targets);
const seqLines = Number(args.lines);
const commandCount = Number(args.commands);
const reps = Number(args.reps);

const dir = mkdtempSync(join(tmpdir(), 'expert-bench-ssh-'));
// Keep the user's own ~/.ssh (config, agent, keys) out of both sides of the comparison.
process.env.HOME = dir;
delete process.env.SSH_AUTH_SOCK;

const servers: SshdInstance[] = [];

async function main(): Promise<void> {
  const key = await makeClientKey(join(dir, 'client'));
  console.log(`starting ${targetCount} sshd processes on 127.0.1.1-${targetCount} ...`);
  for (let i = 0; i < targetCount; i += 16) {
    const batch = Array.from({ length: Math.min(16, targetCount - i) }, (_, j) =>
      startSshd({ address: `127.0.1.${i + j + 1}`, authorizedKeys: [key.publicKey], dir: join(dir, `sshd${i + j + 1}`) }),
    );
    servers.push(...(await Promise.all(batch)));
  }
  const aliases = servers.map((_, i) => `t${i + 1}`);
  const knownHosts = join(dir, 'known_hosts');
  writeFileSync(knownHosts, servers.map((s) => s.knownHostsLine()).join('\n') + '\n');
  const config = join(dir, 'ssh_config');
  writeFileSync(config, servers.map((s, i) => [
    `Host ${aliases[i]}`, `  HostName ${s.address}`, `  Port ${s.port}`, '  User root', `  IdentityFile ${key.privateKeyPath}`,
    `  UserKnownHostsFile ${knownHosts}`, '  StrictHostKeyChecking yes', '  BatchMode yes', '  LogLevel ERROR', '',
  ].join('\n')).join('\n'));
  const settings: SshSettings = { config, knownHosts };

  const store = await openStore(join(dir, 'bench.duckdb'));
  const commands = ['true', `seq 1 ${seqLines}`];
  const ours: number[] = [];
  const theirs: number[] = [];
  try {
    // Warm the file cache and the CPU for both sides alike.
    await fanOut(store, aliases, settings, 'true', 0);
    await pdsh(aliases, config, 'true', 0);
    for (let rep = 0; rep < reps; rep++) {
      let total = 0;
      let pdshTotal = 0;
      for (const command of commands) {
        const expected = command === 'true' ? 0 : seqLines * targetCount;
        const t = await fanOut(store, aliases, settings, command, expected);
        const p = await pdsh(aliases, config, command, expected);
        console.log(`  ${command.padEnd(14)} expert ${t.toFixed(3)} s   pdsh ${p.toFixed(3)} s`);
        total += t;
        pdshTotal += p;
      }
      ours.push(total);
      theirs.push(pdshTotal);
    }
  } finally {
    await store.close();
  }
  const fanoutS = median(ours);
  const pdshS = median(theirs);
  console.log(`(a) fan-out to ${targetCount} targets (true + seq 1 ${seqLines}): expert ${fanoutS.toFixed(3)} s, pdsh ${pdshS.toFixed(3)} s, ratio ${(fanoutS / pdshS).toFixed(3)}`);

  const { pooledMs, sequentialMs, connections } = await shortCommands(aliases[0]!, settings);
  console.log(`(b) ${commandCount} x \`true\` on one target, warm pool (${connections} connections, 32 in flight): ${pooledMs.toFixed(2)} ms per command; one at a time: ${sequentialMs.toFixed(2)} ms per command`);

  console.log(JSON.stringify({
    targets: targetCount,
    target_kind: `${targetCount} sshd processes on distinct loopback addresses`,
    seq_lines: seqLines,
    fanout_s: round(fanoutS),
    pdsh_fanout_s: round(pdshS),
    ratio: round(fanoutS / pdshS),
    per_command_ms: round(pooledMs),
    sequential_per_command_ms: round(sequentialMs),
    commands: commandCount,
  }));
}

/** One fan-out from cold: new executors, every line into the store, counted back. Returns seconds. */
async function fanOut(store: Awaited<ReturnType<typeof openStore>>, aliases: string[], settings: SshSettings, command: string, expectedLines: number): Promise<number> {
  const batchId = await store.createBatch({ name: `bench-ssh ${command}`, config: { command }, provenance: {} });
  const ids = await Promise.all(aliases.map((host) => store.createProcess({ batchId, label: `${command}@${host}`, host, role: 'workload', command })));
  const handshakes = new Semaphore(64);
  const writer = store.lineWriter();
  const started = performance.now();
  const executors = aliases.map((host) => new SshExecutor({ host, settings, handshakes }));
  const infos = await Promise.all(executors.map(async (executor, i) => {
    const proc = await executor.start({ command }, (line) => writer.append(ids[i]!, line));
    return proc.wait();
  }));
  await writer.flush();
  const elapsed = (performance.now() - started) / 1000;
  await writer.close();
  await Promise.all(executors.map((e) => e.close()));
  const bad = infos.filter((i) => i?.status !== 'exited' || i.exitCode !== 0);
  if (bad.length > 0) throw new Error(`${bad.length} processes did not exit 0: ${JSON.stringify(bad[0])}`);
  const counted = await store.query('SELECT count(*) FROM line l JOIN process p USING (process_id) WHERE p.batch_id = $1', [batchId]);
  const lines = Number(counted.rows[0]![0]);
  if (lines !== expectedLines) throw new Error(`stored ${lines} lines, expected ${expectedLines}`);
  return elapsed;
}

/** pdsh over the ssh binary with the same config; output drained and its lines counted. Returns seconds. */
function pdsh(aliases: string[], config: string, command: string, expectedLines: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn('pdsh', ['-R', 'ssh', '-f', String(aliases.length), '-w', aliases.join(','), command], {
      env: { ...process.env, PDSH_SSH_ARGS: `-F ${config} %h`, PDSH_SSH_ARGS_APPEND: '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let lines = 0;
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      for (let i = chunk.indexOf(0x0a); i !== -1; i = chunk.indexOf(0x0a, i + 1)) lines++;
    });
    child.stderr.on('data', (chunk: Buffer) => { stderr += chunk.toString(); });
    child.once('error', reject);
    child.once('close', (code) => {
      const elapsed = (performance.now() - started) / 1000;
      if (code !== 0) return reject(new Error(`pdsh exited ${code}: ${stderr.slice(0, 500)}`));
      if (lines !== expectedLines) return reject(new Error(`pdsh printed ${lines} lines, expected ${expectedLines}: ${stderr.slice(0, 300)}`));
      resolve(elapsed);
    });
  });
}

async function shortCommands(host: string, settings: SshSettings): Promise<{ pooledMs: number; sequentialMs: number; connections: number }> {
  const executor = new SshExecutor({ host, settings });
  try {
    // Warm: open the pool's connections.
    await Promise.all(Array.from({ length: 40 }, () => executor.exec('true')));
    let next = 0;
    const started = performance.now();
    await Promise.all(Array.from({ length: 32 }, async () => {
      while (next < commandCount) {
        next++;
        const result = await executor.exec('true');
        if (result.exitCode !== 0) throw new Error(`true exited ${result.exitCode}: ${result.stderr}`);
      }
    }));
    const pooledMs = (performance.now() - started) / commandCount;
    const sequentialCount = Math.min(200, commandCount);
    const seqStarted = performance.now();
    for (let i = 0; i < sequentialCount; i++) await executor.exec('true');
    const sequentialMs = (performance.now() - seqStarted) / sequentialCount;
    return { pooledMs, sequentialMs, connections: executor.connections };
  } finally {
    await executor.close();
  }
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

function round(value: number): number {
  return Math.round(value * 1000) / 1000;
}

try {
  await main();
} finally {
  await Promise.all(servers.map((s) => s.stop()));
  if (!args.keep) rmSync(dir, { recursive: true, force: true });
}
