/**
 * What a running node shows: the view types of its library API, and the address it advertises.
 */
import { networkInterfaces } from 'node:os';
import type { Store } from '../ports.ts';
import type { ContactRecord, OutboxRecord } from '../protocol/types.ts';
import { formatAddress, parseAddress } from '../util/address.ts';

/** A contact as the API shows it. */
export interface ContactView {
  uuid: string;
  name: string;
  address: string | null;
  online: boolean;
  lastSeen: number | null;
  status: ContactRecord['status'];
  domain: string | null;
  /** A channel to this contact is open now (docs/PROTOCOL.md §13). */
  channel: boolean;
}

/** One line of a conversation. */
export interface ConversationItem {
  id: string;
  from: string;
  to: string;
  text: string;
  sentAt: number;
  receivedAt: number | null;
  state: OutboxRecord['state'] | 'received';
  direction: 'in' | 'out';
}

/** `status` of a running node. */
export interface NodeStatus {
  uuid: string;
  name: string;
  listen: string[];
  observed: string[];
  contacts: { total: number; online: number };
  referrals: number;
  outbox: number;
  drops: Record<string, number>;
}

/** The address to advertise for a bound "ip:port": itself when specific, else the first external IPv4. */
export function advertisedAddress(bound: string): string {
  const { host, port } = parseAddress(bound);
  if (host !== '0.0.0.0' && host !== '::') return bound;
  for (const list of Object.values(networkInterfaces())) {
    for (const a of list ?? []) if (a.family === 'IPv4' && !a.internal) return formatAddress({ host: a.address, port });
  }
  return formatAddress({ host: '127.0.0.1', port });
}

/** The conversation of `me` with contact `uuid` from the store, oldest first; `live` gives an outbox message's current state. */
export function conversationWith(
  store: Store,
  me: string,
  uuid: string,
  live: (id: string) => OutboxRecord['state'] | undefined,
): ConversationItem[] {
  const out: ConversationItem[] = [];
  for (const m of store.listOutbox())
    if (m.to === uuid)
      out.push({
        id: m.id,
        from: me,
        to: uuid,
        text: m.text,
        sentAt: m.createdAt,
        receivedAt: m.deliveredAt,
        state: live(m.id) ?? m.state,
        direction: 'out',
      });
  for (const m of store.listInbox())
    if (m.from === uuid)
      out.push({
        id: m.id,
        from: uuid,
        to: me,
        text: m.text,
        sentAt: m.sentAt,
        receivedAt: m.receivedAt,
        state: 'received',
        direction: 'in',
      });
  return out.sort((a, b) => a.sentAt - b.sentAt || (a.id < b.id ? -1 : 1));
}
