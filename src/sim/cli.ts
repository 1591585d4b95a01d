/**
 * `mesh sim`: runs the simulator (DESIGN.md §8) from the command line.
 *
 * ```
 * mesh sim --graph ../shared/data/ego-facebook.edges --strategy bounded --json
 * mesh sim --generate hk:10000:5:0.5 --sweep --report sim.html
 * ```
 */
import { writeFileSync } from 'node:fs';
import cliProgress from 'cli-progress';
import { type Command, InvalidArgumentError, Option } from 'commander';
import { MeshError } from '../errors.ts';
import { parseDuration } from '../util/duration.ts';
import { type Graph, generate, loadEdgeList } from './graph.ts';
import { renderReport } from './report.ts';
import { Rng } from './rng.ts';
import { runSimulation, type SimOptions, type SimProgress, type SimResult, type Strategy } from './simulator.ts';

/** Offline fractions of `--sweep`. */
export const SWEEP_OFFLINE = [0, 0.1, 0.3, 0.5];
/** Strategies of `--sweep`. */
export const SWEEP_STRATEGIES: Strategy[] = ['seed', 'bounded', 'kademlia'];

const EXIT_USAGE = 2;

interface SimCliOptions {
  graph?: string;
  generate?: string;
  seed: number;
  strategy: Strategy;
  referralRadius?: number;
  searchRadius?: number;
  offline: number;
  moved: number;
  lookups: number;
  duration: number;
  domainPeers: number;
  lookupConcurrency: number;
  digests: boolean;
  sweep?: boolean;
  report?: string;
  json?: boolean;
  realCrypto?: boolean;
}

const intArg =
  (what: string, min: number) =>
  (v: string): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < min) throw new InvalidArgumentError(`${what} must be an integer ≥ ${min}`);
    return n;
  };
const fracArg =
  (what: string) =>
  (v: string): number => {
    const n = Number(v);
    if (!(n >= 0 && n <= 1)) throw new InvalidArgumentError(`${what} must be a fraction between 0 and 1`);
    return n;
  };
const durationArg = (v: string): number => {
  try {
    return parseDuration(v);
  } catch (e) {
    throw new InvalidArgumentError((e as Error).message);
  }
};

/** Adds the `sim` command to a commander program (the main CLI wires `mesh sim` with this). */
export function registerSimCommand(program: Command): Command {
  return program
    .command('sim')
    .description('simulate relocation on a social graph: success, latency, messages, state (DESIGN.md §8)')
    .addOption(new Option('--graph <file>', 'edge-list file (SNAP: "u v" per line, # comments)').conflicts('generate'))
    .addOption(new Option('--generate <spec>', 'generated graph: ws:N:K:P | ba:N:M | hk:N:M:P'))
    .option('--seed <n>', 'PRNG seed (same seed and options → same result)', intArg('--seed', 0), 1)
    .addOption(
      new Option('--strategy <name>', 'routing: seed defaults, bounded radii, or the Kademlia baseline')
        .choices(['seed', 'bounded', 'kademlia'])
        .default('bounded'),
    )
    .option(
      '--referral-radius <r>',
      'bounded: referral radius R (default: the core default)',
      intArg('--referral-radius', 0),
    )
    .option('--search-radius <s>', 'bounded: search radius S (default: the core default)', intArg('--search-radius', 0))
    .option('--offline <f>', 'fraction of nodes offline', fracArg('--offline'), 0.3)
    .option('--moved <f>', 'fraction of online nodes that change address', fracArg('--moved'), 0.1)
    .option('--lookups <n>', 'relocations to measure', intArg('--lookups', 0), 1000)
    .option(
      '--domain-peers <n>',
      'always-online peers with a domain every node bootstrapped to',
      intArg('--domain-peers', 0),
      0,
    )
    .option(
      '--lookup-concurrency <n>',
      'start lookups in waves of up to n (distinct searchers and targets): much faster on large graphs, changes results a little',
      intArg('--lookup-concurrency', 1),
      1,
    )
    .option('--no-digests', 'bounded: route without contact digests (the routing before issue 11)')
    .option('--duration <d>', 'maintenance window in virtual time (e.g. 1h, 30m)', durationArg, 3_600_000)
    .option('--sweep', `run offline ∈ {${SWEEP_OFFLINE.join(', ')}} × strategies {${SWEEP_STRATEGIES.join(', ')}}`)
    .option('--report <file.html>', 'write an HTML report with SVG charts')
    .option('--json', 'print one JSON document on stdout')
    .option('--real-crypto', 'run the cores on the real keyed crypto (slower; same results as the default stand-in)')
    .action(async (opts: SimCliOptions) => {
      try {
        await runSimCommand(opts);
      } catch (e) {
        if (e instanceof MeshError) {
          process.stderr.write(`mesh sim: ${e.message}\n`);
          process.exitCode = e.code === 'GRAPH_NOT_FOUND' || e.code === 'INVALID_ARGUMENT' ? EXIT_USAGE : 1;
          return;
        }
        throw e;
      }
    });
}

function loadGraph(opts: SimCliOptions): Graph {
  if (opts.graph) return loadEdgeList(opts.graph);
  if (opts.generate) return generate(opts.generate, new Rng(opts.seed).fork());
  throw MeshError.invalidArgument('give a graph: --graph FILE or --generate SPEC (e.g. --generate hk:10000:5:0.5)');
}

/** Runs what the options ask for and prints it. */
export async function runSimCommand(opts: SimCliOptions): Promise<SimResult[]> {
  const graph = loadGraph(opts);
  const runs: SimOptions[] = [];
  const baseRun: SimOptions = {
    graph,
    seed: opts.seed,
    strategy: opts.strategy,
    referralRadius: opts.referralRadius,
    searchRadius: opts.searchRadius,
    offline: opts.offline,
    moved: opts.moved,
    lookups: opts.lookups,
    durationMs: opts.duration,
    realCrypto: opts.realCrypto,
    domainPeers: opts.domainPeers,
    lookupConcurrency: opts.lookupConcurrency,
    ...(opts.digests === false ? { coreInit: { digests: false } } : {}),
  };
  if (opts.sweep) {
    for (const strategy of SWEEP_STRATEGIES)
      for (const offline of SWEEP_OFFLINE) runs.push({ ...baseRun, strategy, offline });
  } else runs.push(baseRun);

  const results: SimResult[] = [];
  const tty = process.stderr.isTTY === true && !opts.json;
  for (const [i, run] of runs.entries()) {
    const label = `${run.strategy} offline=${run.offline} (${i + 1}/${runs.length})`;
    const reporter = tty ? barReporter(label) : lineReporter(label);
    results.push(await runSimulation({ ...run, onProgress: reporter.update }));
    reporter.stop();
  }
  if (opts.report) writeFileSync(opts.report, renderReport(results));
  if (opts.json) process.stdout.write(`${JSON.stringify(results.length === 1 ? results[0] : results, null, 2)}\n`);
  else for (const r of results) process.stdout.write(summary(r));
  if (opts.report && !opts.json) process.stdout.write(`report written to ${opts.report}\n`);
  return results;
}

function barReporter(label: string): { update: (p: SimProgress) => void; stop: () => void } {
  const bar = new cliProgress.SingleBar(
    { format: `${label} {phase} [{bar}] {percentage}%`, stream: process.stderr, hideCursor: true },
    cliProgress.Presets.shades_classic,
  );
  let started = false;
  return {
    update: (p) => {
      if (!started) {
        bar.start(Math.max(1, p.total), 0, { phase: p.phase });
        started = true;
      }
      bar.setTotal(Math.max(1, p.total));
      bar.update(Math.min(p.done, p.total), { phase: p.phase.padEnd(11) });
    },
    stop: () => {
      if (started) bar.stop();
    },
  };
}

function lineReporter(label: string): { update: (p: SimProgress) => void; stop: () => void } {
  let lastPhase = '';
  let last = 0;
  return {
    update: (p) => {
      const t = performance.now();
      if (p.phase === lastPhase && t - last < 10_000) return;
      lastPhase = p.phase;
      last = t;
      process.stderr.write(`[sim] ${label}: ${p.phase} ${p.done}/${p.total}\n`);
    },
    stop: () => {},
  };
}

/** A readable summary of one run. */
export function summary(r: SimResult): string {
  const radii = r.strategy === 'kademlia' ? 'k=20 α=3' : `R=${r.referralRadius} S=${r.searchRadius}`;
  return [
    `${r.strategy} (${radii}) on ${r.graph}: ${r.nodes} nodes, ${r.edges} edges, seed ${r.seed}`,
    `  offline ${r.offline}, moved ${r.moved} (${r.movedNodes} nodes), ${r.lookups} lookups` +
      (r.lookupConcurrency > 1 ? ` in waves of ${r.lookupConcurrency}` : '') +
      (r.digests === false ? ', no digests' : ''),
    `  success            ${(r.successRate * 100).toFixed(1)}% (${r.successes}/${r.eligibleLookups})`,
    `  latency p50/95/99  ${r.latencyMs.p50} / ${r.latencyMs.p95} / ${r.latencyMs.p99} ms`,
    `  per relocation     ${r.messagesPerRelocation} messages, ${r.bytesPerRelocation} bytes` +
      ` (search ${r.searchMessagesPerLookup} + move ${r.moveMessagesPerMove})`,
    `  maintenance        ${r.maintenanceMessagesPerNodeHour} messages, ${r.maintenanceBytesPerNodeHour} bytes per node-hour`,
    `  state per node     mean ${r.stateEntriesPerNode.mean}, max ${r.stateEntriesPerNode.max}`,
    `  wall ${r.wallSeconds} s, peak RSS ${r.peakRssMb} MB`,
    '',
  ].join('\n');
}
