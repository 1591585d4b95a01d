/**
 * The one way to make a node's identity record: key pairs from 64 random bytes, the self-certifying
 * UUID derived from them (docs/PROTOCOL.md §Identity).
 *
 *   const self = createIdentity('alice', { random: (n) => randomBytes(n), now: Date.now() });
 */
import { deriveUuid, generateKeyPairs } from '../crypto/index.ts';
import type { SelfRecord } from './types.ts';

/** Where an identity's randomness and creation time come from (seeded in tests and the simulator). */
export interface IdentityComponents {
  /** Random bytes: crypto-strong for real nodes. */
  random: (n: number) => Uint8Array;
  /** Creation time, unix ms. */
  now: number;
}

/** Creates a fresh identity record (keys + self-certifying UUID) to store with `self:put`. */
export function createIdentity(name: string, components: IdentityComponents): SelfRecord {
  const keys = generateKeyPairs(components.random);
  return { uuid: deriveUuid(keys.signPub, keys.boxPub), name, ...keys, createdAt: components.now };
}
