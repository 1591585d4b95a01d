/**
 * The Mesh cases of bench/transport.ts: two real MeshNodes (HTTPS on 127.0.0.2 / 127.0.0.3,
 * durable SQLite stores, rate limits AS SHIPPED), `node.send` on A → delivered to the app on B, 10
 * in flight, with the channel binding off (POST only, like a v1 peer) or on. With `split`, node B
 * runs in a worker thread (bench/transport-peer.ts): each node has its own event loop, as two real
 * nodes do; otherwise both share one thread.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deriveUuid, generateKeyPairs } from '../src/crypto/index.ts';
import type { ContactRecord, InboxRecord, SelfRecord } from '../src/protocol/types.ts';
import { MeshNode } from '../src/runtime/mesh-node.ts';
import { SqliteStore } from '../src/store/index.ts';
import { HttpsTransport } from '../src/transport/https/index.ts';

const HOSTS = ['127.0.0.2', '127.0.0.3'];
const rand = (n: number) => new Uint8Array(randomBytes(n));

/** Both identities and the secret they share (made once, used by both threads). */
export interface BenchIds {
  selves: SelfRecord[];
  secret: Uint8Array;
}

function makeIds(): BenchIds {
  const selves = ['a', 'b'].map((name) => {
    const k = generateKeyPairs(rand);
    return { uuid: deriveUuid(k.signPub, k.boxPub), name, ...k, createdAt: Date.now() } as SelfRecord;
  });
  return { selves, secret: rand(32) };
}

/** SQLite commits made by each node's store (the bench's count of durable writes). */
export const commits = new WeakMap<MeshNode, () => number>();

/** Starts node `index` (0 = A, 1 = B) with the other as its contact. */
export async function startMeshNode(dir: string, index: number, ids: BenchIds, channel: boolean): Promise<MeshNode> {
  const self = ids.selves[index];
  const other = ids.selves[1 - index];
  const store = SqliteStore.open(join(dir, `${self.name}.db`));
  // Counts transactions: the cost that group commit and deferred writes are about, and a number
  // that, unlike msgs/s, does not swing with the load other processes put on the machine.
  let n = 0;
  const apply = store.apply.bind(store);
  store.apply = (ops) => {
    n++;
    apply(ops);
  };
  const contact: ContactRecord = {
    uuid: other.uuid,
    name: other.name,
    signPub: other.signPub,
    boxPub: other.boxPub,
    secret: ids.secret,
    address: `${HOSTS[1 - index]}:17575`,
    status: 'active',
    lastSeen: Date.now(),
    addedAt: Date.now(),
    domain: null,
  };
  store.apply([
    { op: 'self:put', self },
    { op: 'contact:put', contact },
  ]);
  const transport = new HttpsTransport({
    host: HOSTS[index],
    port: 17575,
    signPriv: self.signPriv,
    signPub: self.signPub,
    // Rate limits as shipped; the box key turns the channel binding on.
    ...(channel ? { boxPub: self.boxPub } : {}),
  });
  const node = new MeshNode({ store, transport });
  commits.set(node, () => n);
  await node.start();
  return node;
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
}

/** Result of one Mesh case. */
export interface MeshRunResult {
  msgsPerSec: number;
  p50Ms: number;
  p99Ms: number;
  messages: number;
  /** Process CPU time (both nodes, all threads) per delivered message, µs. */
  cpuUsPerMsg: number;
  /** SQLite commits per delivered message on the sender and the receiver (whole run, warm-up included). */
  commitsPerMsg: { sender: number; receiver: number };
}

/** Runs one Mesh case for `seconds` after a 0.5 s warm-up. */
export async function meshRun(seconds: number, channel: boolean, inFlight: number, split: boolean) {
  const dir = mkdtempSync(join(tmpdir(), 'mesh-bench-'));
  const ids = makeIds();
  const bUuid = ids.selves[1].uuid;
  const sentAt = new Map<string, number>();
  const latencies: number[] = [];
  let done = 0;
  let all = 0;
  let stopAt = 0;
  let pending = 0;
  let finish: () => void = () => {};
  const now = () => performance.timeOrigin + performance.now();
  /** Deliveries reported before A's send() resolved with their id (possible across threads). */
  const early = new Map<string, number>();
  const delivered = (id: string, at: number) => {
    const t0 = sentAt.get(id);
    if (t0 !== undefined) {
      latencies.push(at - t0);
      sentAt.delete(id);
    } else early.set(id, at);
    done++;
    all++;
    pending--;
  };
  // B first (in a worker when split), then A; A's channel opens once both listen.
  let stopB: () => Promise<number>;
  let b: MeshNode | null = null;
  let pump: () => void = () => {};
  if (split) {
    // Imported here: the worker loads this file from transport-peer.ts, and a static import back would deadlock its top-level await.
    const { startPeer } = await import('./transport-peer.ts');
    const peer = await startPeer({ kind: 'mesh', dir, index: 1, channel, ids });
    peer.onDelivered = (got, at) => {
      for (let i = 0; i < got.length; i++) delivered(got[i], at[i]);
      pump();
    };
    stopB = () => peer.stop().then(() => peer.commits);
  } else {
    b = await startMeshNode(dir, 1, ids, channel);
    b.on('message', (m: InboxRecord) => {
      delivered(m.id, now());
      pump();
    });
    const node = b;
    stopB = () => node.stop().then(() => commits.get(node)?.() ?? 0);
  }
  const a = await startMeshNode(dir, 0, ids, channel);
  if (channel) {
    const t0 = Date.now();
    while (!a.contacts()[0]?.channel) {
      if (Date.now() - t0 > 5000) throw new Error('bench: the channel did not open');
      await new Promise((r) => setTimeout(r, 5));
    }
  }
  const text = 'x'.repeat(400);
  pump = () => {
    while (pending < inFlight && performance.now() < stopAt) {
      pending++;
      const t0 = now();
      a.send(bUuid, text).then((id) => {
        const at = early.get(id);
        if (at === undefined) sentAt.set(id, t0);
        else {
          early.delete(id);
          latencies.push(at - t0);
        }
      });
    }
    if (pending === 0 && performance.now() >= stopAt) finish();
  };
  const phase = async (ms: number) => {
    const finished = new Promise<void>((r) => (finish = r));
    stopAt = performance.now() + ms;
    pump();
    await finished;
  };
  await phase(500); // warm-up: TLS handshakes, JIT
  latencies.length = 0;
  done = 0;
  sentAt.clear();
  early.clear();
  const start = performance.now();
  const cpu0 = process.cpuUsage();
  await phase(seconds * 1000);
  const elapsed = (performance.now() - start) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const [, receiverCommits] = await Promise.all([a.stop(), stopB()]);
  const senderCommits = commits.get(a)?.() ?? 0;
  rmSync(dir, { recursive: true, force: true });
  latencies.sort((x, y) => x - y);
  return {
    msgsPerSec: Math.round(done / elapsed),
    p50Ms: percentile(latencies, 50),
    p99Ms: percentile(latencies, 99),
    messages: done,
    cpuUsPerMsg: Math.round((cpu.user + cpu.system) / Math.max(1, done)),
    commitsPerMsg: {
      sender: Math.round((100 * senderCommits) / Math.max(1, all)) / 100,
      receiver: Math.round((100 * receiverCommits) / Math.max(1, all)) / 100,
    },
  } satisfies MeshRunResult;
}
