/**
 * Keeps one channel open to each active contact (docs/PROTOCOL.md §13): the runtime tells the
 * transport which peers to keep (dial, redial with backoff) and which to release, from the core's
 * contact table, and which channel peers are trusted (contacts get a budget, not the per-IP limit).
 */
import type { ChannelPeer, ChannelTransport } from '../ports.ts';
import type { IntroducedPeer } from '../protocol/state.ts';
import type { ContactRecord, PersistOp } from '../protocol/types.ts';
import { CLOSE } from '../transport/channel/constants.ts';

const hex = (b: Uint8Array) => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');

/** Writes of message traffic: they touch no contact and no introducer. */
const MESSAGE_OPS: ReadonlySet<PersistOp['op']> = new Set([
  'outbox:put',
  'outbox:delete',
  'inbox:put',
  'delivered:prune',
]);
/** How often batches of message writes alone re-check introducer expiries, ms. */
const INTRODUCER_CHECK_MS = 1000;

/**
 * Whether a contact should have a channel: active or pending (a requester keeps the channel to the
 * inviter it asked, so the accept can come back over it from behind a NAT: docs/PROTOCOL.md §16.1),
 * with an address, pinned by its key (no domain).
 */
function wantsChannel(c: ContactRecord | undefined): c is ContactRecord {
  return !!c && c.status !== 'inactive' && c.address !== null && c.domain === null;
}

/** The channel side of a running node. */
export class ChannelKeeper {
  /** uuid → the address we asked the transport to keep. */
  readonly #kept = new Map<string, { address: string; signPub: Uint8Array }>();
  /**
   * Peers whose channels so far always came from them (our dials never made one): most likely behind
   * a NAT. When their channel closes and a dial of ours to them has failed, we stop dialling their
   * address (it would fail every minute for ever) until it changes; they dial us again when they are
   * back (§16.1). Without a failed dial we keep dialling: the peer's channel may simply have come
   * before ours, and the one-per-pair rule (§13.4) may have kept it.
   */
  readonly #inboundOnly = new Set<string>();
  /** Contacts a dial of ours failed to reach (since our last dialled channel to them). */
  readonly #unreached = new Set<string>();
  readonly #dialledOk = new Set<string>();
  /** Contacts whose channel we dialled broke (not released, not replaced): see `reopened`. */
  readonly #lost = new Set<string>();
  readonly #off: () => void;

  constructor(
    private readonly transport: ChannelTransport,
    private readonly contact: (uuid: string) => ContactRecord | undefined,
    /** A channel with a peer (contact or not) opened or closed: the core is told (§16). */
    changed: (uuid: string, open: boolean) => void,
    /** Introducers relaying for our introduced contacts (§16.4): we keep channels to them too. */
    private readonly introducers: () => Iterable<IntroducedPeer> = () => [],
    /** A channel we dialled is back after it broke: our address may have changed; re-announce (§15.5). */
    reopened: (uuid: string) => void = () => {},
  ) {
    transport.trustChannels((peer: ChannelPeer) => {
      const c = contact(peer.uuid);
      // The uuid is derived from both keys, so an equal uuid means the same identity; check anyway.
      return !!c && c.status === 'active' && hex(c.signPub) === hex(peer.signPub);
    });
    this.#off = transport.onChannel((e) => {
      if (e.type === 'channel:unreached') {
        const key = hex(e.signPub);
        for (const [uuid, k] of this.#kept) {
          if (hex(k.signPub) !== key) continue;
          this.#unreached.add(uuid);
          if (this.#inboundOnly.has(uuid) && transport.channelTo(k.signPub) === null) this.#stopDialling(uuid);
        }
        return;
      }
      const uuid = e.peer.uuid;
      if (e.type === 'channel:open') {
        if (e.dialled) {
          this.#dialledOk.add(uuid);
          this.#unreached.delete(uuid);
          this.#inboundOnly.delete(uuid);
        } else if (!this.#dialledOk.has(uuid)) this.#inboundOnly.add(uuid);
        changed(uuid, true);
        if (e.dialled && this.#lost.delete(uuid) && contact(uuid)) reopened(uuid);
      } else {
        // Released or replaced by the dialer (NORMAL), or the pair kept the other one: else it broke.
        if (e.dialled && e.code !== CLOSE.NORMAL && e.code !== CLOSE.DUPLICATE) this.#lost.add(uuid);
        if (transport.channelTo(e.peer.signPub) === null) {
          changed(uuid, false);
          if (this.#inboundOnly.has(uuid) && this.#unreached.has(uuid)) this.#stopDialling(uuid);
        }
      }
    });
  }

  /** Keeps or releases the channel of every contact (start-up). */
  syncAll(contacts: Iterable<ContactRecord>): void {
    for (const c of contacts) this.sync(c.uuid);
  }

  /** Keeps or releases channels of the contacts a batch of writes touched (and of introducers). */
  syncOps(ops: readonly PersistOp[]): void {
    let other = false;
    for (let i = 0; i < ops.length; i++) {
      const op = ops[i];
      if (op.op === 'contact:put') this.sync(op.contact.uuid);
      else if (op.op === 'contact:delete') this.sync(op.uuid);
      if (!MESSAGE_OPS.has(op.op)) other = true;
    }
    // Message traffic never changes introducers: a batch of messages alone looks at most once a
    // second (for expiries), not after every commit (it showed in CPU profiles of bench/transport).
    const now = Date.now();
    if (other || (ops.length > 0 && now >= this.#introCheckAt)) {
      this.#introCheckAt = now + INTRODUCER_CHECK_MS;
      this.syncIntroducers(now);
    }
  }

  /** When a batch of message writes alone next looks at introducers. */
  #introCheckAt = 0;

  /** Introducer uuid → its key, for the channels kept to introducers (not contacts). */
  readonly #introKept = new Map<string, Uint8Array>();

  /** Keeps a channel to each live introducer of an introduced contact, releases the others (§16.4). */
  syncIntroducers(now = Date.now()): void {
    const want = new Map<string, IntroducedPeer>();
    for (const p of this.introducers()) if (p.expiresAt > now && !this.contact(p.uuid)) want.set(p.uuid, p);
    for (const [uuid, signPub] of this.#introKept)
      if (!want.has(uuid)) {
        this.#introKept.delete(uuid);
        if (!this.#kept.has(uuid)) this.transport.releaseChannel(signPub);
      }
    for (const [uuid, p] of want)
      if (!this.#introKept.has(uuid)) {
        this.#introKept.set(uuid, p.signPub);
        this.transport.keepChannel(p.address, { signPub: p.signPub });
      }
  }

  /** Keeps the channel of one contact when it is active and reachable, else releases it. */
  sync(uuid: string): void {
    const c = this.contact(uuid);
    const kept = this.#kept.get(uuid);
    if (wantsChannel(c)) {
      if (kept?.address === c.address) return;
      if (this.#inboundOnly.has(uuid) && kept === undefined && this.#parked.get(uuid) === c.address) return;
      this.#parked.delete(uuid);
      this.#unreached.delete(uuid);
      this.#kept.set(uuid, { address: c.address as string, signPub: c.signPub });
      this.transport.keepChannel(c.address as string, { signPub: c.signPub });
    } else if (kept) {
      this.#kept.delete(uuid);
      this.transport.releaseChannel(kept.signPub);
    }
  }

  /** Peers we stopped dialling (inbound-only) → the address we stopped at; a new address dials again. */
  readonly #parked = new Map<string, string>();

  #stopDialling(uuid: string): void {
    const kept = this.#kept.get(uuid);
    if (!kept) return;
    this.#kept.delete(uuid);
    this.#parked.set(uuid, kept.address);
    this.transport.releaseChannel(kept.signPub);
  }

  /** Whether a channel to this contact is open now. */
  isOpen(c: ContactRecord): boolean {
    return this.transport.channelTo(c.signPub) !== null;
  }

  /** Stops listening to channel events (the transport closes the channels itself). */
  close(): void {
    this.#off();
  }
}
