/**
 * Driving an installed `expert` as a user's script does: by its name on PATH,
 * stdout and stderr through real pipes (or a shell pipeline / redirection),
 * with a deadline so that a command that spins or hangs fails its test
 * instead of hanging the suite.
 */
import { spawn } from 'node:child_process';
import type { Installed } from './install.js';

export interface Ran {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** The deadline passed and the command (its whole process group) was killed. */
  timedOut: boolean;
}

export interface RunOptions {
  cwd: string;
  env?: NodeJS.ProcessEnv;
  input?: string;
  timeoutMs?: number;
  /** Called once the process is running (e.g. to send it a signal later). */
  onSpawn?: (pid: number) => void;
}

const DEFAULT_TIMEOUT_MS = 120_000;

function start(file: string, args: readonly string[], installed: Installed, options: RunOptions): Promise<Ran> {
  // Its own process group, so the deadline kills a pipeline or a spinning child too.
  const child = spawn(file, args, {
    cwd: options.cwd,
    env: { ...installed.env, ...options.env },
    stdio: ['pipe', 'pipe', 'pipe'],
    detached: true,
  });
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  child.stdout.on('data', (d: Buffer) => out.push(d));
  child.stderr.on('data', (d: Buffer) => err.push(d));
  child.stdin.on('error', () => {}); // a command that does not read stdin may close it early
  child.stdin.end(options.input ?? '');
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    try {
      process.kill(-child.pid!, 'SIGKILL');
    } catch {
      // already gone
    }
  }, options.timeoutMs ?? DEFAULT_TIMEOUT_MS);
  if (child.pid !== undefined) options.onSpawn?.(child.pid);
  return new Promise((done, fail) => {
    child.on('error', fail);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      done({ code, signal, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8'), timedOut });
    });
  });
}

/** `expert <args…>`, found on PATH like a user's shell finds it; stdout and stderr are pipes. */
export function expert(installed: Installed, args: readonly string[], options: RunOptions): Promise<Ran> {
  return start('expert', args, installed, options);
}

/** A shell command line (pipes, redirections) with the installed `expert` first on PATH. */
export function shell(installed: Installed, script: string, options: RunOptions): Promise<Ran> {
  return start('/bin/sh', ['-c', script], installed, options);
}

/** Single-quotes `text` for /bin/sh. */
export function shQuote(text: string): string {
  return `'${text.replace(/'/g, `'\\''`)}'`;
}

/** What a failed expectation shows: how the command ended and what it printed to stderr. */
export function describe(ran: Ran): string {
  const end = ran.timedOut ? 'timed out (killed)' : ran.signal ? `killed by ${ran.signal}` : `exit ${ran.code}`;
  return `${end}; stderr: ${ran.stderr.trim().slice(0, 2000) || '(empty)'}`;
}
