/**
 * Plotly figure JSON as the builders produce it: `{data, layout}`, plain
 * serialisable objects (no functions), so a figure can be stored, sent to a
 * notebook front end as `application/vnd.plotly.v1+json`, or embedded in HTML.
 */

export type Trace = { type: string; name?: string } & Record<string, unknown>;
export type Layout = Record<string, unknown>;

export interface Figure {
  data: Trace[];
  layout: Layout;
  /** Plotly `config` (display options); builders leave it out, renderers add their defaults. */
  config?: Record<string, unknown>;
}

/** Plotly's default qualitative palette (D3 category10): each category keeps one colour across a report's charts. */
export const PALETTE = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f', '#bcbd22', '#17becf'];

/**
 * Colour for each group. Groups named in `categories` get the colour of
 * their position there (so "baseline" is blue in every chart of a batch);
 * others follow in order of appearance.
 */
export function colourMap(groups: readonly string[], categories: readonly string[] = []): Map<string, string> {
  const order = [...categories, ...groups.filter((g) => !categories.includes(g))];
  return new Map(groups.map((g) => [g, PALETTE[order.indexOf(g) % PALETTE.length]!]));
}

/** Sorts groups by `categories` first, then by appearance. */
export function orderGroups<T>(groups: Map<string, T>, categories: readonly string[] = []): [string, T][] {
  const entries = [...groups.entries()];
  const rank = (key: string) => {
    const i = categories.indexOf(key);
    return i < 0 ? categories.length : i;
  };
  return entries.map((e, i) => ({ e, i })).sort((a, b) => rank(a.e[0]) - rank(b.e[0]) || a.i - b.i).map(({ e }) => e);
}

export interface CommonOptions {
  title?: string;
  xTitle?: string;
  yTitle?: string;
  /** Preferred order (and colours) of colour groups, e.g. the batch's policies in config order. */
  categories?: string[];
  height?: number;
  /** Keep rows marked `since_boot` (averages since boot, not samples): left out by default. */
  sinceBoot?: boolean;
}

export function baseLayout(options: { title?: string; xTitle?: string; yTitle?: string; legendTitle?: string; height?: number }): Layout {
  const layout: Layout = {
    font: { family: 'system-ui, -apple-system, "Segoe UI", Roboto, sans-serif', size: 13 },
    margin: { l: 70, r: 20, t: options.title ? 60 : 30, b: 60 },
    hovermode: 'closest',
    xaxis: { title: { text: options.xTitle ?? '' }, automargin: true, zeroline: false },
    yaxis: { title: { text: options.yTitle ?? '' }, automargin: true, zeroline: false },
    plot_bgcolor: '#ffffff',
    paper_bgcolor: '#ffffff',
  };
  (layout.xaxis as Record<string, unknown>).gridcolor = '#e5e5e5';
  (layout.yaxis as Record<string, unknown>).gridcolor = '#e5e5e5';
  if (options.title) layout.title = { text: options.title, x: 0.02, xanchor: 'left' };
  if (options.legendTitle) layout.legend = { title: { text: options.legendTitle } };
  if (options.height) layout.height = options.height;
  return layout;
}

/** JSON-safe copy: NaN/Infinity become null (JSON.stringify would do the same, silently). */
export function figureJson(figure: Figure): string {
  return JSON.stringify(figure, (_key, value) => {
    if (typeof value === 'bigint') return Number(value);
    if (typeof value === 'number' && !Number.isFinite(value)) return null;
    return value;
  });
}
