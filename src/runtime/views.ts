/**
 * What a running node shows: the view types of its library API, and the address it advertises.
 */
import { networkInterfaces } from 'node:os';
import type { Store } from '../ports.ts';
import type { MeshCore } from '../protocol/node.ts';
import type { NatState, Reachability } from '../protocol/state.ts';
import type { ContactRecord, OutboxRecord } from '../protocol/types.ts';
import { formatAddress, parseAddress } from '../util/address.ts';
import type { PortMappingStatus } from './port-mapping.ts';

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
  /** How requests to it go now (§16): over a channel or its address, through a mutual contact, or not at all. */
  path: 'direct' | 'relay' | 'none';
  /** The mutual contact relaying for it when `path` is "relay", else null. */
  via: string | null;
}

/** `channel`, `path` and `via` of a contact view (docs/PROTOCOL.md §16.3). */
export function contactPath(
  core: MeshCore,
  c: ContactRecord,
  channel: boolean,
): Pick<ContactView, 'channel' | 'path' | 'via'> {
  if (channel) return { channel, path: 'direct', via: null };
  const via = core.state.relayVia.get(c.uuid);
  const relay = via ? core.contact(via) : undefined;
  if (relay && relay.status === 'active' && core.state.channels.has(relay.uuid))
    return { channel, path: 'relay', via: relay.uuid };
  // §16.4: the introducer of this pair relays while the invite lives.
  const intro = core.state.introducerRelays.get(c.uuid);
  if (via && intro?.uuid === via && core.state.channels.has(via)) return { channel, path: 'relay', via };
  return { channel, path: c.status === 'active' && c.address !== null ? 'direct' : 'none', via: null };
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
  /** Whether others can dial this node (docs/PROTOCOL.md §15). */
  reachability: Reachability;
  /** The address we tell contacts (observed public IP with the mapped or listening port, else local). */
  advertised: string | null;
  /** Whether `advertised` can be dialled (false: reach us over our channels or a relay). */
  dialable: boolean;
  /** The port mapping on the home router, or null. */
  portMapping: PortMappingStatus | null;
}

/** The §15 fields of `status` from the core's NAT state. */
export function natStatus(
  nat: NatState,
  advertised: string | null,
  portMapping: PortMappingStatus | null,
): Pick<NodeStatus, 'reachability' | 'advertised' | 'dialable' | 'portMapping'> {
  return { reachability: nat.reachability, advertised, dialable: nat.dialable, portMapping };
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

/** Sums two counters by key (the core's drops and the transport's). */
export function addCounts(a: Record<string, number>, b: Record<string, number>): Record<string, number> {
  const out = { ...a };
  for (const [k, v] of Object.entries(b)) out[k] = (out[k] ?? 0) + v;
  return out;
}
