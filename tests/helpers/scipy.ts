/**
 * SciPy as the reference for the statistics tests: runs Debian's
 * /usr/bin/python3 (python3-scipy) on a script that reads the test's input as
 * JSON from stdin (`data`) and prints one JSON value (`print(json.dumps(...))`).
 * NaN and infinities travel as null.
 */
import { execFileSync } from 'node:child_process';

const PRELUDE = `
import json, sys, math
import numpy as np
from scipy import stats
data = json.load(sys.stdin)
def clean(v):
    if isinstance(v, dict): return {k: clean(x) for k, x in v.items()}
    if isinstance(v, (list, tuple, np.ndarray)): return [clean(x) for x in v]
    if isinstance(v, (np.floating, float)): return None if not math.isfinite(float(v)) else float(v)
    if isinstance(v, np.integer): return int(v)
    if isinstance(v, np.bool_): return bool(v)
    return v
def out(v): print(json.dumps(clean(v)))
`;

export function scipy<T = unknown>(script: string, data: unknown): T {
  const stdout = execFileSync('/usr/bin/python3', ['-c', PRELUDE + script], {
    input: JSON.stringify(data),
    encoding: 'utf8',
    maxBuffer: 64 << 20,
    env: { ...process.env, PYTHONWARNINGS: 'ignore' },
  });
  return JSON.parse(stdout) as T;
}

/** |a − b| ≤ tol·max(1, |b|), NaN (null) matching NaN. */
export function close(actual: number, expected: number | null, tol = 1e-6): boolean {
  if (expected === null) return !Number.isFinite(actual);
  return Math.abs(actual - expected) <= tol * Math.max(1, Math.abs(expected));
}
