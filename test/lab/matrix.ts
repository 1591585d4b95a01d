/**
 * The NAT matrix of issue 10 (`npm run lab:matrix [-- --json] [-- --only preserve/drop/off]`):
 * NAT mapping {preserve, random} × filtering {drop, reject} × port mapping (miniupnpd on the routers)
 * {on, off} × pairs {home–public, home–home with a mutual contact on pub1, both homes behind one
 * router}. In every cell the pair adds each other (invite → add → accept) and exchanges a message
 * each way, exactly once; the cell records whether the path ended direct or relayed (both ends'
 * `mesh contacts --json` `path`) and how long add + both messages took. Real `bin/mesh` daemons in
 * `../shared/netlab` namespaces (needs root and a built dist/, like test/lab). The CI subset is
 * test/lab/nat-paths.test.ts (preserve / drop / off, the first two pairs).
 */
import {
  befriend,
  deliver,
  Lab,
  type LabContact,
  type LabNode,
  labUnavailable,
  type NatFilter,
  type NatMap,
} from './harness.ts';

/** One cell's outcome. */
interface Cell {
  map: NatMap;
  filter: NatFilter;
  upnp: boolean;
  pair: 'home–public' | 'home–home (mutual contact)' | 'same router';
  ok: boolean;
  /** "direct" | "relay" | "none" as both ends see it ("direct/direct", "relay/relay" …), after the messages. */
  path: string;
  /** Add (invite → both active) + one message each way, ms. */
  ms: number;
  /**
   * The path once the pair settled: a relayed pair punches on its own after relayed traffic (§17.6);
   * up to UPGRADE_WAIT_MS after the second message, both ends' path, polled.
   */
  finalPath: string;
  /** From the second message to both ends "direct", ms (0: direct already; null: never within the wait). */
  directAfterMs: number | null;
  /** When the pair did not settle direct: what each end holds for the other (address, path, via, channel). */
  views?: Partial<LabContact>[];
  error?: string;
}

const args = process.argv.slice(2);
const json = args.includes('--json');
const only = args.includes('--only') ? args[args.indexOf('--only') + 1] : null;

/** How long a relayed pair is given to upgrade to direct by itself after its messages (§17.6), ms. */
const UPGRADE_WAIT_MS = 20_000;

async function pathOf(a: LabNode, b: LabNode): Promise<string> {
  const c = (await a.json<LabContact[]>('contacts')).find((x) => x.uuid === b.uuid);
  return c?.path ?? 'none';
}

/** Adds `a` and `b` (a invites), a message each way; returns the cell's path and time. */
type PairResult = Pick<Cell, 'path' | 'ms' | 'finalPath' | 'directAfterMs' | 'views'>;

/** What `a` holds for `b`, in short. */
async function viewOf(a: LabNode, b: LabNode): Promise<Partial<LabContact>> {
  const c = (await a.json<LabContact[]>('contacts')).find((x) => x.uuid === b.uuid);
  return { name: c?.name, address: c?.address, path: c?.path, via: c?.via, channel: c?.channel };
}

async function pairUp(a: LabNode, b: LabNode, tag: string): Promise<PairResult> {
  const t0 = Date.now();
  await befriend(a, b, 30_000);
  await deliver(b, a, `${tag} b→a`, 30_000);
  await deliver(a, b, `${tag} a→b`, 30_000);
  const t1 = Date.now();
  const ms = t1 - t0;
  const both = async () => `${await pathOf(a, b)}/${await pathOf(b, a)}`;
  const path = await both();
  let finalPath = path;
  while (finalPath !== 'direct/direct' && Date.now() - t1 < UPGRADE_WAIT_MS) {
    await new Promise((r) => setTimeout(r, 250));
    finalPath = await both();
  }
  const directAfterMs = finalPath === 'direct/direct' ? (path === finalPath ? 0 : Date.now() - t1) : null;
  if (directAfterMs !== null) return { path, ms, finalPath, directAfterMs };
  return { path, ms, finalPath, directAfterMs, views: [await viewOf(a, b), await viewOf(b, a)] };
}

async function runConfig(map: NatMap, filter: NatFilter, upnp: boolean, n: number): Promise<Cell[]> {
  const lab = new Lab(`nat_mx_${process.pid}_${n}`);
  const cells: Cell[] = [];
  const cell = async (pair: Cell['pair'], f: () => Promise<PairResult>) => {
    try {
      const r = await f();
      cells.push({ map, filter, upnp, pair, ok: true, ...r });
    } catch (e) {
      const error = String(e).slice(0, 300);
      cells.push({
        map,
        filter,
        upnp,
        pair,
        ok: false,
        path: 'none',
        ms: 0,
        finalPath: 'none',
        directAfterMs: null,
        error,
      });
    }
  };
  try {
    await lab.up({ map, filter, upnp });
    const carol = await lab.node('pub1', 'carol');
    const alice = await lab.node('home1', 'alice');
    const bob = await lab.node('home2', 'bob');
    for (const x of [carol, alice, bob]) await x.start();
    await cell('home–public', () => pairUp(carol, alice, 'hp'));
    await cell('home–home (mutual contact)', async () => {
      await befriend(carol, bob, 30_000);
      return pairUp(alice, bob, 'hh');
    });
    // Both homes behind nat1: fresh nodes (bob's host moves; its daemon restarts on the new LAN).
    await cell('same router', async () => {
      await Promise.all([alice.stop(), bob.stop()]);
      await lab.sh('move', 'home2', 'nat1');
      const ann = await lab.node('home1', 'ann');
      const ben = await lab.node('home2', 'ben');
      await ann.start();
      await ben.start();
      await befriend(carol, ann, 30_000);
      await befriend(carol, ben, 30_000);
      return pairUp(ann, ben, 'sr');
    });
  } finally {
    await lab.down();
  }
  return cells;
}

async function main(): Promise<void> {
  const why = labUnavailable();
  if (why) throw new Error(why);
  const all: Cell[] = [];
  let n = 0;
  for (const map of ['preserve', 'random'] as const)
    for (const filter of ['drop', 'reject'] as const)
      for (const upnp of [false, true]) {
        const key = `${map}/${filter}/${upnp ? 'on' : 'off'}`;
        if (only && only !== key) continue;
        const cells = await runConfig(map, filter, upnp, n++);
        all.push(...cells);
        if (!json)
          for (const c of cells)
            console.error(
              `${key.padEnd(20)} ${c.pair.padEnd(28)} ${c.ok ? 'ok ' : 'FAIL'} ${c.path.padEnd(14)} → ${c.finalPath.padEnd(14)} ${c.ms} ms${c.error ? ` ${c.error}` : ''}${c.views ? ` ${JSON.stringify(c.views)}` : ''}`,
            );
      }
  if (json) {
    console.log(JSON.stringify(all, null, 2));
    return;
  }
  console.log(
    '\n| mapping | filtering | port mapping | pair | result | path after the messages (a/b) | settled path | time | direct after |',
  );
  console.log('|---|---|---|---|---|---|---|---|---|');
  const sec = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
  for (const c of all)
    console.log(
      `| ${c.map} | ${c.filter} | ${c.upnp ? 'on' : 'off'} | ${c.pair} | ${c.ok ? 'ok' : 'FAIL'} | ${c.path} | ${c.finalPath} | ${c.ok ? sec(c.ms) : '–'} | ${c.directAfterMs === null ? '–' : sec(c.directAfterMs)} |`,
    );
  const ok = all.filter((c) => c.ok).length;
  const direct = all.filter((c) => c.ok && c.finalPath === 'direct/direct').length;
  // Where the NATs allow a direct path physically (issue 10): preserve mapping, or port mapping on.
  const possible = all.filter((c) => c.map === 'preserve' || c.upnp);
  const possibleDirect = possible.filter((c) => c.ok && c.finalPath === 'direct/direct').length;
  console.log(
    `\n${ok}/${all.length} cells ok; ${direct} direct, ${ok - direct} relayed; direct where physically possible: ${possibleDirect}/${possible.length}.`,
  );
  if (ok < all.length) process.exitCode = 1;
}

await main();
