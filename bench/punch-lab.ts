/**
 * Hole-punching success rate per NAT kind, in the NAT lab (docs/NETWORKS.md, docs/PROTOCOL.md §17):
 * two real HttpsTransports in home1/home2 punch N times per router configuration (fresh punch ports,
 * so fresh NAT mappings, every round). Needs root and ../shared/netlab. Usage:
 *   node --import tsx bench/punch-lab.ts [ROUNDS=20] [TIMEOUT_MS=4000]
 */
import { Lab, type NatFilter, type NatMap } from '../test/lab/harness.ts';
import { PunchRig } from '../test/lab/punch-lab.ts';

const rounds = Number(process.argv[2] ?? 20);
const timeoutMs = Number(process.argv[3] ?? 4000);
const configs: Array<[NatMap, NatFilter, NatMap, NatFilter]> = [
  ['preserve', 'drop', 'preserve', 'drop'],
  ['preserve', 'reject', 'preserve', 'reject'],
  ['preserve', 'drop', 'preserve', 'reject'],
  ['preserve', 'drop', 'random', 'drop'],
  ['random', 'drop', 'random', 'drop'],
  ['random', 'reject', 'random', 'reject'],
];

const lab = new Lab(`natc_bench_${process.pid}`);
await lab.up();
const rig = new PunchRig(lab);
console.log(`punch rounds per configuration: ${rounds}, attempt budget ${timeoutMs} ms (2 shared cores)`);
console.log('| nat1 | nat2 | direct | median ms (ok) | max ms (ok) | SYNs (client, median) | failure codes |');
console.log('|---|---|---|---|---|---|---|');
try {
  await rig.start();
  for (const [m1, f1, m2, f2] of configs) {
    await lab.sh('nat', 'nat1', m1, f1);
    await lab.sh('nat', 'nat2', m2, f2);
    const okMs: number[] = [];
    const syns: number[] = [];
    const codes = new Map<string, number>();
    for (let i = 0; i < rounds; i++) {
      const r = await rig.round(300, timeoutMs);
      if (r.ok) {
        okMs.push(r.ms);
        syns.push(r.a.attempts ?? 0);
      } else {
        const code = `${r.a.code ?? 'ok'}/${r.b.code ?? 'ok'}`;
        codes.set(code, (codes.get(code) ?? 0) + 1);
      }
    }
    const med = (xs: number[]) => (xs.length ? [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)] : '-');
    const max = okMs.length ? Math.max(...okMs) : '-';
    const fails = [...codes].map(([c, n]) => `${c} ×${n}`).join(', ') || '-';
    console.log(
      `| ${m1}/${f1} | ${m2}/${f2} | ${okMs.length}/${rounds} | ${med(okMs)} | ${max} | ${med(syns)} | ${fails} |`,
    );
  }
} finally {
  await rig.stop();
  await lab.down();
}
