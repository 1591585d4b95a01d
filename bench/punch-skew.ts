/**
 * How far apart the two ends may start their SYNs and still punch through `drop` routers (the
 * start time comes from a relayed round-trip estimate, PROTOCOL.md §17.3): the kernel retransmits a
 * lost SYN after 1 s and 3 s, so the later end's SYN finds the earlier end's mapping. NAT lab,
 * preserve/drop both sides. Usage: node --import tsx bench/punch-skew.ts [ROUNDS=10]
 */
import { Lab } from '../test/lab/harness.ts';
import { PunchRig } from '../test/lab/punch-lab.ts';

const rounds = Number(process.argv[2] ?? 10);
const lab = new Lab(`natc_skew_${process.pid}`);
await lab.up({ map: 'preserve', filter: 'drop' });
const rig = new PunchRig(lab);
console.log(`preserve/drop, ${rounds} rounds per skew, attempt budget 10 s (2 shared cores)`);
console.log('| b starts after a by | direct | median ms from a’s start (ok) | client SYNs (median) |');
console.log('|---|---|---|---|');
try {
  await rig.start();
  for (const skew of [0, 100, 500, 1500, 4000]) {
    const ms: number[] = [];
    const syns: number[] = [];
    for (let i = 0; i < rounds; i++) {
      const r = await rig.round(300, 10_000, skew);
      if (r.ok) {
        ms.push(r.ms);
        syns.push(r.a.attempts ?? 0);
      }
    }
    const med = (xs: number[]) => (xs.length ? [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)] : '-');
    console.log(`| ${skew} ms | ${ms.length}/${rounds} | ${med(ms)} | ${med(syns)} |`);
  }
} finally {
  await rig.stop();
  await lab.down();
}
