/**
 * Hand-made Mesh requests for the attack tests (hostile, hostile-encoding, attacks-core): the
 * envelope headers a node would send, and a contact's keys read from its data dir (what a thief of
 * its disk, or a contact turned hostile, holds).
 */
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { computeProof, deriveLinkKey, requestSigningInput, signEd25519, toB64u } from '../../src/crypto/index.ts';
import type { SelfRecord } from '../../src/protocol/types.ts';
import { SqliteStore } from '../../src/store/index.ts';

/** The keys a request is made with. */
export type SenderKeys = { uuid: string; signPriv: Uint8Array; signPub: Uint8Array; boxPub: Uint8Array };

/**
 * Mesh headers from `self`: a proof under `link` (contacts) or a signature (strangers, link null).
 * `over` replaces any header afterwards; `mesh-id` and `mesh-port` given there are also the ones
 * signed, the others (a tampered version or timestamp) are not.
 */
export function meshHeaders(
  self: SenderKeys,
  type: string,
  body: Uint8Array,
  link: Uint8Array | null,
  over: Record<string, string> = {},
): Record<string, string> {
  const id = over['mesh-id'] ?? toB64u(new Uint8Array(randomBytes(16)));
  const ts = Date.now();
  const port = over['mesh-port'] === undefined ? 7575 : Number(over['mesh-port']);
  const input = requestSigningInput({ version: 1, type, from: self.uuid, id, ts, port, body });
  const h: Record<string, string> = {
    'mesh-version': '1',
    'mesh-type': type,
    'mesh-from': self.uuid,
    'mesh-id': id,
    'mesh-ts': String(ts),
    'mesh-port': String(port),
  };
  if (link) h['mesh-secret'] = computeProof(link, input);
  else {
    const pub = new Uint8Array(64);
    pub.set(self.signPub, 0);
    pub.set(self.boxPub, 32);
    h['mesh-pub-key'] = toB64u(pub);
    h['mesh-signature'] = toB64u(signEd25519(self.signPriv, input));
  }
  return { ...h, ...over };
}

/** A node's identity and its link key with its first contact, read from its (stopped or running) store. */
export function readFirstLink(dataDir: string): { self: SelfRecord; link: Uint8Array } {
  const store = SqliteStore.open(join(dataDir, 'mesh.db'), { readonly: true });
  const self = store.getSelf()!;
  const contact = store.listContacts()[0];
  store.close();
  return { self, link: deriveLinkKey(self.boxPriv, contact.boxPub, contact.secret, self.uuid, contact.uuid) };
}
