/** Live tests: a real `expert run` of a local batch (seq/sleep loops, vmstat), and the built CLI as a reader. */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { until } from '../helpers/processes.js';

export const CLI = resolve('dist/src/cli/main.js');

export interface Ran {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface Started {
  child: ChildProcess;
  result: Promise<Ran>;
  stdout(): string;
  stderr(): string;
}

/** `group`: in a process group of its own, so that cleanup can stop what it started even after it was killed. */
export function startCli(args: string[], cwd: string, env: NodeJS.ProcessEnv = {}, group = false): Started {
  const child = spawn(process.execPath, [CLI, ...args], { cwd, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env }, detached: group });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const result = new Promise<Ran>((done) => child.on('close', (code, signal) => done({ code, signal, stdout, stderr })));
  return { child, result, stdout: () => stdout, stderr: () => stderr };
}

export function cli(args: string[], cwd: string, env: NodeJS.ProcessEnv = {}): Promise<Ran> {
  return startCli(args, cwd, env).result;
}

/** A local batch of `runs` runs under two policies: a workload printing `lines` lines 50 ms apart, vmstat beside it. */
export function liveBatch(name: string, lines: number, repeat = 1): string {
  return `name: ${name}
machines: {nodes: [{name: local, host: local}]}
monitors:
  - {name: vmstat, on: nodes, command: vmstat -n 1}
tests:
  - name: ticker
    on: nodes
    command: "for i in $(seq 1 {n}); do echo tick-$i; sleep 0.05; done"
    params: {n: [${lines}]}
    repeat: ${repeat}
policies:
  - name: baseline
  - name: other
`;
}

export class LiveDir {
  readonly dir = mkdtempSync(join(tmpdir(), 'expert-live-'));
  readonly children = new Set<ChildProcess>();
  file(name: string, text: string): string {
    const path = join(this.dir, name);
    writeFileSync(path, text);
    return path;
  }
  path(name: string): string {
    return join(this.dir, name);
  }
  /** Starts `expert run` and waits until its store is served live (the socket exists). */
  async run(config: string, store: string, extra: string[] = []): Promise<Started> {
    const started = startCli(['run', config, '--store', store, ...extra], this.dir, {}, true);
    this.children.add(started.child);
    void started.result.then(() => {
      if (started.child.signalCode === null) this.children.delete(started.child);
    });
    const served = await until(() => existsSync(this.path(`${store}.sock`)) || started.child.exitCode !== null, 30_000);
    if (!served || !existsSync(this.path(`${store}.sock`))) throw new Error(`expert run did not serve ${store}: ${started.stderr()}`);
    return started;
  }
  cleanup(): void {
    for (const child of this.children) {
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        // the group is gone already
      }
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}

export function count(text: string): number {
  return Number(/(\d+)/.exec(text.trim().split('\n').at(-1) ?? '')?.[1]);
}
