/**
 * Numbers as charts and reports show them: values read from any column
 * (numbers, bigints, numeric text), and text rounded to significant digits
 * (a throughput of 123456.789 KiB/s reads "123,000" at 3 digits: the digits
 * past the run-to-run spread are noise). Pure.
 */

/** Numbers, bigints and numeric strings become numbers; anything else null. */
export function toNumber(value: unknown): number | null {
  if (typeof value === 'number') return Number.isFinite(value) ? value : null;
  if (typeof value === 'bigint') return Number(value);
  if (typeof value === 'string' && value.trim() !== '') {
    const n = Number(value);
    return Number.isFinite(n) ? n : null;
  }
  return null;
}

/** Keeps the pairs where both values are finite numbers. */
export function finitePairs(xs: readonly unknown[], ys: readonly unknown[]): { x: number[]; y: number[] } {
  const x: number[] = [];
  const y: number[] = [];
  const n = Math.min(xs.length, ys.length);
  for (let i = 0; i < n; i++) {
    const a = toNumber(xs[i]);
    const b = toNumber(ys[i]);
    if (a !== null && b !== null) {
      x.push(a);
      y.push(b);
    }
  }
  return { x, y };
}

/**
 * `value` to `digits` significant digits with thousands separators
 * (12,300; 0.0123; 1.23e-7 for tiny values). Non-finite → `n/a`.
 */
export function significant(value: number | null | undefined, digits = 3): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return 'n/a';
  if (value === 0) return '0';
  const abs = Math.abs(value);
  if (abs < 1e-4 || abs >= 1e15) return value.toExponential(digits - 1).replace(/\.?0+e/, 'e');
  const rounded = Number(value.toPrecision(digits));
  const decimals = Math.max(0, digits - 1 - Math.floor(Math.log10(Math.abs(rounded))));
  return rounded.toLocaleString('en-US', { minimumFractionDigits: 0, maximumFractionDigits: decimals });
}

/** A signed percentage to `digits` significant digits: `+12.3%`, `-4.1%`, `0%`. */
export function signedPercent(value: number | null | undefined, digits = 2): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return 'n/a';
  const text = significant(Math.abs(value), digits);
  return `${value > 0 ? '+' : value < 0 ? '-' : ''}${text}%`;
}

/** A p-value as it is usually printed: two significant digits, `< 0.0001` below that. */
export function formatP(p: number | null | undefined): string {
  if (p === null || p === undefined || !Number.isFinite(p)) return 'n/a';
  if (p < 1e-4) return '< 0.0001';
  return String(Number(p.toPrecision(2)));
}
