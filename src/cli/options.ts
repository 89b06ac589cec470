/** Commander helpers shared by the verb groups. */

/** For repeatable options (`--set a=1 --set b=2`, `-p x=1 -p y=2`): collects every value in order. */
export function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}
