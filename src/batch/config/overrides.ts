/**
 * `--set key=value`: dotted paths into the config, applied to the YAML
 * document before validation. List items are addressed by index or by their
 * `name` (`tests.iozone-write.params.size=4m`). The value is parsed as YAML
 * (`4m`, `3`, `[1m, 2m]`, `{cpus: [0]}`). Errors name the --set.
 */
import { isAlias, isMap, isScalar, isSeq, parse as parseYaml } from 'yaml';
import { ConfigError, type SourcePosition } from '../../errors.js';
import { suggestion } from '../../closest.js';
import type { ConfigSource, PathSegment } from './source.js';

export interface ParsedSet {
  expression: string;
  path: string[];
  value: unknown;
  /** Where the value starts, for errors about it. */
  position: SourcePosition;
}

export function parseSet(expression: string): ParsedSet {
  const equals = expression.indexOf('=');
  const at = (column: number): SourcePosition => ({ file: `--set ${expression}`, line: 1, column });
  if (equals < 1) throw new ConfigError(at(1), 'expected key=value, e.g. tests.0.repeat=1 or tests.iozone-write.params.size=4m');
  const path = expression.slice(0, equals).split('.');
  if (path.some((s) => s === '')) throw new ConfigError(at(1), `empty segment in the key path '${expression.slice(0, equals)}'`);
  const text = expression.slice(equals + 1);
  let value: unknown = '';
  if (text.trim() !== '') {
    try {
      value = parseYaml(text, { prettyErrors: false });
    } catch (e) {
      throw new ConfigError(at(equals + 2), `the value is not valid YAML: ${(e as Error).message.split('\n')[0]}`);
    }
  }
  return { expression, path, value, position: at(equals + 2) };
}

/**
 * Applies one --set to `source`. Returns false (changing nothing) when the
 * path goes through `machines` while that is a file reference: the caller
 * then applies it to the machine map file with the rest of the path.
 */
export function applySet(source: ConfigSource, set: ParsedSet, options: { stopAtString?: string } = {}): boolean {
  const doc = source.doc;
  const fail = (problem: string) => new ConfigError({ ...set.position, column: 1 }, problem);
  const resolved: PathSegment[] = [];
  let node: unknown = doc.contents;
  for (let i = 0; i < set.path.length; i++) {
    const segment = set.path[i]!;
    if (isAlias(node)) node = node.resolve(doc);
    const shown = set.path.slice(0, i).join('.') || '(top level)';
    if (isSeq(node)) {
      const names = node.items.map((item) => (isMap(item) ? item.get('name') : undefined)).filter((n): n is string => typeof n === 'string');
      const index = /^\d+$/.test(segment)
        ? Number(segment)
        : node.items.findIndex((item) => isMap(item) && item.get('name') === segment);
      if (index < 0 || index >= node.items.length) {
        const range = node.items.length ? `use an index 0..${node.items.length - 1} or an item's name` : 'the list is empty';
        const hint = names.length ? suggestion(segment, names, 'items named') : '';
        throw fail(`${shown} has no item \`${segment}\` (${range})${hint}`);
      }
      resolved.push(index);
      node = node.items[index];
    } else if (isMap(node)) {
      resolved.push(segment);
      node = node.get(segment, true);
    } else if (node === undefined || node === null || (isScalar(node) && node.value === null)) {
      // Missing or empty: the rest of the path is created as mappings.
      resolved.push(...set.path.slice(i));
      break;
    } else if (isScalar(node) && typeof node.value === 'string' && options.stopAtString === set.path[0] && i === 1) {
      return false;
    } else {
      const what = isScalar(node) ? `the value ${JSON.stringify(node.value)}` : 'not a mapping or list';
      throw fail(`${shown} is ${what}, so it has no key \`${segment}\``);
    }
  }
  setAt(source, resolved, set.value);
  source.overrides.push({ path: resolved, position: set.position });
  return true;
}

function setAt(source: ConfigSource, path: PathSegment[], value: unknown): void {
  const doc = source.doc;
  // Find the deepest existing collection; build the rest as nested mappings.
  let depth = path.length - 1;
  while (depth > 0) {
    const parent = doc.getIn(path.slice(0, depth), true);
    if (isMap(parent) || isSeq(parent)) break;
    depth -= 1;
  }
  let nested: unknown = value;
  for (let k = path.length - 1; k > depth; k--) nested = { [String(path[k])]: nested };
  const target = path.slice(0, depth + 1);
  if (doc.contents === null || (isScalar(doc.contents) && doc.contents.value === null)) {
    doc.contents = doc.createNode({}) as unknown as typeof doc.contents;
  }
  doc.setIn(target, doc.createNode(nested));
}
