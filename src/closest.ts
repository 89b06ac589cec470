/** "Did you mean" for misspelt keys and names. */

export function editDistance(a: string, b: string): number {
  const prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let diag = prev[0]!;
    prev[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const up = prev[j]!;
      prev[j] = Math.min(up + 1, prev[j - 1]! + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1));
      diag = up;
    }
  }
  return prev[b.length]!;
}

/** The candidate closest to `word`, when it is close enough to be a likely typo. */
export function closest(word: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const c of candidates) {
    const d = editDistance(word.toLowerCase(), c.toLowerCase());
    if (d < bestDistance) [best, bestDistance] = [c, d];
  }
  return best !== undefined && bestDistance <= Math.max(2, Math.floor(word.length / 3)) ? best : undefined;
}

/** `; did you mean `x`?` when a candidate is close enough, else ''. */
export function didYouMean(word: string, candidates: readonly string[]): string {
  const near = closest(word, candidates);
  return near === undefined ? '' : `; did you mean \`${near}\`?`;
}

/** `; did you mean `x`?`, else the whole list: `; expected one of: a, b, c` (`listIntro` rewords the list's lead-in). */
export function suggestion(word: string, candidates: readonly string[], listIntro = 'expected one of'): string {
  return didYouMean(word, candidates) || (candidates.length ? `; ${listIntro}: ${candidates.join(', ')}` : '');
}
