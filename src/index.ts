/**
 * mesh-p2p: the library entry point.
 *
 *   import { MeshNode, SqliteStore, HttpsTransport, createIdentity } from 'mesh-p2p';
 *   const store = SqliteStore.open('mesh.db');
 *   if (!store.getSelf()) store.apply([{ op: 'self:put', self: createIdentity('alice') }]);
 *   const self = store.getSelf()!;
 *   const node = new MeshNode({ store, transport: new HttpsTransport({ signPriv: self.signPriv, signPub: self.signPub }) });
 *   node.on('message', (m) => console.log(m.from, m.text));
 *   await node.start();
 */
import { randomBytes } from 'node:crypto';
import { createIdentity as createIdentityWith } from './protocol/identity.ts';
import type { SelfRecord } from './protocol/types.ts';

export { MeshError } from './errors.ts';
export type { Clock, Logger, Random, Store, Transport } from './ports.ts';
export type { CoreInit } from './protocol/config.ts';
export { DEFAULT_CONFIG } from './protocol/config.ts';
export type { AppEvent, Command, CoreEvent, Effect } from './protocol/events.ts';
export { type CoreSnapshot, MeshCore } from './protocol/node.ts';
export type { ContactRecord, DeliveredRecord, InboxRecord, OutboxRecord, SelfRecord } from './protocol/types.ts';
export { type ContactView, MeshNode, type MeshNodeInit, type NodeStatus } from './runtime/mesh-node.ts';
export { MemoryStore, SqliteStore } from './store/index.ts';
export { HttpsTransport, type HttpsTransportInit } from './transport/https/index.ts';
export { MemoryNetwork } from './transport/memory/index.ts';

/** Creates a fresh identity record (keys + self-certifying UUID) to store with `self:put`. */
export function createIdentity(name: string): SelfRecord {
  return createIdentityWith(name, { random: (n) => new Uint8Array(randomBytes(n)), now: Date.now() });
}
