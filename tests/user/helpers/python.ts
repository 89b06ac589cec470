/**
 * Reading what `expert` printed with real parsers: Debian's Python and its
 * `json` and `csv` modules, as a researcher's script would. Each reader
 * hands back what Python understood as JSON that JavaScript can hold exactly
 * (integers beyond 2^53 come back as {"int": "<digits>"}, each value with
 * the Python type it parsed as).
 */
import { spawnSync } from 'node:child_process';

const PYTHON = '/usr/bin/python3';

/** Runs `code` with `input` on stdin; what it prints to stdout, parsed as JSON. Throws with Python's traceback. */
export function python<T>(code: string, input: string): T {
  const result = spawnSync(PYTHON, ['-c', code], { input, encoding: 'utf8', maxBuffer: 1 << 30 });
  if (result.status !== 0) throw new Error(`python failed (exit ${result.status}): ${result.stderr.trim()}`);
  return JSON.parse(result.stdout) as T;
}

/** A value as Python parsed it: its type name and the value (big integers as their digits). */
export interface Parsed {
  type: 'int' | 'float' | 'str' | 'bool' | 'NoneType' | 'list' | 'dict';
  value: unknown;
}

const TYPED = `
def typed(v):
    if isinstance(v, bool): return {"type": "bool", "value": v}
    if isinstance(v, int): return {"type": "int", "value": v if abs(v) <= 2**53 else {"int": str(v)}}
    if isinstance(v, list): return {"type": "list", "value": [typed(x) for x in v]}
    if isinstance(v, dict): return {"type": "dict", "value": {k: typed(x) for k, x in v.items()}}
    return {"type": type(v).__name__, "value": v}
`;

/**
 * JSON text as Python's json module reads it, strictly: the bare NaN and
 * Infinity tokens Python would otherwise accept are refused, as in JSON itself.
 */
export function pyJson(text: string): Parsed {
  return python<Parsed>(
    `import json, sys
${TYPED}
def refuse(token): raise ValueError("not JSON: " + token)
print(json.dumps(typed(json.loads(sys.stdin.read(), parse_constant=refuse))))`,
    text,
  );
}

/** JSON text is one array of objects: the number of rows Python's json module reads (the cheap check for big outputs). */
export function pyJsonRowCount(text: string): number {
  return python<number>(
    `import json, sys
def refuse(token): raise ValueError("not JSON: " + token)
rows = json.loads(sys.stdin.read(), parse_constant=refuse)
assert isinstance(rows, list) and all(isinstance(r, dict) for r in rows), "not a list of objects"
print(len(rows))`,
    text,
  );
}

/** CSV text as Python's csv module reads it (RFC 4180: quoted fields may hold commas, quotes and newlines). */
export function pyCsv(text: string): string[][] {
  return python<string[][]>(
    `import csv, io, json, sys
print(json.dumps(list(csv.reader(io.StringIO(sys.stdin.read(), newline="")))))`,
    text,
  );
}
