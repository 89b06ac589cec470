#!/usr/bin/env node
/**
 * The `expert` Jupyter kernel: tslab's TypeScript executor and Jupyter server,
 * with `Executor.execute` wrapped so that magic lines and cells become calls
 * of the ExPerT library. TypeScript keeps tslab's completion and inspection;
 * magic names are added to the completions.
 */
import { realpathSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { isUserError } from '../src/errors.js';
import { packageRoot } from '../src/package-root.js';
import { KernelContext, type MimeBundle } from './context.js';
import { parseCell, type MagicSegment } from './magics/parse.js';
import { closest, type MagicRegistry } from './magics/registry.js';
import { allMagics } from './magics/index.js';
import { expandArgs } from './magics/expand-args.js';
import { exposeOwnPackage } from './own-package.js';

const require = createRequire(import.meta.url);
// tslab is CommonJS and exposes its executor and server only as internals.
const tslabConverter = require('tslab/dist/converter.js');
const tslabExecutor = require('tslab/dist/executor.js');
const tslabJupyter = require('tslab/dist/jupyter.js');
// The TypeScript that tslab compiles cells with (its own build of it).
const tslabTypeScript = createRequire(require.resolve('tslab/dist/converter.js'))('@tslab/typescript-for-tslab');

interface TslabExecutor {
  execute(src: string): Promise<boolean>;
  complete(src: string, position: number): { start: number; end: number; candidates: string[]; original?: unknown };
  interrupt(): void;
  locals: Record<string, unknown>;
  inspect(src: string, position: number): unknown;
  reset(): void;
  close(): void;
}

export function startExpertKernel(configPath: string): void {
  exposeOwnPackage(tslabTypeScript.sys, packageRoot());
  let nodeConverter: unknown;
  const converters = {
    get node() {
      return (nodeConverter ??= tslabConverter.createConverter({ isJS: false, isBrowser: false }));
    },
    get browser() {
      return tslabConverter.createConverter({ isJS: false, isBrowser: true });
    },
    close() {
      (nodeConverter as { close(): void } | undefined)?.close();
    },
  };
  void converters.node; // warm the TypeScript service before the first cell
  const executor: TslabExecutor = tslabExecutor.createExecutor(process.cwd(), converters, {
    log: console.log,
    error: console.error,
  });
  const executeTypeScript = executor.execute.bind(executor);
  const context = new KernelContext({
    writeDisplay: (bundle, displayId, update) => writeDisplay(bundle, displayId, update),
    executeTypeScript,
    locals: () => executor.locals,
  });
  const magics = allMagics();

  executor.execute = (src: string) => executeCell(src, { context, magics, executeTypeScript });
  const tslabComplete = executor.complete.bind(executor);
  executor.complete = (src: string, position: number) => completeWithMagics(src, position, magics, tslabComplete);

  const server = new tslabJupyter.ZmqServer(new tslabJupyter.JupyterHandlerImpl(executor, false), configPath);
  process.on('SIGINT', () => {
    // Jupyter's interrupt: abort the running magic (it stops remote work and restores tuning), then tslab's own.
    context.interrupt();
    executor.interrupt();
  });
  process.on('uncaughtException', (error) => console.error('uncaught exception:', error));
  process.on('unhandledRejection', (reason) => console.error('unhandled rejection:', reason));
  server.init();
}

function writeDisplay(bundle: MimeBundle, displayId: string | undefined, update: boolean): void {
  const write = tslabJupyter.lastWriteDisplayData as ((data: unknown, update: boolean) => void) | undefined;
  if (!write) return;
  write({ data: bundle, metadata: {}, transient: displayId ? { display_id: displayId } : {} }, update);
}

interface CellDeps {
  context: KernelContext;
  magics: MagicRegistry;
  executeTypeScript: (src: string) => Promise<boolean>;
}

/** Runs a cell: TypeScript chunks through tslab, magics through the registry. False marks the cell failed. */
export async function executeCell(src: string, deps: CellDeps): Promise<boolean> {
  const segments = parseCell(src, (name) => deps.magics.get(name) !== undefined);
  if (!segments.some((s) => s.kind !== 'code')) return deps.executeTypeScript(src);
  deps.context.beginCell();
  for (const segment of segments) {
    const ok = segment.kind === 'code' ? await deps.executeTypeScript(segment.code) : await runMagic(segment, deps);
    if (!ok) return false;
  }
  return true;
}

async function runMagic(call: MagicSegment, { context, magics }: CellDeps): Promise<boolean> {
  const magic = magics.get(call.name);
  const prefix = call.kind === 'cell' ? '%%' : '%';
  if (!magic) {
    const guess = closest(call.name, magics.list().map((m) => m.name));
    console.error(`${prefix}${call.name}: no such magic${guess ? ` (did you mean ${prefix}${guess}?)` : ''}; %lsmagic lists them`);
    return false;
  }
  if (call.help) {
    process.stdout.write(magics.helpText(magic));
    return true;
  }
  if (magic.kind !== 'both' && magic.kind !== call.kind) {
    console.error(`${prefix}${call.name}: this magic is used as ${magic.kind === 'cell' ? '%%' : '%'}${call.name}; see %${call.name}?`);
    return false;
  }
  try {
    const args = expandArgs(call.args, (name) => {
      try {
        return { value: context.variable(name) };
      } catch {
        return undefined; // not a notebook variable: the braces stay (e.g. a batch placeholder)
      }
    });
    await magic.run(context, { ...call, args });
    return true;
  } catch (error) {
    if (isUserError(error)) console.error(`${prefix}${call.name}: ${error.message}`);
    else if (context.signal.aborted) console.error(`${prefix}${call.name}: interrupted`);
    else console.error(`${prefix}${call.name}: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    return false;
  }
}

function completeWithMagics(
  src: string,
  position: number,
  magics: MagicRegistry,
  tslabComplete: TslabExecutor['complete'],
): ReturnType<TslabExecutor['complete']> {
  const lineStart = src.lastIndexOf('\n', position - 1) + 1;
  const word = src.slice(lineStart, position);
  if (/^%{1,2}[\w-]*$/.test(word)) {
    return { start: lineStart, end: position, candidates: magics.complete(word) };
  }
  return tslabComplete(src, position);
}

function invokedDirectly(): boolean {
  try {
    return Boolean(process.argv[1]) && realpathSync(process.argv[1]!) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

// Jupyter starts the launcher (launcher.ts), which imports this module; starting it by hand still works.
if (invokedDirectly()) {
  const at = process.argv.indexOf('--config-path');
  if (at < 0 || !process.argv[at + 1]) {
    console.error('usage: kernel.js --config-path <connection file> (Jupyter starts this; see `expert kernel install`)');
    process.exit(2);
  }
  startExpertKernel(process.argv[at + 1]!);
}
