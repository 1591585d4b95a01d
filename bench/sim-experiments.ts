/**
 * Runs the simulator experiments (docs/sim-results/*.json) and renders docs/sim-report.html.
 *   node --import tsx bench/sim-experiments.ts <queue> [--report-only]
 * Queues: "ego" (ego-Facebook strategies, radii and offline sweep), "scale" (Kademlia everywhere,
 * generated graphs up to 100,000 nodes). Each finished run is saved at once, so partial runs count.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { renderReport } from '../src/sim/report.ts';
import { runSimulation, type SimOptions, type SimResult } from '../src/sim/simulator.ts';

const EGO = new URL('../../shared/data/ego-facebook.edges', import.meta.url).pathname;
const OUT = new URL('../docs/sim-results/', import.meta.url).pathname;
const REPORT = new URL('../docs/sim-report.html', import.meta.url).pathname;

type Run = { name: string } & SimOptions;
const ego = (name: string, o: Partial<SimOptions>): Run => ({
  name: `ego-${name}`,
  graphFile: EGO,
  seed: 1,
  offline: 0.3,
  moved: 0.1,
  lookups: 1000,
  ...o,
});

const QUEUES: Record<string, Run[]> = {
  ego: [
    ego('bounded-R2-S2-off0.3', { strategy: 'bounded', referralRadius: 2, searchRadius: 2 }),
    ego('bounded-R2-S2-off0', { strategy: 'bounded', offline: 0 }),
    ego('bounded-R2-S2-off0.5', { strategy: 'bounded', offline: 0.5 }),
    ego('bounded-R2-S2-off0.1', { strategy: 'bounded', offline: 0.1 }),
    ego('bounded-R1-S1-off0.3', { strategy: 'bounded', referralRadius: 1, searchRadius: 1 }),
    ego('bounded-R1-S2-off0.3', { strategy: 'bounded', referralRadius: 1, searchRadius: 2 }),
    ego('bounded-R3-S3-off0.3', { strategy: 'bounded', referralRadius: 3, searchRadius: 3 }),
    ego('seed-off0.3', { strategy: 'seed', lookups: 200 }),
  ],
  scale: [
    ego('kademlia-off0.3', { strategy: 'kademlia' }),
    ego('kademlia-off0', { strategy: 'kademlia', offline: 0 }),
    ego('kademlia-off0.1', { strategy: 'kademlia', offline: 0.1 }),
    ego('kademlia-off0.5', { strategy: 'kademlia', offline: 0.5 }),
    {
      name: 'hk10k-kademlia',
      generate: 'hk:10000:5:0.5',
      seed: 1,
      strategy: 'kademlia',
      offline: 0.3,
      moved: 0.1,
      lookups: 1000,
    },
    {
      name: 'hk100k-kademlia',
      generate: 'hk:100000:5:0.5',
      seed: 1,
      strategy: 'kademlia',
      offline: 0.3,
      moved: 0.1,
      lookups: 1000,
    },
    {
      name: 'ws100k-kademlia',
      generate: 'ws:100000:10:0.1',
      seed: 1,
      strategy: 'kademlia',
      offline: 0.3,
      moved: 0.1,
      lookups: 1000,
    },
    {
      name: 'hk10k-bounded',
      generate: 'hk:10000:5:0.5',
      seed: 1,
      strategy: 'bounded',
      offline: 0.3,
      moved: 0.02,
      lookups: 1000,
    },
    {
      name: 'ws100k-bounded',
      generate: 'ws:100000:10:0.1',
      seed: 1,
      strategy: 'bounded',
      offline: 0.3,
      moved: 0.01,
      lookups: 1000,
    },
    {
      name: 'hk100k-bounded',
      generate: 'hk:100000:5:0.5',
      seed: 1,
      strategy: 'bounded',
      offline: 0.3,
      moved: 0.01,
      lookups: 1000,
    },
  ],
};

function report(): void {
  if (!existsSync(OUT)) return;
  const results: SimResult[] = readdirSync(OUT)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => JSON.parse(readFileSync(OUT + f, 'utf8')) as SimResult);
  writeFileSync(REPORT, renderReport(results));
  console.log(`report: ${results.length} runs → ${REPORT}`);
}

const [queue, flag] = process.argv.slice(2);
mkdirSync(OUT, { recursive: true });
if (flag !== '--report-only') {
  for (const run of QUEUES[queue] ?? []) {
    const { name, ...opts } = run;
    const file = `${OUT}${name}.json`;
    if (existsSync(file)) continue;
    const t0 = performance.now();
    console.error(`[${new Date().toISOString()}] ${name} …`);
    const r = await runSimulation(opts);
    writeFileSync(file, `${JSON.stringify(r, null, 2)}\n`);
    console.error(
      `  done in ${((performance.now() - t0) / 1000).toFixed(0)} s: success ${r.successRate}, msgs/reloc ${r.messagesPerRelocation}, peak ${r.peakRssMb} MB`,
    );
    report();
  }
}
report();
