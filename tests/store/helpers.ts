import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import type { OutputLine, Stream } from '../../src/batch/executor.js';
import { openStore, type OpenStoreOptions } from '../../src/store/store.js';
import type { ExpertStore } from '../../src/store/types.js';

export function tempDir(prefix: string): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), `expert-store-${prefix}-`));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Runs `body` with a fresh temp dir, removed afterwards even when `body` throws. */
export async function withTempDir<T>(prefix: string, body: (dir: string) => Promise<T>): Promise<T> {
  const { dir, cleanup } = tempDir(prefix);
  try {
    return await body(dir);
  } finally {
    cleanup();
  }
}

/** Runs `body` with a store opened on `x.duckdb` in a fresh temp dir; closes the store and removes the dir afterwards. */
export async function withStore<T>(
  prefix: string,
  body: (store: ExpertStore, dir: string) => Promise<T>,
  options?: OpenStoreOptions,
): Promise<T> {
  return withTempDir(prefix, async (dir) => {
    const store = await openStore(join(dir, 'x.duckdb'), options);
    try {
      return await body(store, dir);
    } finally {
      await store.close();
    }
  });
}

export function line(text: string | Buffer, stream: Stream = 'stdout', ts = Date.now()): OutputLine {
  return { stream, ts, bytes: typeof text === 'string' ? Buffer.from(text, 'utf8') : text };
}

export { rows } from '../helpers/store.js';

export async function newProcess(store: ExpertStore, label = 'p'): Promise<{ batchId: number; processId: number }> {
  const batchId = await store.createBatch({ name: 'test', config: {}, provenance: {} });
  const processId = await store.createProcess({ batchId, label, host: 'local', role: 'workload', command: 'true' });
  return { batchId, processId };
}

const FIXTURES = resolve(import.meta.dirname, 'fixtures');

/** A child `node --import tsx` running one of this folder's fixture scripts; its stdout lines are awaited one by one. */
export class Child {
  readonly process: ChildProcess;
  private readonly lines: string[] = [];
  private waiters: Array<() => void> = [];
  private stderr = '';
  private exited = false;

  constructor(script: string, args: string[], env: NodeJS.ProcessEnv = {}) {
    this.process = spawn(process.execPath, ['--import', 'tsx', join(FIXTURES, script), ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, ...env },
    });
    createInterface({ input: this.process.stdout! }).on('line', (text) => {
      this.lines.push(text);
      this.wake();
    });
    this.process.stderr!.on('data', (data: Buffer) => (this.stderr += data.toString()));
    this.process.on('exit', () => {
      this.exited = true;
      this.wake();
    });
  }

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const wake of waiters) wake();
  }

  /** Waits for the next stdout line matching `pattern` (skipping others); fails if the child exits first. */
  async waitFor(pattern: RegExp, timeoutMs = 30_000): Promise<RegExpExecArray> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      while (this.lines.length > 0) {
        const match = pattern.exec(this.lines.shift()!);
        if (match) return match;
      }
      if (this.exited) throw new Error(`child exited before printing ${pattern}; stderr:\n${this.stderr}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`child did not print ${pattern} within ${timeoutMs} ms; stderr:\n${this.stderr}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    if (this.exited) return;
    const exit = new Promise((resolve) => this.process.once('exit', resolve));
    this.process.kill(signal);
    await exit;
  }
}
