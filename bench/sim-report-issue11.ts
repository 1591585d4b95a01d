/**
 * Renders docs/sim-report.html from docs/sim-results/issue11/ (bench/sim-issue11.sh): the generic
 * report of the ego-Facebook offline sweep (shipped defaults vs the Kademlia model) plus two charts
 * of the Watts–Strogatz rewiring series against the graphs' clustering (clustering.jsonl).
 *   node --import tsx bench/sim-report-issue11.ts
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { lineChart, renderReport } from '../src/sim/report.ts';
import type { SimResult } from '../src/sim/simulator.ts';

const DIR = new URL('../docs/sim-results/issue11/', import.meta.url).pathname;
const REPORT = new URL('../docs/sim-report.html', import.meta.url).pathname;
const load = (name: string): SimResult | undefined =>
  existsSync(`${DIR}${name}.json`) ? (JSON.parse(readFileSync(`${DIR}${name}.json`, 'utf8')) as SimResult) : undefined;

const sweep = ['0', '0.1', '0.3', '0.5'].flatMap((o) =>
  [load(`ego-default-off${o}`), load(`ego-kademlia-off${o}`)].filter((r): r is SimResult => r !== undefined),
);
const clustering = new Map<string, number>(
  readFileSync(`${DIR}clustering.jsonl`, 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { graph: string; clusteringLocal: number })
    .map((c) => [c.graph, c.clusteringLocal]),
);
const mesh: [number, number][] = [];
const kad: [number, number][] = [];
const meshOk: [number, number][] = [];
for (const p of ['0', '0.01', '0.03', '0.1', '0.2', '0.3', '0.5', '1']) {
  const c = clustering.get(`ws:5000:10:${p}`);
  const m = load(`ws5k-p${p}`);
  const k = load(`ws5k-p${p}-kademlia`);
  if (c === undefined) continue;
  if (m) {
    mesh.push([c, m.messagesPerRelocation]);
    meshOk.push([c, m.successRate * 100]);
  }
  if (k) kad.push([c, k.messagesPerRelocation]);
}
const extra = [
  lineChart('Messages per relocation vs clustering (WS 5,000 nodes, k=10)', 'clustering coefficient', 'msgs', [
    { label: 'bounded (default)', points: mesh },
    { label: 'kademlia', points: kad },
  ]),
  lineChart('Mesh relocation success vs clustering (WS 5,000 nodes, k=10)', 'clustering coefficient', 'success %', [
    { label: 'bounded (default)', points: meshOk },
  ]),
];
const html = renderReport(sweep, 'Mesh simulator report: ego-Facebook offline sweep and clustering (issue 11)').replace(
  '</div>\n<table>',
  `${extra.join('\n')}\n</div>\n<table>`,
);
writeFileSync(REPORT, html);
console.log(`report: ${sweep.length} sweep runs + ${mesh.length} clustering points → ${REPORT}`);
