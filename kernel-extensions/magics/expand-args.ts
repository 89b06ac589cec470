/**
 * `{name}` in a magic's arguments (not its cell body) becomes the value of
 * the notebook variable `name`, as IPython does for `{var}` in magic lines:
 * `%testbed up --vms {guests}`, `%%batch --set tests.x.repeat={reps}`. This
 * is how a notebook's `parameters` cell reaches magics. Only `{identifier}`
 * with a defined variable is replaced, so YAML flow values in `--set`
 * (`{cpus: [0]}`) and batch placeholders the notebook does not define
 * (`{guest_pids}`) pass through unchanged. Strings go in as written; other
 * values as JSON (which `--set` reads as YAML). Pure.
 */
export function expandArgs(args: readonly string[], lookup: (name: string) => { value: unknown } | undefined): string[] {
  return args.map((arg) =>
    arg.replace(/\{([A-Za-z_$][\w$]*)\}/g, (whole, name: string) => {
      const found = lookup(name);
      if (!found) return whole;
      return typeof found.value === 'string' ? found.value : JSON.stringify(found.value);
    }),
  );
}
