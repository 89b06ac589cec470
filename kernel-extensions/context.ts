/**
 * What a magic may use: the store the notebook works on, displays (plain,
 * MIME bundles, and updatable ones for progress), TypeScript variables of the
 * notebook (read for `{var}` bindings, written for `-o var`), and the signal
 * that an interrupt aborts.
 */
import { createRequire } from 'node:module';
import path from 'node:path';
import { UserError } from '../src/errors.js';
import { DEFAULT_STORE_PATH, openStore } from '../src/store/store.js';
import type { ExpertStore } from '../src/store/types.js';

export type MimeBundle = Record<string, unknown>;

export interface Display {
  /** Shows a bundle; with an updatable display, later calls replace it in place. */
  show(bundle: MimeBundle): void;
}

export interface KernelHost {
  /** Sends a display_data (or update_display_data when `update`) message. */
  writeDisplay(bundle: MimeBundle, displayId: string | undefined, update: boolean): void;
  /** Runs TypeScript through tslab, as if it were a cell of its own. */
  executeTypeScript(code: string): Promise<boolean>;
  locals(): Record<string, unknown>;
}

/**
 * A TypeScript type from one of our dependencies, named by absolute path so
 * that it resolves from any notebook folder (tslab resolves bare names from
 * the notebook's folder, which may have no node_modules).
 */
export function dependencyType(pkg: string, typeName: string): string {
  const dir = path.dirname(createRequire(import.meta.url).resolve(`${pkg}/package.json`));
  return `import(${JSON.stringify(dir)}).${typeName}`;
}

export const ARQUERO_TABLE = dependencyType('arquero', 'ColumnTable');

const handoff = new Map<string, unknown>();
(globalThis as { __expert_handoff__?: Map<string, unknown> }).__expert_handoff__ = handoff;

export class KernelContext {
  private storePath = path.resolve(process.env.EXPERT_STORE ?? DEFAULT_STORE_PATH);
  private openedStore: ExpertStore | undefined;
  private controller = new AbortController();
  private displayCount = 0;

  constructor(private readonly host: KernelHost) {}

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  /** Called when a cell starts: a fresh signal for its work. */
  beginCell(): void {
    if (this.controller.signal.aborted) this.controller = new AbortController();
  }

  interrupt(): void {
    this.controller.abort(new Error('interrupted'));
  }

  get storeFile(): string {
    return this.storePath;
  }

  async store(): Promise<ExpertStore> {
    this.openedStore ??= await openStore(this.storePath);
    return this.openedStore;
  }

  async useStore(file: string, options: { readOnly?: boolean } = {}): Promise<ExpertStore> {
    await this.openedStore?.close();
    this.openedStore = undefined;
    this.storePath = path.resolve(file);
    this.openedStore = await openStore(this.storePath, options);
    return this.openedStore;
  }

  display(bundle: MimeBundle): void {
    this.host.writeDisplay(bundle, undefined, false);
  }

  /** A display that later calls update in place (progress of batches and searches). */
  updatableDisplay(): Display {
    const id = `expert-${process.pid}-${++this.displayCount}`;
    let shown = false;
    return {
      show: (bundle) => {
        this.host.writeDisplay(bundle, id, shown);
        shown = true;
      },
    };
  }

  variable(name: string): unknown {
    const locals = this.host.locals();
    if (!(name in locals)) throw new UserError(`no variable '${name}' in this notebook: define it in a TypeScript cell that runs before this one`);
    return locals[name];
  }

  /** Makes `name` a typed variable of the notebook, visible to later TypeScript cells. */
  async setVariable(name: string, value: unknown, typeText = 'any'): Promise<void> {
    if (!/^[A-Za-z_$][\w$]*$/.test(name)) throw new Error(`'${name}' is not a TypeScript variable name`);
    handoff.set(name, value);
    const ok = await this.host.executeTypeScript(
      `let ${name}: ${typeText} = (globalThis as any).__expert_handoff__.get(${JSON.stringify(name)});`,
    );
    handoff.delete(name);
    if (!ok) throw new Error(`could not bind the variable '${name}'`);
  }

  async close(): Promise<void> {
    await this.openedStore?.close();
  }
}
