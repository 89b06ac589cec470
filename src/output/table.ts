/**
 * A text table that fits the terminal: every column but the last is narrowed
 * (the middle of long cells elided with `…`) until the row fits the width;
 * when even narrow columns do not fit, columns are left out, empty ones first,
 * then from the right (the footer names them); the last column is never cut, so the value a user
 * asked for last (a command, a label) is always whole. Numbers align right.
 * Pure: text in, lines out. Loops instead of spreads, so a table of a million
 * rows neither overflows the stack nor copies itself.
 */
export interface TableLayoutOptions {
  /** Terminal width; undefined = no limit (each column but the last still capped at `maxCellWidth`). */
  width?: number;
  /** Widest a column but the last may be when there is no width limit. */
  maxCellWidth?: number;
  /** Narrowest a column is made before columns are left out. */
  minCellWidth?: number;
  /** Columns that are right-aligned (numbers). */
  rightAligned?: readonly boolean[];
}

export interface TableLayout {
  /** Indices of the columns shown, in order. */
  shown: number[];
  widths: number[];
  dropped: number[];
  rightAligned: boolean[];
}

const GAP = 2;

export function planTable(header: readonly string[], sample: readonly (readonly string[])[], options: TableLayoutOptions = {}): TableLayout {
  const n = header.length;
  const natural = header.map((h) => h.length);
  for (const row of sample) {
    for (let i = 0; i < n; i++) {
      const len = row[i]?.length ?? 0;
      if (len > natural[i]!) natural[i] = len;
    }
  }
  const rightAligned = header.map((_, i) => options.rightAligned?.[i] ?? false);
  const minWidth = options.minCellWidth ?? 8;
  const floor = (i: number) => Math.min(natural[i]!, Math.max(minWidth, Math.min(header[i]!.length, 16)));
  const all = header.map((_, i) => i);
  if (n === 0) return { shown: [], widths: [], dropped: [], rightAligned };

  if (options.width === undefined || !Number.isFinite(options.width)) {
    const cap = options.maxCellWidth ?? 60;
    return { shown: all, widths: natural.map((w, i) => (i === n - 1 ? w : Math.min(w, Math.max(cap, header[i]!.length)))), dropped: [], rightAligned };
  }

  const width = options.width;
  const shown = all.slice();
  const dropped: number[] = [];
  for (;;) {
    const last = shown[shown.length - 1]!;
    const others = shown.slice(0, -1);
    const gaps = GAP * (shown.length - 1);
    // The last column is printed whole (a long one wraps); for fitting the others it claims up to 40% of the width.
    const othersNatural = others.reduce((s, i) => s + natural[i]!, 0);
    const lastNeed = Math.min(natural[last]!, Math.max(header[last]!.length, Math.floor(width * 0.4), width - gaps - othersNatural));
    const budget = width - gaps - lastNeed;
    const minimum = others.reduce((s, i) => s + floor(i), 0);
    if (budget >= minimum || others.length === 0) {
      const widths = new Array<number>(n).fill(0);
      // The rule under the last column spans what fits; its cells are printed whole regardless.
      widths[last] = lastNeed;
      const cap = waterLevel(others.map((i) => natural[i]!), others.map(floor), Math.max(budget, minimum));
      for (const i of others) widths[i] = Math.max(floor(i), Math.min(natural[i]!, cap));
      return { shown, widths: shown.map((i) => widths[i]!), dropped: dropped.sort((a, b) => a - b), rightAligned };
    }
    // Leave out a column with nothing in it first (rightmost first), then the rightmost before the last one.
    const emptyAt = findLastIndex(shown.slice(0, -1), (i) => sample.every((row) => !row[i]));
    dropped.push(shown.splice(emptyAt >= 0 ? emptyAt : shown.length - 2, 1)[0]!);
  }
}

function findLastIndex<T>(items: readonly T[], test: (item: T) => boolean): number {
  for (let i = items.length - 1; i >= 0; i--) if (test(items[i]!)) return i;
  return -1;
}

/** The largest cap c with sum(max(floor, min(natural, c))) <= budget. */
function waterLevel(natural: number[], floors: number[], budget: number): number {
  const used = (cap: number) => natural.reduce((s, w, i) => s + Math.max(floors[i]!, Math.min(w, cap)), 0);
  let lo = 0;
  let hi = natural.reduce((m, w) => Math.max(m, w), 0);
  if (used(hi) <= budget) return hi;
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    if (used(mid) <= budget) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

/** `text` in `width` characters: the start and the end kept, the middle elided. */
export function elide(text: string, width: number): string {
  if (text.length <= width) return text;
  if (width <= 1) return '…'.slice(0, width);
  const head = Math.ceil((width - 1) / 2);
  const tail = width - 1 - head;
  return text.slice(0, head) + '…' + (tail > 0 ? text.slice(text.length - tail) : '');
}

export function tableLine(cells: readonly string[], layout: TableLayout): string {
  const parts: string[] = [];
  layout.shown.forEach((column, k) => {
    const w = layout.widths[k]!;
    const isLast = k === layout.shown.length - 1;
    const text = isLast ? cells[column] ?? '' : elide(cells[column] ?? '', w);
    parts.push(layout.rightAligned[column] ? text.padStart(w) : isLast ? text : text.padEnd(w));
  });
  return parts.join(' '.repeat(GAP)).trimEnd();
}

export function ruleLine(layout: TableLayout): string {
  return layout.widths.map((w) => '─'.repeat(Math.max(1, w))).join(' '.repeat(GAP));
}
