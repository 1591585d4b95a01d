/**
 * The 1,000-node check of the simulator's crypto stand-in (issue 11 item 4): the same simulation with
 * real crypto and with the stand-in must give the same result document apart from wall time and peak
 * RSS. Exits 1 on any difference. CI runs the same comparison on a smaller graph
 * (test/integration/sim-crypto.test.ts).
 *
 *   npm run sim:crypto-check [-- --generate hk:1000:5:0.5 --lookups 300 --seed 1]
 */
import { isDeepStrictEqual } from 'node:util';
import { runSimulation, type SimOptions, type SimResult } from '../src/sim/simulator.ts';

const args = process.argv.slice(2);
const value = (name: string, d: string) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : d;
};
const o: SimOptions = {
  generate: value('--generate', 'hk:1000:5:0.5'),
  lookups: Number(value('--lookups', '300')),
  seed: Number(value('--seed', '1')),
};
const strip = (r: SimResult) => {
  const { wallSeconds: _w, peakRssMb: _p, ...rest } = r;
  return rest;
};
const fast = await runSimulation(o);
const real = await runSimulation({ ...o, realCrypto: true });
const same = isDeepStrictEqual(strip(fast), strip(real));
console.log(
  `${o.generate}, ${o.lookups} lookups, seed ${o.seed}: stand-in ${fast.wallSeconds} s, real crypto ${real.wallSeconds} s; ` +
    `success ${fast.successes}/${fast.eligibleLookups}, ${fast.events} events — documents ${same ? 'identical' : 'DIFFER'}`,
);
if (!same) {
  for (const k of Object.keys(strip(fast)) as (keyof SimResult)[])
    if (!isDeepStrictEqual(fast[k], real[k]))
      console.log(`  ${k}: ${JSON.stringify(fast[k])} vs ${JSON.stringify(real[k])}`);
  process.exitCode = 1;
}
