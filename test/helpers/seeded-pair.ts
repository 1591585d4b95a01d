/**
 * Two identities that are already each other's contacts, for tests that start real nodes on
 * stores seeded directly (no invite round): `pairIdentities` makes them, `seedContact` writes one
 * side's self record and its active contact for the other; `waitFor` polls for what they do.
 */
import { randomBytes } from 'node:crypto';
import { deriveUuid, generateKeyPairs } from '../../src/crypto/index.ts';
import type { Store } from '../../src/ports.ts';
import type { ContactRecord, SelfRecord } from '../../src/protocol/types.ts';

const rand = (n: number) => new Uint8Array(randomBytes(n));

/** Identities named `names`, and the contact secret they share. */
export function pairIdentities(names: [string, string] = ['a', 'b']): {
  ids: [SelfRecord, SelfRecord];
  secret: Uint8Array;
} {
  const [a, b] = names.map((name) => {
    const k = generateKeyPairs(rand);
    return { uuid: deriveUuid(k.signPub, k.boxPub), name, ...k, createdAt: Date.now() } as SelfRecord;
  });
  return { ids: [a as SelfRecord, b as SelfRecord], secret: rand(32) };
}

/** Writes `self` and an active contact for `other` at `address` into `store`. */
export function seedContact(
  store: Store,
  self: SelfRecord,
  other: SelfRecord,
  secret: Uint8Array,
  address: string,
): void {
  const contact: ContactRecord = {
    uuid: other.uuid,
    name: other.name,
    signPub: other.signPub,
    boxPub: other.boxPub,
    secret,
    address,
    status: 'active',
    lastSeen: Date.now(),
    addedAt: Date.now(),
    domain: null,
  };
  store.apply([
    { op: 'self:put', self },
    { op: 'contact:put', contact },
  ]);
}

/** Polls `cond` every 10 ms until it holds; throws after `ms` naming `what`. */
export async function waitFor(cond: () => boolean, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
