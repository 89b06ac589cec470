import { escapeHtml } from '../../src/viz/html.js';
import type { Magic, MagicRegistry } from './registry.js';

export function lsmagic(registry: MagicRegistry): Magic {
  return {
    name: 'lsmagic',
    kind: 'line',
    summary: 'list every magic with its summary',
    usage: '%lsmagic\n\n`%name?` shows a magic\'s usage.',
    async run(context) {
      const rows = registry.list().map((m) => {
        const form = m.kind === 'both' ? `%${m.name}, %%${m.name}` : m.kind === 'cell' ? `%%${m.name}` : `%${m.name}`;
        return [form, m.summary] as const;
      });
      context.display({
        'text/plain': rows.map(([form, summary]) => `${form.padEnd(22)} ${summary}`).join('\n'),
        'text/html': `<table>${rows.map(([f, s]) => `<tr><td><code>${escapeHtml(f)}</code></td><td>${escapeHtml(s)}</td></tr>`).join('')}</table>`,
      });
    },
  };
}
