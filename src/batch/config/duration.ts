/**
 * Durations as users write them in configs: `10m`, `30s`, `1500ms`, `1h30m`,
 * `2.5s`, or a plain number of seconds. Shared by batch timeouts and Tune's
 * `reapply`/`window` settings.
 */

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
const PART = /(\d+(?:\.\d+)?|\.\d+)(ms|s|m|h|d)/gy;

/** Milliseconds for a duration, or throws an Error whose message says what is accepted. */
export function parseDuration(value: string | number): number {
  if (typeof value === 'number') {
    if (!Number.isFinite(value) || value < 0) throw new Error(`expected a duration ≥ 0, got ${value}`);
    return Math.round(value * 1000);
  }
  const text = value.trim();
  if (/^(\d+(\.\d+)?|\.\d+)$/.test(text)) return Math.round(Number(text) * 1000);
  let total = 0;
  let matched = 0;
  PART.lastIndex = 0;
  for (let m = PART.exec(text); m; m = PART.exec(text)) {
    total += Number(m[1]) * UNIT_MS[m[2]!]!;
    matched = PART.lastIndex;
  }
  if (text === '' || matched !== text.length) {
    throw new Error(`expected a duration like 10m, 30s, 1500ms, 1h30m or a number of seconds, got '${value}'`);
  }
  return Math.round(total);
}
