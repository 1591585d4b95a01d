/**
 * Worker thread of key-pool.ts: derives the key pairs and uuids of a chunk of nodes from their
 * seeds. Message in: `{ seeds }` (64 bytes per node); out: `{ keys, uuids }` (128 bytes per node:
 * signPub ‖ signPriv ‖ boxPub ‖ boxPriv), the key buffer transferred.
 */
import { parentPort } from 'node:worker_threads';
import { deriveUuid, keyPairsFromSeed } from '../crypto/index.ts';

/** Derives the keys of `seeds.length / 64` nodes (also used inline for small runs). */
export function deriveKeys(seeds: Uint8Array): { keys: Uint8Array; uuids: string[] } {
  const n = seeds.length / 64;
  const keys = new Uint8Array(128 * n);
  const uuids: string[] = new Array(n);
  for (let v = 0; v < n; v++) {
    const kp = keyPairsFromSeed(seeds.subarray(64 * v, 64 * v + 64));
    const o = 128 * v;
    keys.set(kp.signPub, o);
    keys.set(kp.signPriv, o + 32);
    keys.set(kp.boxPub, o + 64);
    keys.set(kp.boxPriv, o + 96);
    uuids[v] = deriveUuid(kp.signPub, kp.boxPub);
  }
  return { keys, uuids };
}

parentPort?.on('message', (m: { seeds: Uint8Array }) => {
  const out = deriveKeys(m.seeds);
  parentPort!.postMessage(out, [out.keys.buffer as ArrayBuffer]);
});
