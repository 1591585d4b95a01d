/**
 * Prints docs/sim-results/*.json as a Markdown table (for docs/SIMULATION.md).
 *   node --import tsx bench/sim-table.ts [prefix]
 */
import { readdirSync, readFileSync } from 'node:fs';
import type { SimResult } from '../src/sim/simulator.ts';

const dir = new URL('../docs/sim-results/', import.meta.url).pathname;
const prefix = process.argv[2] ?? '';
type R = SimResult & Record<string, unknown>;
const rows = readdirSync(dir)
  .filter((f) => f.startsWith(prefix) && f.endsWith('.json'))
  .sort()
  .map((f) => [f.replace(/\.json$/, ''), JSON.parse(readFileSync(dir + f, 'utf8')) as R] as const);
const k = (n: number) => (n >= 10_000 ? `${(n / 1000).toFixed(0)} k` : String(Math.round(n * 10) / 10));
console.log(
  '| run | nodes | R / S | offline | success | latency p50 / p95 / p99 ms | msgs / relocation (search + move) | bytes / relocation | maintenance msgs / node·h | state / node (mean / max) | wall s | peak RSS MB |',
);
console.log('|---|---|---|---|---|---|---|---|---|---|---|---|');
for (const [name, r] of rows) {
  const rs = r.strategy === 'kademlia' ? 'k=20, α=3' : `${r.referralRadius ?? '-'} / ${r.searchRadius ?? '-'}`;
  const split =
    r.searchMessagesPerLookup !== undefined
      ? ` (${k(Number(r.searchMessagesPerLookup))} + ${k(Number(r.moveMessagesPerMove))})`
      : '';
  console.log(
    `| ${name} | ${r.nodes} | ${rs} | ${r.offline} | ${(r.successRate * 100).toFixed(1)} % | ${r.latencyMs.p50} / ${r.latencyMs.p95} / ${r.latencyMs.p99} | ${k(r.messagesPerRelocation)}${split} | ${k(r.bytesPerRelocation)} | ${k(r.maintenanceMessagesPerNodeHour)} | ${r.stateEntriesPerNode.mean} / ${r.stateEntriesPerNode.max} | ${r.wallSeconds} | ${r.peakRssMb} |`,
  );
}
