/**
 * Soak (issue 12 item 5): three real MeshNodes (HTTPS on 127.0.0.61–63, SQLite on disk, shipped
 * defaults — rate limit included) in one process, all contacts of each other, each sending to each
 * of its contacts at a steady rate for `--minutes`. Samples RSS, heap, open handles, each node's
 * status and its Store's row counts; prints a table and one JSON line with the least-squares slope
 * of each series per minute (fitted after the first 20 % of samples, the warm-up).
 *
 * The per-IP rate limit is 600 requests/min: each ordered pair sends `--rate` messages/s
 * (default 3 → 180/min from one IP to one node, plus acks and announces), well under it.
 *
 * Retention (issue 12 item 6): the shipped retention (31 days of delivered ids, 30 days of outbox
 * history) cannot show in 10 minutes, so the soak shortens it to `--retention-s` (default 120 s:
 * de-duplication memory 120 s, outbox history 60 s, a sweep every 15 s, replay window 30 s so the
 * config stays valid) and, like a user, clears inbox rows older than a minute every `--clear-s`
 * (default 60; 0 = never). `--retention-s 0` keeps the shipped retention (the tables then grow at the
 * message rate, as they should for a month). Flat means: no series grows once retention is reached.
 *
 * `--host-base N` moves the nodes to 127.0.0.N…N+2 (default 61), so a baseline can run beside it.
 *
 *   nice -n 10 node --expose-gc --import tsx bench/soak.ts --minutes 10 --rate 3 --sample 10
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deriveUuid, generateKeyPairs } from '../src/crypto/index.ts';
import type { ContactRecord, SelfRecord } from '../src/protocol/types.ts';
import { MeshNode } from '../src/runtime/mesh-node.ts';
import { SqliteStore } from '../src/store/index.ts';
import { HttpsTransport } from '../src/transport/https/index.ts';

function flag(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i < 0 ? fallback : Number(process.argv[i + 1]);
}

const MINUTES = flag('minutes', 10);
const RATE = flag('rate', 3);
const SAMPLE_S = flag('sample', 10);
const RETENTION_S = flag('retention-s', 120);
const CLEAR_S = flag('clear-s', 60);
const core =
  RETENTION_S > 0
    ? {
        deliveredRetentionMs: RETENTION_S * 1000,
        outboxHistoryMs: (RETENTION_S * 1000) / 2,
        sweepIntervalMs: 15_000,
        replayWindowMs: Math.min(30_000, (RETENTION_S * 1000) / 4),
      }
    : {};
/** First host of the three (127.0.0.N…N+2): a second soak (e.g. a baseline) can run beside the first. */
const HOST_BASE = flag('host-base', 61);
const HOSTS = [0, 1, 2].map((i) => `127.0.0.${HOST_BASE + i}`);
const rand = (n: number) => new Uint8Array(randomBytes(n));

async function freePort(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, host, () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
  });
}

/** Least-squares slope of y over x. */
export function slope(xs: number[], ys: number[]): number {
  const n = xs.length;
  if (n < 2) return 0;
  const mx = xs.reduce((a, b) => a + b, 0) / n;
  const my = ys.reduce((a, b) => a + b, 0) / n;
  let num = 0;
  let den = 0;
  for (let i = 0; i < n; i++) {
    num += (xs[i] - mx) * (ys[i] - my);
    den += (xs[i] - mx) ** 2;
  }
  return den === 0 ? 0 : num / den;
}

const dir = mkdtempSync(join(tmpdir(), 'mesh-soak-'));
const ids: SelfRecord[] = HOSTS.map((_, i) => {
  const k = generateKeyPairs(rand);
  return { uuid: deriveUuid(k.signPub, k.boxPub), name: `n${i}`, ...k, createdAt: Date.now() };
});
const ports = await Promise.all(HOSTS.map((h) => freePort(h)));
const secrets = new Map<string, Uint8Array>();
const secretOf = (i: number, j: number) => {
  const key = `${Math.min(i, j)}-${Math.max(i, j)}`;
  if (!secrets.has(key)) secrets.set(key, rand(32));
  return secrets.get(key) as Uint8Array;
};
const stores = ids.map((self, i) => {
  const store = SqliteStore.open(join(dir, `${self.name}.db`));
  const contacts: ContactRecord[] = ids
    .map((other, j) => ({ other, j }))
    .filter(({ j }) => j !== i)
    .map(({ other, j }) => ({
      uuid: other.uuid,
      name: other.name,
      signPub: other.signPub,
      boxPub: other.boxPub,
      secret: secretOf(i, j),
      address: `${HOSTS[j]}:${ports[j]}`,
      status: 'active',
      lastSeen: Date.now(),
      addedAt: Date.now(),
      domain: null,
    }));
  store.apply([{ op: 'self:put', self }, ...contacts.map((contact) => ({ op: 'contact:put' as const, contact }))]);
  return store;
});
const nodes = ids.map(
  (self, i) =>
    new MeshNode({
      store: stores[i],
      transport: new HttpsTransport({ host: HOSTS[i], port: ports[i], signPriv: self.signPriv, signPub: self.signPub }),
      core,
    }),
);
await Promise.all(nodes.map((n) => n.start()));

let sent = 0;
let sendErrors = 0;
let delivered = 0;
for (const n of nodes) n.on('message', () => delivered++);
const pumps: NodeJS.Timeout[] = [];
for (let i = 0; i < nodes.length; i++)
  for (let j = 0; j < nodes.length; j++) {
    if (i === j) continue;
    let k = 0;
    pumps.push(
      setInterval(() => {
        sent++;
        nodes[i].send(ids[j].uuid, `soak ${i}→${j} #${k++} ${'x'.repeat(200)}`).catch(() => sendErrors++);
      }, 1000 / RATE),
    );
  }

interface Sample {
  min: number;
  rssMB: number;
  heapMB: number;
  handles: number;
  inbox: number;
  outbox: number;
  queued: number;
  referrals: number;
  /** Entries of the cores' de-duplication memory (delivered (from, id)). */
  dedup: number;
  /** Rows of the stores' `delivered` table (cleared inbox rows not yet pruned). */
  deliveredRows: number;
  online: number;
  sent: number;
  delivered: number;
}
const samples: Sample[] = [];
let cleared = 0;
const clearer =
  CLEAR_S > 0
    ? setInterval(() => {
        for (const n of nodes) cleared += n.clearInbox({ before: Date.now() - 60_000 }).deleted;
      }, CLEAR_S * 1000)
    : null;
const t0 = Date.now();
const activeHandles = () => (process as unknown as { _getActiveHandles(): unknown[] })._getActiveHandles().length;
/** With `node --expose-gc`, each sample is taken after a full collection: the live heap, not garbage. */
const gc = (globalThis as { gc?: () => void }).gc;
const take = () => {
  gc?.();
  const mem = process.memoryUsage();
  const st = nodes.map((n) => n.status());
  samples.push({
    min: Number(((Date.now() - t0) / 60_000).toFixed(2)),
    rssMB: Number((mem.rss / 2 ** 20).toFixed(1)),
    heapMB: Number((mem.heapUsed / 2 ** 20).toFixed(1)),
    handles: activeHandles(),
    inbox: stores.reduce((a, s) => a + s.listInbox().length, 0),
    outbox: stores.reduce((a, s) => a + s.listOutbox().length, 0),
    queued: st.reduce((a, s) => a + s.outbox, 0),
    referrals: st.reduce((a, s) => a + s.referrals, 0),
    dedup: nodes.reduce((a, n) => a + n.core.state.delivered.size, 0),
    deliveredRows: stores.reduce((a, s) => a + s.listDelivered().length - s.listInbox().length, 0),
    online: st.reduce((a, s) => a + s.contacts.online, 0),
    sent,
    delivered,
  });
  process.stderr.write(`\r${JSON.stringify(samples[samples.length - 1])}`.padEnd(120));
};
take();
await new Promise<void>((resolve) => {
  const timer = setInterval(() => {
    take();
    if (Date.now() - t0 >= MINUTES * 60_000) {
      clearInterval(timer);
      resolve();
    }
  }, SAMPLE_S * 1000);
});
for (const p of pumps) clearInterval(p);
if (clearer) clearInterval(clearer);
await new Promise((r) => setTimeout(r, 3000));
take();
process.stderr.write('\n');
const drops = nodes.map((n) => n.status().drops);
await Promise.all(nodes.map((n) => n.stop()));
for (const s of stores) s.close();
rmSync(dir, { recursive: true, force: true });

const steady = samples.slice(Math.floor(samples.length * 0.2), -1);
const xs = steady.map((s) => s.min);
const slopes: Record<string, number> = {};
for (const k of [
  'rssMB',
  'heapMB',
  'handles',
  'inbox',
  'outbox',
  'queued',
  'referrals',
  'dedup',
  'deliveredRows',
] as const)
  slopes[`${k}PerMin`] = Number(
    slope(
      xs,
      steady.map((s) => s[k]),
    ).toFixed(3),
  );
console.table(samples);
console.log(
  JSON.stringify({
    bench: 'soak',
    minutes: MINUTES,
    liveHeap: gc !== undefined,
    nodes: nodes.length,
    ratePerPairPerSec: RATE,
    retention: RETENTION_S > 0 ? core : 'shipped',
    clearEverySec: CLEAR_S,
    cleared,
    messagesPerMin: RATE * 60 * nodes.length * (nodes.length - 1),
    sent,
    delivered,
    sendErrors,
    first: samples[0],
    last: samples[samples.length - 1],
    slopes,
    drops,
  }),
);
