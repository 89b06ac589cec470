/**
 * Test helpers: a real store in a temp dir, and captured fixtures loaded into
 * it through the store's own LineWriter (as the batch runner does).
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openStore } from '../../src/store/store.js';
import type { ExpertStore } from '../../src/store/types.js';

export const FIXTURES = new URL('../fixtures/', import.meta.url).pathname;

export interface TempStore {
  store: ExpertStore;
  dir: string;
  cleanup(): Promise<void>;
}

export async function tempStore(): Promise<TempStore> {
  const dir = await mkdtemp(join(tmpdir(), 'expert-mine-'));
  const store = await openStore(join(dir, 'test.duckdb'));
  return {
    store,
    dir,
    async cleanup() {
      await store.close().catch(() => undefined);
      await rm(dir, { recursive: true, force: true });
    },
  };
}

export interface Fixture {
  command: string;
  stdout: string[];
  stderr: string[];
}

/** A captured fixture: `tests/fixtures/<tool>/<variant>.{cmd,stdout,stderr}`. */
export async function readFixture(tool: string, variant: string): Promise<Fixture> {
  const base = join(FIXTURES, tool, variant);
  if (!existsSync(`${base}.cmd`)) throw new Error(`fixture ${tool}/${variant} missing: run scripts/capture-fixtures.sh`);
  const lines = async (ext: string) => {
    const text = existsSync(`${base}.${ext}`) ? await readFile(`${base}.${ext}`, 'utf8') : '';
    const all = text.split('\n');
    if (all.at(-1) === '') all.pop();
    return all;
  };
  return { command: (await readFile(`${base}.cmd`, 'utf8')).trim(), stdout: await lines('stdout'), stderr: await lines('stderr') };
}

export interface LoadOptions {
  batchId: number;
  label?: string;
  parser?: string;
  role?: 'workload' | 'monitor';
  /** Keep only the first N lines of stdout (a process killed mid-output). */
  truncateStdout?: number;
  /** Extra lines appended to stdout (garbage). */
  extraStdout?: string[];
  status?: 'exited' | 'killed' | 'running';
  startedAt?: number;
  /** Milliseconds between lines. */
  stepMs?: number;
  command?: string;
}

/** Inserts a fixture as one process; returns its process_id. */
export async function loadFixture(store: ExpertStore, fixture: Fixture, options: LoadOptions): Promise<number> {
  const startedAt = options.startedAt ?? Date.UTC(2026, 0, 1, 0, 0, 0);
  const step = options.stepMs ?? 1000;
  const processId = await store.createProcess({
    batchId: options.batchId,
    label: options.label ?? 'p',
    host: 'local',
    role: options.role ?? 'monitor',
    command: options.command ?? fixture.command,
    ...(options.parser ? { parser: options.parser } : {}),
  });
  const writer = store.lineWriter();
  let stdout = options.truncateStdout === undefined ? fixture.stdout : fixture.stdout.slice(0, options.truncateStdout);
  if (options.extraStdout) stdout = [...stdout, ...options.extraStdout];
  let i = 0;
  for (const text of stdout) writer.append(processId, { stream: 'stdout', ts: startedAt + step * i++, bytes: Buffer.from(text) });
  for (const text of fixture.stderr) writer.append(processId, { stream: 'stderr', ts: startedAt + step * i++, bytes: Buffer.from(text) });
  await writer.close();
  const status = options.status ?? 'exited';
  await store.updateProcess(processId, {
    status,
    startedAt,
    ...(status === 'running' ? {} : { endedAt: startedAt + step * Math.max(i, 1), exitCode: status === 'exited' ? 0 : null }),
  });
  return processId;
}

/** Whitespace fields of a raw line: the independent reading the tests compare against. */
export function fields(line: string): string[] {
  return line.trim().split(/\s+/);
}
