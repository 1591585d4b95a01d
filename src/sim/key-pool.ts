/**
 * The key pairs of every simulated node, on worker threads when there are many: deriving a node's
 * Ed25519 and X25519 public keys costs ~130 µs of OpenSSL, ~130 CPU s at 10⁶ nodes. The seeds are
 * drawn here, in node order, from the run's key stream exactly as `generateKeyPairs` draws them
 * (64 bytes a node), so the keys — and the run — do not depend on the number of workers.
 */
import { availableParallelism } from 'node:os';
import { extname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { deriveKeys } from './key-worker.ts';
import type { Rng } from './rng.ts';

/** Below this many nodes the keys are derived inline (starting workers costs more than it saves). */
export const KEY_POOL_MIN_NODES = 20_000;

/**
 * The worker runs from the same tree as this module: dist/'s .js directly; under tsx (.ts sources)
 * through a bootstrap that registers tsx's loader in the worker first (Node 20 does not run the
 * parent's `--import tsx` in workers). Returned as a URL; a non-file one carries the bootstrap code.
 */
function workerUrl(): URL {
  const ext = extname(fileURLToPath(import.meta.url));
  const file = new URL(`./key-worker${ext}`, import.meta.url);
  if (ext !== '.ts') return file;
  const api = import.meta.resolve('tsx/esm/api');
  const code = `import(${JSON.stringify(api)}).then((t) => { t.register(); return import(${JSON.stringify(file.href)}); });`;
  return new URL(`eval:${encodeURIComponent(code)}`);
}

/** Keys of `n` nodes: 128 bytes a node (signPub ‖ signPriv ‖ boxPub ‖ boxPriv) and their uuids. */
export async function keyPairsOf(
  rng: Rng,
  n: number,
  workers = Math.min(4, availableParallelism()),
  minNodes = KEY_POOL_MIN_NODES,
): Promise<{ keys: Uint8Array; uuids: string[] }> {
  const seeds = new Uint8Array(64 * n);
  for (let v = 0; v < n; v++) seeds.set(rng.bytes(64), 64 * v);
  if (n < minNodes || workers < 2) return deriveKeys(seeds);
  const url = workerUrl();
  const per = Math.ceil(n / workers);
  const parts = await Promise.all(
    Array.from({ length: workers }, (_, w) => {
      const chunk = seeds.slice(64 * w * per, 64 * Math.min(n, (w + 1) * per));
      return new Promise<{ keys: Uint8Array; uuids: string[] }>((resolve, reject) => {
        const worker =
          url.protocol === 'file:' ? new Worker(url) : new Worker(decodeURIComponent(url.pathname), { eval: true });
        worker.once('message', (m: { keys: Uint8Array; uuids: string[] }) => {
          resolve(m);
          void worker.terminate();
        });
        worker.once('error', reject);
        worker.postMessage({ seeds: chunk }, [chunk.buffer]);
      });
    }),
  );
  const keys = new Uint8Array(128 * n);
  const uuids: string[] = [];
  parts.forEach((p, w) => {
    keys.set(p.keys, 128 * w * per);
    for (const u of p.uuids) uuids.push(u);
  });
  return { keys, uuids };
}
