/**
 * Papermill's parameter semantics for TypeScript notebooks: the cell tagged
 * `parameters` holds defaults; `-p key=value` values go into a new cell tagged
 * `injected-parameters` right after it (replacing one from an earlier run),
 * as TypeScript declarations that shadow the defaults. Pure.
 */
import { parse as parseYamlScalar } from 'yaml';
import { UserError } from '../../src/errors.js';

export interface NotebookCell {
  cell_type: string;
  source: string | string[];
  metadata: { tags?: string[]; [key: string]: unknown };
  [key: string]: unknown;
}

export interface Notebook {
  cells: NotebookCell[];
  metadata: Record<string, unknown>;
  nbformat: number;
  nbformat_minor: number;
}

/** `size=64m` → ['size', '64m']; `n=3` → ['n', 3]; values read as YAML scalars, so quotes force a string. */
export function parseParameter(text: string): [string, unknown] {
  const at = text.indexOf('=');
  const name = at > 0 ? text.slice(0, at).trim() : '';
  if (!/^[A-Za-z_$][\w$]*$/.test(name)) {
    throw new UserError(`-p ${text}: expected name=value with a TypeScript variable name`);
  }
  const raw = text.slice(at + 1);
  let value: unknown;
  try {
    value = parseYamlScalar(raw);
  } catch {
    value = raw;
  }
  return [name, value ?? null];
}

export function parametersSource(values: Record<string, unknown>): string {
  const lines = Object.entries(values).map(([name, value]) => `const ${name} = ${JSON.stringify(value)};`);
  return ['// Parameters injected by `expert notebook run`', ...lines].join('\n');
}

export function injectParameters(notebook: Notebook, values: Record<string, unknown>): Notebook {
  const cells = notebook.cells.filter((cell) => !(cell.metadata.tags ?? []).includes('injected-parameters'));
  if (Object.keys(values).length === 0) return { ...notebook, cells };
  const at = cells.findIndex((cell) => (cell.metadata.tags ?? []).includes('parameters'));
  if (at < 0) {
    throw new UserError('this notebook has no cell tagged `parameters`, so -p has nowhere to go (tag the cell holding the defaults)');
  }
  // The injected cell is published like the defaults it overrides (a paper hides its parameters cell: it hides these too).
  const publishTags = (cells[at]!.metadata.tags ?? []).filter((tag) => tag.startsWith('remove-'));
  const injected: NotebookCell = {
    cell_type: 'code',
    source: parametersSource(values),
    metadata: { tags: ['injected-parameters', ...publishTags] },
    execution_count: null,
    outputs: [],
  };
  // nbformat 4.5 requires cell ids; older minors forbid them.
  if (notebook.nbformat > 4 || notebook.nbformat_minor >= 5) injected.id = 'injected-parameters';
  return { ...notebook, cells: [...cells.slice(0, at + 1), injected, ...cells.slice(at + 1)] };
}
