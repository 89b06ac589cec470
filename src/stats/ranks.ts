/** Mid-ranks (ties share the average rank, 1-based) and the tie counts Mann–Whitney's variance needs. */

export function midRanks(values: readonly number[]): { ranks: number[]; tieCounts: number[] } {
  const order = values.map((v, i) => [v, i] as const).sort((a, b) => a[0] - b[0]);
  const ranks = new Array<number>(values.length);
  const tieCounts: number[] = [];
  for (let i = 0; i < order.length; ) {
    let j = i;
    while (j + 1 < order.length && order[j + 1]![0] === order[i]![0]) j++;
    const rank = (i + j + 2) / 2;
    for (let k = i; k <= j; k++) ranks[order[k]![1]] = rank;
    tieCounts.push(j - i + 1);
    i = j + 1;
  }
  return { ranks, tieCounts };
}
