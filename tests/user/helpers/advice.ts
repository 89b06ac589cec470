/**
 * Every piece of advice the program prints must be true (issue 11 item 5: the
 * lock message advised a `--read-only` flag that does not exist). A message's
 * `--flag`s must exist on the verb that printed it or on a verb the message
 * names (`expert <verb …>`), and every verb it names must exist: each is
 * checked against the installed command's own `--help`.
 */
import assert from 'node:assert/strict';
import { expert } from './expert.js';
import type { Installed } from './install.js';

const helps = new Map<string, Promise<string>>();

/** `expert <words…> --help`, or null when there is no such verb. */
async function help(cli: Installed, cwd: string, words: readonly string[]): Promise<string | null> {
  const key = words.join(' ');
  if (!helps.has(key)) {
    helps.set(key, expert(cli, [...words, '--help'], { cwd }).then((ran) => (ran.code === 0 ? ran.stdout : null)));
  }
  return helps.get(key)!;
}

/** The verbs a message names as `expert a b`: the longest run of words that is a real command path. */
async function namedVerbs(cli: Installed, cwd: string, message: string): Promise<{ named: string; verb: string[] | null }[]> {
  const found: { named: string; verb: string[] | null }[] = [];
  for (const match of message.matchAll(/`expert ([a-z][a-z-]*(?: [a-z][a-z-]*)*)/g)) {
    const words = match[1]!.split(' ');
    let verb: string[] | null = null;
    for (let n = Math.min(words.length, 3); n >= 1; n--) {
      if ((await help(cli, cwd, words.slice(0, n))) !== null) {
        verb = words.slice(0, n);
        break;
      }
    }
    found.push({ named: match[0]!.slice(1), verb });
  }
  return found;
}

/**
 * Asserts that every flag in `stderr` (printed by `expert <verb…>`) exists,
 * and every `expert …` verb it mentions exists. Flags the user typed (`typed`,
 * the command line) may be quoted back without existing ("unknown option '--bogus'").
 */
export async function assertAdviceTrue(cli: Installed, cwd: string, verb: readonly string[], stderr: string, typed: readonly string[] = []): Promise<void> {
  const named = await namedVerbs(cli, cwd, stderr);
  for (const { named: text, verb: found } of named) assert.ok(found, `the message names ${text}, which is not a verb: ${stderr}`);
  const flags = new Set([...stderr.matchAll(/(?<![\w-])--[a-z][a-z0-9-]*/g)].map((m) => m[0]));
  flags.delete('--help');
  for (const arg of typed) flags.delete(arg.split('=')[0]!);
  for (const flag of flags) {
    const candidates = [verb, ...named.map((n) => n.verb!)];
    let exists = false;
    for (const words of candidates) {
      const text = await help(cli, cwd, words);
      if (text !== null && new RegExp(`(?<![\\w-])${flag}(?![\\w-])`).test(text)) exists = true;
    }
    assert.ok(exists, `the message advises ${flag}, which none of ${candidates.map((c) => `'expert ${c.join(' ')}'`).join(', ')} has:\n${stderr}`);
  }
}
