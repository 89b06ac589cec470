/**
 * Which rows of a monitor's output are averages since boot rather than
 * samples of an interval, read off the tool's invocation (pure). Checked
 * against the real tools (procps vmstat, sysstat 12):
 *  - vmstat prints its first row since boot, unless `-y` / `--no-first`;
 *  - iostat prints its first report since boot, unless `-y`;
 *  - mpstat, pidstat and sar sample an interval first and print after it, so
 *    with an interval none of their rows is since boot; mpstat and pidstat
 *    with no interval (or 0), and `sar 0`, print one report since boot.
 *    (sar with no interval reads the day's data file: intervals again.)
 * Parsers mark such rows `since_boot`; summaries and charts leave them out.
 */

/** `first`: the first row / report of the process; `all`: every row; `none`. */
export type SinceBootRows = 'first' | 'all' | 'none';

/** A tool's options: short letters taking an argument, and long names (with `=` or not). */
interface OptionGrammar {
  shortWithValue: string;
  /** Short options whose argument is optional (`pidstat -U [user]`, `iostat -p [dev]`): a following word is theirs only if it does not look like a number. */
  shortOptionalValue?: string;
  longWithValue?: readonly string[];
  /** An option after which every word belongs to another program (`pidstat -e prog args`). */
  rest?: string;
}

const GRAMMARS: Record<string, OptionGrammar> = {
  vmstat: { shortWithValue: 'pS', longWithValue: ['--partition', '--unit'] },
  iostat: { shortWithValue: 'gjof', shortOptionalValue: 'p' },
  mpstat: { shortWithValue: 'INPo' },
  pidstat: { shortWithValue: 'CGpT', shortOptionalValue: 'U', rest: '-e' },
  sar: { shortWithValue: 'imnPj', shortOptionalValue: 'fFIoqruse' },
};

interface Invocation {
  /** Short option letters given (clusters unfolded) and long options (`--name`, value cut off). */
  flags: Set<string>;
  /** Words that are not options nor option values. */
  positional: string[];
}

/** The tool's options and positional words, as its getopt would see them. */
export function invocation(words: readonly string[]): Invocation | undefined {
  const grammar = GRAMMARS[words[0] ?? ''];
  if (!grammar) return undefined;
  const flags = new Set<string>();
  const positional: string[] = [];
  for (let i = 1; i < words.length; i++) {
    const word = words[i]!;
    if (grammar.rest && word === grammar.rest) break;
    if (word === '--') {
      positional.push(...words.slice(i + 1));
      break;
    }
    if (word.startsWith('--')) {
      const name = word.split('=')[0]!;
      flags.add(name);
      if (!word.includes('=') && grammar.longWithValue?.includes(name)) i++;
      continue;
    }
    if (word.startsWith('-') && word.length > 1 && !/^-\d/.test(word)) {
      for (let k = 1; k < word.length; k++) {
        const letter = word[k]!;
        flags.add(`-${letter}`);
        const rest = k + 1 < word.length;
        if (grammar.shortWithValue.includes(letter)) {
          if (!rest) i++;
          break;
        }
        if (grammar.shortOptionalValue?.includes(letter)) {
          if (!rest && words[i + 1] !== undefined && !words[i + 1]!.startsWith('-') && !/^\d+$/.test(words[i + 1]!)) i++;
          break;
        }
      }
      continue;
    }
    positional.push(word);
  }
  return { flags, positional };
}

/** The interval argument (first positional whole number), if any. */
function interval(inv: Invocation): number | undefined {
  const word = inv.positional.find((w) => /^\d+$/.test(w));
  return word === undefined ? undefined : Number(word);
}

/**
 * Which rows are since boot, for the program words of a process (`programWords`).
 * A command the tool's own words cannot be read from (wrapped in something
 * Mine does not see through) gets the tool's default: vmstat's and iostat's
 * first report is since boot; mpstat/pidstat/sar rows are intervals.
 */
export function sinceBootRows(words: readonly string[]): SinceBootRows {
  const tool = words[0] ?? '';
  const inv = invocation(words);
  switch (tool) {
    case 'vmstat':
      return inv && (inv.flags.has('-y') || inv.flags.has('--no-first')) ? 'none' : 'first';
    case 'iostat':
      return inv?.flags.has('-y') ? 'none' : 'first';
    case 'mpstat':
    case 'pidstat': {
      if (!inv) return 'none';
      const every = interval(inv);
      return every === undefined || every === 0 ? 'all' : 'none';
    }
    case 'sar':
      return inv && interval(inv) === 0 && !inv.flags.has('-f') ? 'all' : 'none';
    default:
      return 'none';
  }
}

/**
 * The post-insert statement that marks since-boot rows of the processes just
 * parsed: `_mine_todo.since_boot` holds each process's `SinceBootRows` (the
 * engine fills it); `firstRows` selects (process_id, seq) of each process's
 * first row or report among `table`'s rows that parsed.
 */
export function markSinceBootSql(table: string, firstRows: string): string {
  return `UPDATE ${table} AS t SET since_boot = true
    FROM _mine_todo m
    WHERE t.process_id = m.process_id AND NOT t.parse_error
      AND (m.since_boot = 'all' OR (m.since_boot = 'first' AND (t.process_id, t.seq) IN (${firstRows})))`;
}
