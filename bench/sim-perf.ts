/**
 * Simulator performance (issue 11 item 4): runs the simulator at the target sizes, each in a child
 * process of its own (so peak RSS is that run's), and prints wall time, CPU time, peak RSS, RSS per
 * node and events per CPU second. The machine is shared: CPU seconds and events per CPU second say
 * more than wall seconds.
 *
 *   npm run bench:sim                          # 22k (2,000 lookups) and 10^5
 *   npm run bench:sim -- --only 1e6            # 10^6 nodes (needs ~16 GB)
 *   npm run bench:sim -- --only 22k --real-crypto
 *   npm run bench:sim -- --only 1e6 --stop-at startup   # memory of 10⁶ built nodes, then stop
 *   npm run bench:sim -- --only 1e5 --cpu-budget 600    # stop after 600 CPU s, report phases so far
 *   npm run bench:sim -- --only 22k --lookup-concurrency 1,50   # one row per concurrency (same seeds)
 *   npm run bench:sim -- --only 22k --lookups 300 --baseline /work/main   # + a row from another checkout
 *
 * Every row is followed by the CPU seconds of each phase; a run stopped by `--cpu-budget` reports the
 * lookups it finished, so the rest can be extrapolated (CPU per lookup is steady within a run).
 *
 * `--lookup-concurrency` (default 1: lookups one after another, the documented results) starts
 * lookups in waves (src/sim/scenario.ts); `--baseline DIR` runs the same size with the bench child of
 * another checkout first (e.g. main before a change), so a speed-up is a ratio measured in one run.
 *
 * Sizes: 22k = Holme–Kim 22,470 nodes / ~180k edges (the size of the held-back real graph), 2,000
 * lookups; 1e5 and 1e6 = Holme–Kim m=5, 1,000 lookups (the CLI default).
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { runSimulation, type SimResult } from '../src/sim/simulator.ts';

interface Size {
  name: string;
  generate: string;
  lookups: number;
  /** V8 old-space limit for the child, MB. */
  heapMb: number;
}

const SIZES: Size[] = [
  { name: '10k', generate: 'hk:10000:5:0.5', lookups: 300, heapMb: 4096 },
  { name: '22k', generate: 'hk:22470:8:0.5', lookups: 2000, heapMb: 4096 },
  { name: '1e5', generate: 'hk:100000:5:0.5', lookups: 1000, heapMb: 8192 },
  { name: '1e6', generate: 'hk:1000000:5:0.5', lookups: 1000, heapMb: 20480 },
];

/** What a child stopped early (`--stop-at`, `--cpu-budget`) reports. */
interface Stopped {
  phase: string;
  /** Progress within the phase (lookups done, or virtual seconds). */
  done: number;
  total: number;
  phases: Record<string, number>;
  heapUsedMb: number;
  rssMb: number;
  peakRssMb: number;
  cpuSeconds: number;
}

interface ChildOut {
  result: SimResult;
  cpuSeconds: number;
  /** CPU seconds spent in each phase. */
  phases: Record<string, number>;
}

const args = process.argv.slice(2);
const flag = (name: string) => args.includes(name);
const value = (name: string) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};

if (flag('--child')) {
  // One run in this process; the parent reads the last line.
  const cpu0 = process.cpuUsage();
  const cpuNow = () => {
    const c = process.cpuUsage(cpu0);
    return (c.user + c.system) / 1e6;
  };
  const phases: Record<string, number> = {};
  let phase = 'graph';
  let phaseStart = 0;
  const enter = (next: string) => {
    const t = cpuNow();
    if (phase) phases[phase] = Math.round((phases[phase] ?? 0) + t - phaseStart);
    phase = next;
    phaseStart = t;
  };
  const budget = Number(value('--cpu-budget') ?? Number.POSITIVE_INFINITY);
  const result = await runSimulation({
    generate: value('--generate'),
    lookups: Number(value('--lookups')),
    seed: Number(value('--seed') ?? 1),
    realCrypto: flag('--real-crypto'),
    lookupConcurrency: Number(value('--lookup-concurrency') ?? 1),
    onProgress: (p) => {
      if (p.phase !== phase) enter(p.phase);
      if (flag('--verbose')) process.stderr.write(`  ${p.phase} ${p.done}/${p.total} (${cpuNow().toFixed(0)} CPU s)\n`);
      if (p.phase === value('--stop-at') || cpuNow() > budget) {
        enter('');
        // Every node built (and, past startup, running): what the run holds per node, then stop.
        const m = process.memoryUsage();
        const cpu = process.cpuUsage(cpu0);
        const stopped: Stopped = {
          phase: p.phase,
          done: p.done,
          total: p.total,
          phases,
          heapUsedMb: Math.round(m.heapUsed / 2 ** 20),
          rssMb: Math.round(m.rss / 2 ** 20),
          peakRssMb: Math.round(process.resourceUsage().maxRSS / 1024),
          cpuSeconds: (cpu.user + cpu.system) / 1e6,
        };
        process.stdout.write(`${JSON.stringify(stopped)}\n`);
        process.exit(0);
      }
    },
  });
  enter('');
  process.stdout.write(`${JSON.stringify({ result, cpuSeconds: cpuNow(), phases } satisfies ChildOut)}\n`);
} else {
  const only = value('--only')?.split(',') ?? ['22k', '1e5'];
  const self = fileURLToPath(import.meta.url);
  const concurrencies = (value('--lookup-concurrency') ?? '1').split(',').map(Number);
  const baseline = value('--baseline');
  console.log(
    '| size | tree | lookups in waves of | nodes | edges | lookups | success | msgs / relocation | wall s | CPU s | CPU ratio | peak RSS MB | RSS / node KB | events | events / CPU s | virtual s |',
  );
  console.log('|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|');
  for (const s of SIZES.filter((x) => only.includes(x.name))) {
    const runs: { tree: string; concurrency: number }[] = [
      ...(baseline ? [{ tree: baseline, concurrency: 1 }] : []),
      ...concurrencies.map((c) => ({ tree: '', concurrency: c })),
    ];
    let firstCpu = 0;
    for (const run of runs) {
      const script = run.tree ? `${run.tree}/bench/sim-perf.ts` : self;
      const childArgs = [
        `--max-old-space-size=${s.heapMb}`,
        // A larger young generation: fewer scavenges and fewer short-lived events promoted (less CPU and
        // a lower peak RSS on 10⁴ nodes).
        '--max-semi-space-size=64',
        '--import',
        'tsx',
        script,
        '--child',
        '--generate',
        s.generate,
        '--lookups',
        String(Number(value('--lookups') ?? s.lookups)),
        '--lookup-concurrency',
        String(run.concurrency),
        ...(flag('--real-crypto') ? ['--real-crypto'] : []),
        ...(flag('--verbose') ? ['--verbose'] : []),
        ...(value('--stop-at') ? ['--stop-at', value('--stop-at')!] : []),
        ...(value('--cpu-budget') ? ['--cpu-budget', value('--cpu-budget')!] : []),
      ];
      const r = spawnSync(process.execPath, childArgs, {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'inherit'],
        maxBuffer: 1 << 26,
        ...(run.tree ? { cwd: run.tree } : {}),
      });
      const tree = run.tree || 'this';
      const last = r.stdout.trim().split('\n').pop() ?? '';
      if (r.status !== 0 || !last.startsWith('{')) {
        console.log(
          `| ${s.name} | ${tree} | ${run.concurrency} | failed: exit ${r.status} ${r.signal ?? ''} | | | | | | | | | | | | |`,
        );
        continue;
      }
      const out = JSON.parse(last) as ChildOut | Stopped;
      if ('phase' in out) {
        const n = Number(s.generate.split(':')[1]);
        console.log(
          `| ${s.name} (stopped in ${out.phase} at ${out.done}/${out.total}) | ${tree} | ${run.concurrency} | ${n} | | | | | | ${out.cpuSeconds.toFixed(1)} | | ${out.peakRssMb} (heap ${out.heapUsedMb}) | ${((out.peakRssMb * 1024) / n).toFixed(1)} (heap ${((out.heapUsedMb * 1024) / n).toFixed(1)}) | | | |`,
        );
        console.log(`|   CPU s by phase: ${JSON.stringify(out.phases)} | | | | | | | | | | | | | | | |`);
        continue;
      }
      const { result: x, cpuSeconds } = out;
      firstCpu ||= cpuSeconds;
      console.log(
        `| ${s.name} | ${tree} | ${run.concurrency} | ${x.nodes} | ${x.edges} | ${x.lookups} | ${(x.successRate * 100).toFixed(1)} % (${x.successes}/${x.eligibleLookups}) | ${x.messagesPerRelocation} | ${x.wallSeconds} | ${cpuSeconds.toFixed(1)} | ${(cpuSeconds / firstCpu).toFixed(2)} | ${x.peakRssMb} | ${((x.peakRssMb * 1024) / x.nodes).toFixed(1)} | ${x.events} | ${Math.round(x.events / cpuSeconds)} | ${x.virtualSeconds} |`,
      );
      console.log(`|   CPU s by phase: ${JSON.stringify(out.phases)} | | | | | | | | | | | | | | | |`);
    }
  }
}
