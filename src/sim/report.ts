/**
 * A self-contained HTML report of simulator runs: inline SVG charts (no scripts, no CDN) and a table
 * of every run.
 *
 * ```ts
 * writeFileSync('docs/sim-report.html', renderReport(results));
 * ```
 */
import type { SimResult } from './simulator.ts';

const COLORS: Record<string, string> = { seed: '#d62728', bounded: '#1f77b4', kademlia: '#2ca02c' };
const FALLBACK = ['#9467bd', '#8c564b', '#e377c2', '#7f7f7f', '#bcbd22', '#17becf'];

const esc = (s: unknown): string =>
  String(s).replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c] as string);

/** Series label of a run: strategy, plus radii for bounded. */
export function seriesLabel(r: SimResult): string {
  if (r.strategy === 'bounded') return `bounded R=${r.referralRadius} S=${r.searchRadius}`;
  return r.strategy;
}

function colorOf(label: string, index: number): string {
  return (
    COLORS[label] ?? (label.startsWith('bounded') && index === 0 ? COLORS.bounded : FALLBACK[index % FALLBACK.length])
  );
}

interface Series {
  label: string;
  points: [number, number][];
}

const fmt = (v: number): string =>
  Math.abs(v) >= 1e6
    ? `${(v / 1e6).toFixed(1)}M`
    : Math.abs(v) >= 1e4
      ? `${(v / 1e3).toFixed(0)}k`
      : `${+v.toFixed(2)}`;

/** A line chart (points joined per series); log scales optional. */
export function lineChart(
  title: string,
  xLabel: string,
  yLabel: string,
  series: Series[],
  opts: { logX?: boolean; logY?: boolean } = {},
): string {
  const W = 560;
  const H = 320;
  const m = { l: 64, r: 16, t: 32, b: 48 };
  const pts = series.flatMap((s) => s.points);
  if (pts.length === 0) return `<figure><figcaption>${esc(title)}: no data</figcaption></figure>`;
  const tx = (v: number): number => (opts.logX ? Math.log10(Math.max(v, 1e-9)) : v);
  const ty = (v: number): number => (opts.logY ? Math.log10(Math.max(v, 1e-9)) : v);
  let x0 = Math.min(...pts.map((p) => tx(p[0])));
  let x1 = Math.max(...pts.map((p) => tx(p[0])));
  let y0 = opts.logY ? Math.min(...pts.map((p) => ty(p[1]))) : Math.min(0, ...pts.map((p) => p[1]));
  let y1 = Math.max(...pts.map((p) => ty(p[1])));
  if (x0 === x1) [x0, x1] = [x0 - 1, x1 + 1];
  if (y0 === y1) [y0, y1] = [y0 - 1, y1 + 1];
  const px = (v: number): number => m.l + ((tx(v) - x0) / (x1 - x0)) * (W - m.l - m.r);
  const py = (v: number): number => H - m.b - ((ty(v) - y0) / (y1 - y0)) * (H - m.t - m.b);
  const ticks = (a: number, b: number, log?: boolean): number[] =>
    Array.from({ length: 5 }, (_, i) => a + ((b - a) * i) / 4).map((t) => (log ? 10 ** t : t));
  const parts: string[] = [];
  parts.push(
    `<rect x="${m.l}" y="${m.t}" width="${W - m.l - m.r}" height="${H - m.t - m.b}" fill="#fafafa" stroke="#ccc"/>`,
  );
  for (const t of ticks(x0, x1, opts.logX)) {
    parts.push(`<text x="${px(t)}" y="${H - m.b + 16}" text-anchor="middle" font-size="11">${fmt(t)}</text>`);
  }
  for (const t of ticks(y0, y1, opts.logY)) {
    parts.push(`<line x1="${m.l}" x2="${W - m.r}" y1="${py(t)}" y2="${py(t)}" stroke="#eee"/>`);
    parts.push(`<text x="${m.l - 6}" y="${py(t) + 4}" text-anchor="end" font-size="11">${fmt(t)}</text>`);
  }
  series.forEach((s, i) => {
    const c = colorOf(s.label, i);
    const sorted = [...s.points].sort((a, b) => a[0] - b[0]);
    if (sorted.length > 1)
      parts.push(
        `<polyline fill="none" stroke="${c}" stroke-width="2" points="${sorted.map((p) => `${px(p[0]).toFixed(1)},${py(p[1]).toFixed(1)}`).join(' ')}"/>`,
      );
    for (const p of sorted)
      parts.push(
        `<circle cx="${px(p[0]).toFixed(1)}" cy="${py(p[1]).toFixed(1)}" r="3.5" fill="${c}"><title>${esc(s.label)}: ${fmt(p[0])}, ${fmt(p[1])}</title></circle>`,
      );
    parts.push(`<rect x="${m.l + 8}" y="${m.t + 8 + i * 16}" width="10" height="10" fill="${c}"/>`);
    parts.push(`<text x="${m.l + 22}" y="${m.t + 17 + i * 16}" font-size="11">${esc(s.label)}</text>`);
  });
  parts.push(
    `<text x="${(m.l + W - m.r) / 2}" y="${H - 10}" text-anchor="middle" font-size="12">${esc(xLabel)}${opts.logX ? ' (log)' : ''}</text>`,
  );
  parts.push(
    `<text x="14" y="${(m.t + H - m.b) / 2}" text-anchor="middle" font-size="12" transform="rotate(-90 14 ${(m.t + H - m.b) / 2})">${esc(yLabel)}${opts.logY ? ' (log)' : ''}</text>`,
  );
  parts.push(`<text x="${W / 2}" y="18" text-anchor="middle" font-size="14" font-weight="bold">${esc(title)}</text>`);
  return `<figure><svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img" aria-label="${esc(title)}">${parts.join('')}</svg></figure>`;
}

/** A grouped horizontal bar chart: one bar per (label, value); log scale optional. */
export function barChart(
  title: string,
  unit: string,
  bars: { label: string; value: number; color: string }[],
  logX = false,
): string {
  const W = 560;
  const rowH = 22;
  const m = { l: 210, r: 70, t: 32, b: 12 };
  const H = m.t + m.b + rowH * Math.max(1, bars.length);
  const tv = (v: number): number => (logX ? Math.log10(Math.max(v, 1)) : v);
  const max = Math.max(1e-9, ...bars.map((b) => tv(b.value)));
  const parts: string[] = [
    `<text x="${W / 2}" y="18" text-anchor="middle" font-size="14" font-weight="bold">${esc(title)}</text>`,
  ];
  bars.forEach((b, i) => {
    const y = m.t + i * rowH;
    const w = (tv(b.value) / max) * (W - m.l - m.r);
    parts.push(`<text x="${m.l - 6}" y="${y + 15}" text-anchor="end" font-size="11">${esc(b.label)}</text>`);
    parts.push(
      `<rect x="${m.l}" y="${y + 3}" width="${Math.max(1, w).toFixed(1)}" height="${rowH - 6}" fill="${b.color}"/>`,
    );
    parts.push(`<text x="${m.l + w + 4}" y="${y + 15}" font-size="11">${fmt(b.value)} ${esc(unit)}</text>`);
  });
  return `<figure><svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img" aria-label="${esc(title)}">${parts.join('')}</svg></figure>`;
}

function groupBy(results: SimResult[], key: (r: SimResult) => string): Map<string, SimResult[]> {
  const m = new Map<string, SimResult[]>();
  for (const r of results) {
    const k = key(r);
    const list = m.get(k) ?? [];
    list.push(r);
    m.set(k, list);
  }
  return m;
}

const TABLE_COLUMNS: [string, (r: SimResult) => unknown][] = [
  ['graph', (r) => r.graph],
  ['strategy', (r) => seriesLabel(r)],
  ['seed', (r) => r.seed],
  ['nodes', (r) => r.nodes],
  ['edges', (r) => r.edges],
  ['offline', (r) => r.offline],
  ['moved', (r) => r.moved],
  ['lookups', (r) => r.lookups],
  ['success', (r) => `${(r.successRate * 100).toFixed(1)}%`],
  ['p50 ms', (r) => r.latencyMs.p50],
  ['p95 ms', (r) => r.latencyMs.p95],
  ['p99 ms', (r) => r.latencyMs.p99],
  ['msgs/reloc', (r) => r.messagesPerRelocation],
  ['search msgs', (r) => r.searchMessagesPerLookup],
  ['move msgs', (r) => r.moveMessagesPerMove],
  ['bytes/reloc', (r) => r.bytesPerRelocation],
  ['maint msgs/node·h', (r) => r.maintenanceMessagesPerNodeHour],
  ['maint bytes/node·h', (r) => r.maintenanceBytesPerNodeHour],
  ['state mean', (r) => r.stateEntriesPerNode.mean],
  ['state max', (r) => r.stateEntriesPerNode.max],
  ['wall s', (r) => r.wallSeconds],
  ['peak RSS MB', (r) => r.peakRssMb],
];

/** Renders several runs as one HTML page (charts + table). */
export function renderReport(results: SimResult[], title = 'Mesh simulator report'): string {
  const charts: string[] = [];
  // Success vs offline fraction, one series per strategy label (runs on the largest graph per label).
  const byLabel = groupBy(results, seriesLabel);
  const offlineSeries: Series[] = [];
  const latSeries: Series[] = [];
  for (const [label, runs] of byLabel) {
    const graphs = groupBy(runs, (r) => r.graph);
    const main = [...graphs.values()].sort((a, b) => b.length - a.length)[0];
    if (new Set(main.map((r) => r.offline)).size > 1) {
      offlineSeries.push({ label, points: main.map((r) => [r.offline, r.successRate * 100]) });
      latSeries.push({ label, points: main.map((r) => [r.offline, r.latencyMs.p95]) });
    }
  }
  if (offlineSeries.length > 0) {
    charts.push(lineChart('Relocation success vs offline fraction', 'offline fraction', 'success %', offlineSeries));
    charts.push(
      lineChart('Relocation latency p95 vs offline fraction', 'offline fraction', 'p95 latency, ms', latSeries),
    );
  }
  // Messages per relocation vs N.
  const nSeries: Series[] = [];
  for (const [label, runs] of byLabel) {
    const pts = new Map<number, number>();
    for (const r of runs) if (!pts.has(r.nodes)) pts.set(r.nodes, r.messagesPerRelocation);
    if (pts.size > 1) nSeries.push({ label, points: [...pts] });
  }
  if (nSeries.length > 0)
    charts.push(
      lineChart('Messages per relocation vs N', 'nodes', 'messages per relocation', nSeries, {
        logX: true,
        logY: true,
      }),
    );
  // Strategies side by side: one representative run per label (prefer offline 0.3).
  const reps = [...byLabel].map(([label, runs], i) => {
    const r = runs.find((x) => x.offline === 0.3) ?? runs[0];
    return { label, r, color: colorOf(label, i) };
  });
  charts.push(
    barChart(
      'Messages per relocation (incl. move share)',
      'msgs',
      reps.map((x) => ({ label: x.label, value: x.r.messagesPerRelocation, color: x.color })),
      true,
    ),
  );
  charts.push(
    barChart(
      'Maintenance messages per node-hour',
      'msgs',
      reps.map((x) => ({ label: x.label, value: x.r.maintenanceMessagesPerNodeHour, color: x.color })),
    ),
  );
  charts.push(
    barChart(
      'State entries per node (mean)',
      'entries',
      reps.map((x) => ({ label: x.label, value: x.r.stateEntriesPerNode.mean, color: x.color })),
    ),
  );
  charts.push(
    barChart(
      'Relocation success',
      '%',
      reps.map((x) => ({ label: x.label, value: x.r.successRate * 100, color: x.color })),
    ),
  );

  const head = TABLE_COLUMNS.map(([h]) => `<th>${esc(h)}</th>`).join('');
  const rows = results
    .map((r) => `<tr>${TABLE_COLUMNS.map(([, f]) => `<td>${esc(f(r))}</td>`).join('')}</tr>`)
    .join('\n');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${esc(title)}</title>
<style>
body{font-family:system-ui,sans-serif;margin:24px;color:#222}
.charts{display:flex;flex-wrap:wrap;gap:16px}
figure{margin:0;border:1px solid #ddd;padding:8px;background:#fff}
table{border-collapse:collapse;font-size:12px;margin-top:24px}
td,th{border:1px solid #ccc;padding:3px 6px;text-align:right}
th{background:#f0f0f0}
td:nth-child(1),td:nth-child(2){text-align:left}
</style></head><body>
<h1>${esc(title)}</h1>
<p>${results.length} run(s). Messages per relocation = search traffic per lookup + the move's referral spread per moved
node. Kademlia: k=20, α=3, converged routing tables; see src/sim/kademlia.ts for what the model leaves out.</p>
<div class="charts">
${charts.join('\n')}
</div>
<table><thead><tr>${head}</tr></thead><tbody>
${rows}
</tbody></table>
</body></html>
`;
}
