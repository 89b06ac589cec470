/**
 * Query results as an HTML table for the notebook: at most `limit` rows
 * shown, the full row count always said, every value escaped.
 */
import { cellText } from '../src/cli/format.js';
import { plural } from '../src/output/print.js';
import { escapeHtml } from '../src/viz/html.js';

/** `total`: the result's row count when `rows` holds only the first rows of it. */
export function htmlTable(columns: readonly string[], rows: readonly unknown[][], limit = 50, total = rows.length): string {
  const shown = rows.slice(0, limit);
  const head = columns.map((c) => `<th>${escapeHtml(c)}</th>`).join('');
  const body = shown
    .map((row) => `<tr>${row.map((v) => `<td>${escapeHtml(cellText(v))}</td>`).join('')}</tr>`)
    .join('\n');
  const count = total > shown.length ? `${shown.length} of ${total} rows shown` : plural(total, 'row');
  return `<table class="expert-table"><thead><tr>${head}</tr></thead><tbody>\n${body}\n</tbody></table><p><small>${count}</small></p>`;
}

export function textTable(columns: readonly string[], rows: readonly unknown[][], limit = 50, total = rows.length): string {
  const shown = rows.slice(0, limit).map((r) => r.map(cellText).join('\t'));
  return [columns.join('\t'), ...shown, `(${plural(total, 'row')})`].join('\n');
}
