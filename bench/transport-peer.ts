/**
 * The far end of a two-thread transport bench (bench/transport.ts): runs in a worker thread, so each
 * end of a pair has its own event loop and core, as two real nodes do. Started by {@link startPeer}
 * with what to serve: the baseline's fastify server, the raw TLS echo, or Mesh node B (whose
 * deliveries it reports to the main thread, with the wall-clock time of each).
 */
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';

/** What the worker serves. */
export type PeerSpec =
  | { kind: 'baseline' }
  | { kind: 'raw' }
  | { kind: 'mesh'; dir: string; index: number; channel: boolean; ids: import('./transport-mesh.ts').BenchIds };

/** Messages from the worker. */
type PeerMsg =
  | { type: 'ready'; port: number }
  | { type: 'delivered'; ids: string[]; at: number[] }
  | { type: 'stopped'; commits: number };

/** A running worker peer. */
export interface Peer {
  port: number;
  /** Called with batches of delivered message ids and their wall-clock times (`performance.timeOrigin + now`). */
  onDelivered: (ids: string[], at: number[]) => void;
  /** SQLite commits of the peer's Mesh node (known after `stop`). */
  commits: number;
  stop(): Promise<void>;
}

/** Starts a peer thread and waits until it listens. */
export async function startPeer(spec: PeerSpec): Promise<Peer> {
  // A worker does not inherit the tsx loader: register it, then load this file as the worker's code.
  const boot = `import(${JSON.stringify(import.meta.resolve('tsx/esm/api'))}).then((m) => { m.register(); return import(${JSON.stringify(import.meta.url)}); })`;
  const w = new Worker(boot, { eval: true, workerData: spec });
  let stopped: () => void = () => {};
  const peer: Peer = {
    port: 0,
    commits: 0,
    onDelivered: () => {},
    stop: () =>
      new Promise<void>((r) => {
        stopped = r;
        w.postMessage('stop');
      }).then(() => w.terminate().then(() => {})),
  };
  await new Promise<void>((resolve, reject) => {
    w.once('error', reject);
    w.once('exit', (code) => reject(new Error(`bench peer exited (${code}) before it listened`)));
    w.on('message', (m: PeerMsg) => {
      if (m.type === 'ready') {
        peer.port = m.port;
        resolve();
      } else if (m.type === 'delivered') peer.onDelivered(m.ids, m.at);
      else if (m.type === 'stopped') {
        peer.commits = m.commits;
        stopped();
      }
    });
  });
  return peer;
}

async function serve(spec: PeerSpec): Promise<{ port: number; stop: () => Promise<void>; commits?: () => number }> {
  if (spec.kind === 'baseline') {
    const { startBaselineServer } = await import('./transport-baseline.ts');
    return startBaselineServer();
  }
  if (spec.kind === 'raw') {
    const { startEchoServer } = await import('./transport-raw.ts');
    return startEchoServer();
  }
  const { commits, startMeshNode } = await import('./transport-mesh.ts');
  const node = await startMeshNode(spec.dir, spec.index, spec.ids, spec.channel);
  // Deliveries leave in one batch per group commit (a microtask after the flush that emitted them):
  // one postMessage per message would cost both threads more than the message itself.
  let ids: string[] = [];
  let at: number[] = [];
  node.on('message', (m: { id: string }) => {
    if (ids.length === 0)
      queueMicrotask(() => {
        parentPort?.postMessage({ type: 'delivered', ids, at });
        ids = [];
        at = [];
      });
    ids.push(m.id);
    at.push(performance.timeOrigin + performance.now());
  });
  return { port: 17575, stop: () => node.stop(), commits: () => commits.get(node)?.() ?? 0 };
}

if (!isMainThread && parentPort) {
  const port = parentPort;
  const s = await serve(workerData as PeerSpec);
  port.on('message', async (m) => {
    if (m === 'stop') {
      await s.stop();
      port.postMessage({ type: 'stopped', commits: s.commits?.() ?? 0 });
    }
  });
  port.postMessage({ type: 'ready', port: s.port });
}
