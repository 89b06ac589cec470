/**
 * Command templates: `{name}` placeholders, `{{` and `}}` for literal braces.
 * Plan-time placeholders are substituted shell-quoted; run-time ones
 * (`{guest_pids}`, `{guest_tids}`) stay in the command for the runner, which
 * fills them per node after Tune's discovery (see fillRuntimePlaceholders).
 */
import { quote } from '../../shell.js';

/** Placeholders every command may use, filled when the plan is expanded. */
export const BUILTIN_PLACEHOLDERS = ['test', 'policy', 'rep', 'run', 'node', 'vm', 'host', 'batch'] as const;
/** Placeholders left in the command and filled by the runner per node (values come from RunHook.beforeRun). */
export const RUNTIME_PLACEHOLDERS = ['guest_pids', 'guest_tids'] as const;

const NAME = /^[A-Za-z_][A-Za-z0-9_-]*$/;

export function isPlaceholderName(name: string): boolean {
  return NAME.test(name);
}

export type TemplatePart = { text: string } | { name: string; offset: number };

/** Thrown by parseTemplate; `offset` is the index in the template where the problem is. */
export class TemplateError extends Error {
  constructor(
    message: string,
    readonly offset: number,
  ) {
    super(message);
    this.name = 'TemplateError';
  }
}

export function parseTemplate(template: string): TemplatePart[] {
  const parts: TemplatePart[] = [];
  let text = '';
  let i = 0;
  while (i < template.length) {
    const ch = template[i]!;
    if (ch === '{' && template[i + 1] === '{') {
      text += '{';
      i += 2;
    } else if (ch === '}' && template[i + 1] === '}') {
      text += '}';
      i += 2;
    } else if (ch === '{') {
      const close = template.indexOf('}', i + 1);
      const name = close < 0 ? '' : template.slice(i + 1, close);
      if (close < 0 || !NAME.test(name)) {
        throw new TemplateError(
          `'{' starts a placeholder like {size}; write {{ and }} for literal braces (e.g. \${{HOME}} or awk '{{print $1}}')`,
          i,
        );
      }
      if (text) parts.push({ text });
      text = '';
      parts.push({ name, offset: i });
      i = close + 1;
    } else if (ch === '}') {
      throw new TemplateError(`a lone '}' has no placeholder to close; write }} for a literal brace`, i);
    } else {
      text += ch;
      i += 1;
    }
  }
  if (text) parts.push({ text });
  return parts;
}

/** Placeholder names a template uses, each with the offset of its first use. */
export function templatePlaceholders(template: string): Array<{ name: string; offset: number }> {
  return parseTemplate(template).filter((p): p is { name: string; offset: number } => 'name' in p);
}

/**
 * Substitutes every placeholder in `values` (shell-quoted). Names in `keep`
 * are written back as `{name}` for the runner's pass; any other name throws.
 * `{{`/`}}` come out as single braces. (Caveat: a literal `{{guest_pids}}`
 * therefore becomes `{guest_pids}`, which the runner's pass would fill.)
 */
export function renderTemplate(template: string, values: Readonly<Record<string, string>>, keep: ReadonlySet<string> = new Set()): string {
  let out = '';
  for (const part of parseTemplate(template)) {
    if ('text' in part) out += part.text;
    else if (Object.hasOwn(values, part.name)) out += quote(values[part.name]!);
    else if (keep.has(part.name)) out += `{${part.name}}`;
    else throw new TemplateError(`unknown placeholder {${part.name}}`, part.offset);
  }
  return out;
}

/**
 * The runner's pass: replaces `{guest_pids}` / `{guest_tids}` in a planned
 * command with shell-quoted values (e.g. `1234,1240`). A run-time placeholder
 * the command uses but `values` lacks throws, naming it.
 */
export function fillRuntimePlaceholders(command: string, values: Readonly<Record<string, string>>): string {
  return command.replace(/\{(guest_pids|guest_tids)\}/g, (_whole, name: string) => {
    if (!Object.hasOwn(values, name)) throw new Error(`no value for run-time placeholder {${name}} (Tune discovery gave none for this node)`);
    return quote(values[name]!);
  });
}

/** Names of the run-time placeholders a planned command still contains. */
export function runtimePlaceholdersIn(command: string): string[] {
  return [...new Set([...command.matchAll(/\{(guest_pids|guest_tids)\}/g)].map((m) => m[1]!))];
}
