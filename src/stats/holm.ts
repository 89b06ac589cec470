/**
 * Holm's step-down correction for m p-values (several policies against one
 * baseline): sort ascending, multiply the i-th smallest by (m − i + 1), keep
 * the running maximum, cap at 1. It controls the family-wise error rate
 * without assuming independence. NaN p-values (n too small) stay NaN and do
 * not count in m.
 */
export function holm(pValues: readonly number[]): number[] {
  const present = pValues.map((p, i) => [p, i] as const).filter(([p]) => Number.isFinite(p)).sort((a, b) => a[0] - b[0]);
  const m = present.length;
  const adjusted = pValues.map(() => Number.NaN);
  let running = 0;
  present.forEach(([p, index], i) => {
    running = Math.max(running, Math.min(1, (m - i) * p));
    adjusted[index] = running;
  });
  return adjusted;
}
