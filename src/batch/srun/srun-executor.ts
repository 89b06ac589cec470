/**
 * The Executor for a node reached as a Slurm job step (`launcher: srun`):
 * every process is `srun --overlap -N1 -n1 -w NODE ...` started here, inside
 * the current allocation, so no SSH to the compute node is needed. Guests are
 * still reached over SSH (their targets never get this executor).
 */
import { execCollecting } from '../exec-collect.js';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import type { CommandResult, Executor, LineSink, RemoteProcess, StartOptions } from '../executor.js';
import { OrphanGuard } from '../orphan-guard.js';
import { srunArgv } from './step-command.js';
import { SrunProcess } from './srun-process.js';
import { StepGuard } from './step-guard.js';

export interface SrunExecutorOptions {
  /** The Slurm node name. */
  node: string;
  /** A name for messages; the node by default. */
  name?: string;
  /** Extra srun options (the machine map's `srun.args`). */
  srunArgs?: readonly string[];
  /** Between a stop's SIGTERM and SIGKILL, ms. Default 3000. */
  graceMs?: number;
  /** How long a step may take to start running, ms. Default 60000. */
  startTimeoutMs?: number;
  /** The environment srun runs with (it carries SLURM_JOB_ID and SLURM_CONF). Default process.env. */
  env?: NodeJS.ProcessEnv;
}

export class SrunExecutor implements Executor {
  readonly name: string;
  private readonly guard = new OrphanGuard();
  private readonly steps = new StepGuard();
  private readonly running = new Set<SrunProcess>();
  private closed = false;

  constructor(private readonly options: SrunExecutorOptions) {
    this.name = options.name ?? options.node;
  }

  async start(options: StartOptions, sink: LineSink): Promise<RemoteProcess> {
    if (this.closed) throw new Error(`executor for ${this.name} is closed`);
    const nonce = randomBytes(12).toString('hex');
    const argv = srunArgv({ node: this.options.node, command: options.command, nonce, env: options.env, cwd: options.cwd, srunArgs: this.options.srunArgs });
    // Its own process group: Ctrl-C on the terminal reaches `expert run`, which stops steps in order.
    const child = spawn('srun', argv, { detached: true, env: this.env(), stdio: [options.stdin ? 'pipe' : 'ignore', 'pipe', 'pipe'] });
    await spawned(child);
    const proc = new SrunProcess(child, sink, {
      node: this.options.node,
      nonce,
      graceMs: this.options.graceMs ?? 3000,
      guard: this.guard,
      steps: this.steps,
      scancel: (args) => this.run('scancel', args, 10_000).then(() => undefined),
      diagnose: (code) => this.diagnose(code),
    });
    this.running.add(proc);
    void proc.wait().finally(() => this.running.delete(proc));
    const startTimeoutMs = this.options.startTimeoutMs ?? 60_000;
    const timer = setTimeout(() => void proc.kill({ graceMs: 1000 }), startTimeoutMs);
    await proc.started;
    clearTimeout(timer);
    return proc;
  }

  exec(command: string, options: { timeoutMs?: number; stdin?: string | Buffer } = {}): Promise<CommandResult> {
    return execCollecting(this, command, options);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all([...this.running].map((proc) => proc.kill()));
    this.guard.close();
    this.steps.close();
  }

  private env(): NodeJS.ProcessEnv {
    return this.options.env ?? process.env;
  }

  /** srun -QQ says nothing when it cannot start a step: ask a plain srun why (rare path, bounded). */
  private async diagnose(code: number | null): Promise<string> {
    const { stderr } = await this.run('srun', ['--overlap', '-N1', '-n1', '-w', this.options.node, '-Q', '-J', 'expert-check', 'true'], 15_000);
    const reason = stderr.split('\n').map((l) => l.replace(/^srun: (error: )?/, '').trim()).filter(Boolean).join('; ');
    return `srun could not start a step on ${this.options.node} (exit ${code ?? 'by signal'})${reason ? `: ${reason}` : ''}`;
  }

  private run(file: string, args: string[], timeoutMs: number): Promise<{ code: number | null; stdout: string; stderr: string }> {
    return new Promise((resolve) => {
      execFile(file, args, { env: this.env(), timeout: timeoutMs, encoding: 'utf8' }, (error, stdout, stderr) => {
        const code = error ? (typeof (error as { code?: unknown }).code === 'number' ? ((error as { code: number }).code) : null) : 0;
        resolve({ code, stdout: stdout ?? '', stderr: (stderr ?? '') || (error && code === null ? error.message : '') });
      });
    });
  }
}

function spawned(child: ChildProcess): Promise<void> {
  return new Promise((resolve, reject) => {
    child.once('spawn', resolve);
    child.once('error', (error) => reject(new Error(`could not start srun: ${error.message} (is Slurm's client installed and on PATH?)`, { cause: error })));
  });
}
