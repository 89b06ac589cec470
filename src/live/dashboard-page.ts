/**
 * The dashboard's one page: offline (plotly.js comes from this server, from
 * the package's own copy; nothing from outside), charts of the monitors per
 * node and guest, run boundaries and policy changes marked, progress on top.
 * It listens to `/events` (server-sent events: a snapshot on every
 * (re)connect, then one update per tick) and extends its traces in place.
 */
import { escapeHtml } from '../viz/html.js';

export function dashboardPage(title: string, token: string): string {
  const t = encodeURIComponent(token);
  return `<!doctype html>
<html><head><meta charset="utf-8"><title>${escapeHtml(title)}</title>
<style>
body { font: 14px system-ui, sans-serif; margin: 1em; color: #222; }
#progress { font-weight: 600; margin-bottom: .3em; }
#state { color: #666; margin-bottom: 1em; }
#moves table { border-collapse: collapse; font-size: 13px; margin-bottom: 1em; }
#moves th, #moves td { border: 1px solid #ddd; padding: 2px 6px; text-align: left; }
#moves td.kept { color: #2a7a2a; font-weight: 600; } #moves td.undone { color: #b02a2a; }
.place { margin-top: 1.2em; }
.place h2 { font-size: 15px; margin: .2em 0; }
.chart { width: 100%; height: 260px; }
</style>
<script src="/plotly.min.js?token=${t}"></script>
</head><body>
<div id="progress">connecting…</div>
<div id="state"></div>
<div id="moves"></div>
<div id="charts"></div>
<script>
const GROUPS = [
  { id: 'activity', title: 'context switches (cs) and blocks out (bo) per second', names: ['vmstat_cs', 'vmstat_bo'] },
  { id: 'cpu', title: 'CPU % (us, sy, wa)', names: ['vmstat_us', 'vmstat_sy', 'vmstat_wa'] },
  { id: 'perf', title: 'perf counters', prefix: 'perf_' },
];
let traces = new Map();   // series key -> { div, index }
let runs = [];
const divs = new Map();   // place|group -> div

function groupOf(name) { return GROUPS.find((g) => g.names ? g.names.includes(name) : name.startsWith(g.prefix)); }
function place(s) { return s.guest ? s.host + '/' + s.guest : s.host; }

function chartFor(s) {
  const g = groupOf(s.name);
  const key = place(s) + '|' + g.id;
  let div = divs.get(key);
  if (div) return div;
  let section = document.getElementById('place-' + place(s));
  if (!section) {
    section = document.createElement('div');
    section.className = 'place';
    section.id = 'place-' + place(s);
    section.innerHTML = '<h2></h2>';
    section.firstChild.textContent = (s.guest ? 'guest ' : 'node ') + place(s);
    document.getElementById('charts').appendChild(section);
  }
  div = document.createElement('div');
  div.className = 'chart';
  div.dataset.group = g.id;
  section.appendChild(div);
  Plotly.newPlot(div, [], layout(g.title), { displaylogo: false, responsive: true });
  divs.set(key, div);
  return div;
}

function boundaries() {
  const shapes = [], annotations = [];
  let previous = null;
  for (const r of runs) {
    if (r.startedMs === null) continue;
    const change = previous !== null && r.policy !== previous;
    shapes.push({ type: 'line', xref: 'x', yref: 'paper', x0: r.startedMs, x1: r.startedMs, y0: 0, y1: 1,
      line: { width: change ? 2 : 1, dash: change ? 'solid' : 'dot', color: change ? '#d62728' : '#999' } });
    annotations.push({ x: r.startedMs, y: 1, xref: 'x', yref: 'paper', yanchor: 'bottom', showarrow: false,
      text: (change || previous === null ? (r.policy || '') + ' ' : '') + 'run ' + r.run, font: { size: 10, color: change ? '#d62728' : '#666' } });
    previous = r.policy;
  }
  return { shapes, annotations };
}

function layout(title) {
  // The legend at the chart's foot, below the date axis's two lines of labels (Plotly's default spot overlapped them).
  return Object.assign({ title: { text: title, font: { size: 13 } }, margin: { t: 40, r: 10, b: 70, l: 55 },
    xaxis: { type: 'date' }, legend: { orientation: 'h', xref: 'container', yref: 'container', x: 0.01, y: 0, yanchor: 'bottom' } }, boundaries());
}

function addSeries(s) {
  // An update may name a series the snapshot already drew (the first one after a (re)connect does): one trace each.
  if (traces.has(s.key)) return;
  const div = chartFor(s);
  Plotly.addTraces(div, { x: s.x.map((t) => new Date(t)), y: s.y.slice(), name: s.name.replace(/^(vmstat|perf)_/, ''), mode: 'lines+markers', marker: { size: 4 } });
  traces.set(s.key, { div, index: div.data.length - 1, last: s.x.length ? s.x[s.x.length - 1] : -Infinity });
}

function showStatus(status) {
  if (!status) return;
  const p = status.progress;
  const eta = p.etaSeconds === null ? '?' : Math.round(p.etaSeconds) + ' s';
  document.getElementById('progress').textContent = 'batch ' + status.batchId + " '" + status.name + "' " + status.status +
    ' · runs ' + p.done + '/' + p.total + ' done, ' + p.running + ' running, ' + p.left + ' left · ETA ' + eta + ' · policy ' + (p.policy || '-');
  document.getElementById('state').textContent = status.lines + ' lines · processes ' +
    Object.entries(status.states).map(([k, v]) => v + ' ' + k).join(', ');
  document.title = 'ExPerT · batch ' + status.batchId + ' ' + status.status;
  showMoves(status.moves);
}

// The online optimizer's latest moves (dynamic_move), newest last: kept or undone and the objective's change.
function showMoves(moves) {
  const box = document.getElementById('moves');
  if (!moves || moves.total === 0) { box.textContent = ''; return; }
  const head = document.createElement('div');
  head.className = 'moves-head';
  head.textContent = 'online optimizer: ' + moves.total + ' move' + (moves.total === 1 ? '' : 's') + ' so far, ' + moves.kept + ' kept' +
    (moves.total > moves.latest.length ? ' (the latest ' + moves.latest.length + ')' : '');
  const table = document.createElement('table');
  const row = (cells, tag, cls) => {
    const tr = document.createElement('tr');
    cells.forEach((c, i) => { const td = document.createElement(tag); td.textContent = c; if (cls && cls[i]) td.className = cls[i]; tr.appendChild(td); });
    table.appendChild(tr);
  };
  row(['time', 'run', 'guest', 'action', 'settings', 'objective', 'change', ''], 'th');
  const fmt = (v) => v === null ? '-' : Math.abs(v) >= 1e4 ? v.toPrecision(3) : String(Math.round(v * 100) / 100);
  for (const m of moves.latest) {
    const change = m.objectiveBefore && m.objectiveAfter !== null ? (100 * (m.objectiveAfter - m.objectiveBefore)) / m.objectiveBefore : null;
    row([new Date(m.atMs).toLocaleTimeString(), m.run === null ? '' : String(m.run), m.node + '/' + m.guest, m.action, m.before + ' → ' + m.after,
      (m.objective || '') + ' ' + fmt(m.objectiveBefore) + ' → ' + fmt(m.objectiveAfter),
      change === null ? '' : (change > 0 ? '+' : '') + change.toFixed(1) + '%', m.kept ? 'kept' : m.objectiveAfter === null ? 'cut off' : 'undone'], 'td', [, , , , , , , m.kept ? 'kept' : 'undone']);
  }
  box.replaceChildren(head, table);
}

function relayout() {
  const b = boundaries();
  for (const div of divs.values()) Plotly.relayout(div, { shapes: b.shapes, annotations: b.annotations });
}

function snapshot(data) {
  for (const div of divs.values()) Plotly.purge(div);
  document.getElementById('charts').innerHTML = '';
  divs.clear();
  traces = new Map();
  runs = data.runs;
  for (const s of data.series) addSeries(s);
  relayout();
  showStatus(data.status);
}

function update(data) {
  const known = runs.map((r) => r.run + ':' + r.startedMs).join();
  runs = data.runs;
  for (const s of data.series) addSeries(Object.assign({ x: [], y: [] }, s));
  const byDiv = new Map();
  for (const [key, t, v] of data.points) {
    const trace = traces.get(key);
    // A point the snapshot already had (sent again by the first update after a reconnect) is drawn once.
    if (!trace || t <= trace.last) continue;
    trace.last = t;
    let group = byDiv.get(trace.div);
    if (!group) byDiv.set(trace.div, (group = new Map()));
    let xy = group.get(trace.index);
    if (!xy) group.set(trace.index, (xy = { x: [], y: [] }));
    xy.x.push(new Date(t));
    xy.y.push(v);
  }
  for (const [div, group] of byDiv) {
    const indexes = [...group.keys()];
    Plotly.extendTraces(div, { x: indexes.map((i) => group.get(i).x), y: indexes.map((i) => group.get(i).y) }, indexes);
  }
  if (runs.map((r) => r.run + ':' + r.startedMs).join() !== known) relayout();
  showStatus(data.status);
}

const events = new EventSource('/events?token=${t}');
events.addEventListener('snapshot', (e) => snapshot(JSON.parse(e.data)));
events.addEventListener('update', (e) => update(JSON.parse(e.data)));
events.onerror = () => { document.getElementById('progress').textContent += ' (reconnecting…)'; };
</script>
</body></html>
`;
}
