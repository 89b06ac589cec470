/**
 * Where config values came from, so every error can say file:line:column.
 * A config is always held as a `yaml` Document: parsed from text (nodes
 * carry ranges) or built from a TypeScript object (no ranges: errors then
 * point at the object's name and spell the key path). `--set` overrides are
 * recorded with their own position, so errors in a value given on the
 * command line name that `--set`.
 */
import { Document, isAlias, isMap, isScalar, isSeq, LineCounter, parseDocument, Scalar, type Node } from 'yaml';
import { ConfigError, type SourcePosition } from '../../errors.js';

export type PathSegment = string | number;
export type ConfigPath = readonly PathSegment[];

export interface Override {
  path: ConfigPath;
  position: SourcePosition;
}

export class ConfigSource {
  readonly overrides: Override[] = [];
  private constructor(
    readonly file: string,
    readonly doc: Document,
    private readonly lines?: LineCounter,
    private readonly text?: string,
  ) {}

  /** Parses YAML text; broken YAML is a ConfigError at yaml's own position. */
  static fromText(text: string, file: string): ConfigSource {
    const lineCounter = new LineCounter();
    const doc = parseDocument(text, { lineCounter, prettyErrors: false, merge: true, uniqueKeys: true, keepSourceTokens: false });
    const problem = doc.errors[0];
    if (problem) {
      const { line, col } = lineCounter.linePos(problem.pos[0]);
      throw new ConfigError({ file, line, column: col }, `broken YAML: ${firstLine(problem.message)}`);
    }
    return new ConfigSource(file, doc, lineCounter, text);
  }

  static fromObject(value: unknown, file: string): ConfigSource {
    return new ConfigSource(file, new Document(value));
  }

  toJS(): unknown {
    return this.doc.toJS({ maxAliasCount: 1000 });
  }

  /** The position of the value (or, with part 'key', of the key) at `path`; the nearest known ancestor when the path is not in the text. */
  locate(path: ConfigPath, part: 'key' | 'value' = 'value'): SourcePosition {
    const override = this.overrideFor(path);
    if (override) return override.position;
    let best = this.positionOf(this.doc.contents);
    let node: unknown = this.doc.contents;
    for (let i = 0; i < path.length; i++) {
      const segment = path[i]!;
      if (isAlias(node)) node = node.resolve(this.doc);
      if (isMap(node)) {
        const pair = node.items.find((p) => keyText(p.key) === String(segment));
        if (!pair) break;
        if (i === path.length - 1 && part === 'key') return this.positionOf(pair.key as Node) ?? best ?? this.start();
        node = pair.value;
      } else if (isSeq(node) && typeof segment === 'number') {
        node = node.items[segment];
      } else break;
      best = this.positionOf(node as Node) ?? best;
    }
    return best ?? this.start();
  }

  /**
   * The position of character `offset` of the string at `path`, exact for
   * plain, quoted (without escapes) and block scalars; otherwise the string's start.
   */
  locateInString(path: ConfigPath, offset: number): SourcePosition {
    const start = this.locate(path);
    const node = this.nodeAt(path);
    if (this.overrideFor(path) || !this.text || !this.lines || !isScalar(node) || !node.range || typeof node.value !== 'string') return start;
    const value = node.value;
    const source = this.text.slice(node.range[0], node.range[1]);
    const at = (index: number) => {
      const { line, col } = this.lines!.linePos(node.range![0] + index);
      return { file: this.file, line, column: col };
    };
    if (node.type === Scalar.PLAIN && source === value) return at(offset);
    if ((node.type === Scalar.QUOTE_DOUBLE || node.type === Scalar.QUOTE_SINGLE) && source.slice(1, -1) === value) return at(offset + 1);
    if (node.type === Scalar.BLOCK_LITERAL) {
      // Line k of the value is source line k+1 (after the `|` header), indented.
      const valueLines = value.split('\n');
      const before = value.slice(0, offset).split('\n');
      const lineIndex = before.length - 1;
      const sourceLines = source.split('\n');
      const sourceLine = sourceLines[lineIndex + 1];
      const valueLine = valueLines[lineIndex];
      if (sourceLine !== undefined && valueLine !== undefined && sourceLine.endsWith(valueLine)) {
        const indent = sourceLine.length - valueLine.length;
        const lineStart = sourceLines.slice(0, lineIndex + 1).reduce((n, l) => n + l.length + 1, 0);
        return at(lineStart + indent + before[lineIndex]!.length);
      }
    }
    return start;
  }

  /**
   * The text a number was written as (`1.10`, `010`, `1e3`), when `path` is
   * a plain scalar number in the YAML text; parameter values keep it, since
   * `1.10` means the text "1.10" to the command, not 1.1.
   */
  numberText(path: ConfigPath): string | undefined {
    if (this.overrideFor(path)) return undefined;
    const node = this.nodeAt(path);
    if (isScalar(node) && node.type === Scalar.PLAIN && typeof node.value === 'number' && typeof node.source === 'string') return node.source;
    return undefined;
  }

  error(path: ConfigPath, problem: string, part: 'key' | 'value' = 'value'): ConfigError {
    return new ConfigError(this.locate(path, part), withPath(path, problem));
  }

  errorInString(path: ConfigPath, offset: number, problem: string): ConfigError {
    return new ConfigError(this.locateInString(path, offset), withPath(path, problem));
  }

  private nodeAt(path: ConfigPath): unknown {
    let node: unknown = this.doc.contents;
    for (const segment of path) {
      if (isAlias(node)) node = node.resolve(this.doc);
      if (isMap(node)) node = node.items.find((p) => keyText(p.key) === String(segment))?.value;
      else if (isSeq(node) && typeof segment === 'number') node = node.items[segment];
      else return undefined;
    }
    return node;
  }

  private overrideFor(path: ConfigPath): Override | undefined {
    let found: Override | undefined;
    for (const o of this.overrides) {
      if (o.path.length <= path.length && o.path.every((s, i) => String(s) === String(path[i])) && (!found || o.path.length >= found.path.length)) found = o;
    }
    return found;
  }

  private positionOf(node: Node | null | undefined): SourcePosition | undefined {
    if (!node || !node.range || !this.lines) return undefined;
    const { line, col } = this.lines.linePos(node.range[0]);
    return { file: this.file, line, column: col };
  }

  private start(): SourcePosition {
    return { file: this.file, line: 1, column: 1 };
  }
}

/** `tests[0].params.size`, the path as users read it. */
export function pathText(path: ConfigPath): string {
  let out = '';
  for (const s of path) out += typeof s === 'number' ? `[${s}]` : out ? `.${s}` : s;
  return out;
}

function withPath(path: ConfigPath, problem: string): string {
  return path.length ? `${pathText(path)}: ${problem}` : problem;
}

function keyText(key: unknown): string | undefined {
  if (isScalar(key)) return String(key.value);
  return key === null || key === undefined ? undefined : String(key);
}

function firstLine(message: string): string {
  return message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '');
}
