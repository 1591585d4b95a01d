/**
 * Keeps one channel open to each active contact (docs/PROTOCOL.md §13): the runtime tells the
 * transport which peers to keep (dial, redial with backoff) and which to release, from the core's
 * contact table, and which channel peers are trusted (contacts get a budget, not the per-IP limit).
 */
import type { ChannelPeer, ChannelTransport } from '../ports.ts';
import type { ContactRecord, PersistOp } from '../protocol/types.ts';
import { CLOSE } from '../transport/channel/constants.ts';

const hex = (b: Uint8Array) => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');

/** Whether a contact should have a channel: active, with an address, pinned by its key (no domain). */
function wantsChannel(c: ContactRecord | undefined): c is ContactRecord {
  return !!c && c.status === 'active' && c.address !== null && c.domain === null;
}

/** The channel side of a running node. */
export class ChannelKeeper {
  /** uuid → the address we asked the transport to keep. */
  readonly #kept = new Map<string, { address: string; signPub: Uint8Array }>();
  readonly #off: () => void;
  /** Contacts whose channel we dialled broke (not released, not replaced): see `reopened`. */
  readonly #lost = new Set<string>();

  constructor(
    private readonly transport: ChannelTransport,
    private readonly contact: (uuid: string) => ContactRecord | undefined,
    /** A channel to a contact opened: its queued messages may go now. */
    opened: (uuid: string) => void,
    /** A channel we dialled is back after it broke: our address may have changed; re-announce (§15.5). */
    reopened: (uuid: string) => void = opened,
  ) {
    transport.trustChannels((peer: ChannelPeer) => {
      const c = contact(peer.uuid);
      // The uuid is derived from both keys, so an equal uuid means the same identity; check anyway.
      return !!c && c.status === 'active' && hex(c.signPub) === hex(peer.signPub);
    });
    this.#off = transport.onChannel((e) => {
      const uuid = e.peer.uuid;
      if (e.type === 'channel:close') {
        // Released or replaced by the dialer (NORMAL), or the pair kept the other one: else it broke.
        if (e.dialled && e.code !== CLOSE.NORMAL && e.code !== CLOSE.DUPLICATE) this.#lost.add(uuid);
      } else if (contact(uuid)) {
        if (e.dialled && this.#lost.delete(uuid)) reopened(uuid);
        else opened(uuid);
      }
    });
  }

  /** Keeps or releases the channel of every contact (start-up). */
  syncAll(contacts: Iterable<ContactRecord>): void {
    for (const c of contacts) this.sync(c.uuid);
  }

  /** Keeps or releases channels of the contacts a batch of writes touched. */
  syncOps(ops: readonly PersistOp[]): void {
    for (const op of ops) {
      if (op.op === 'contact:put') this.sync(op.contact.uuid);
      else if (op.op === 'contact:delete') this.sync(op.uuid);
    }
  }

  /** Keeps the channel of one contact when it is active and reachable, else releases it. */
  sync(uuid: string): void {
    const c = this.contact(uuid);
    const kept = this.#kept.get(uuid);
    if (wantsChannel(c)) {
      if (kept?.address === c.address) return;
      this.#kept.set(uuid, { address: c.address as string, signPub: c.signPub });
      this.transport.keepChannel(c.address as string, { signPub: c.signPub });
    } else if (kept) {
      this.#kept.delete(uuid);
      this.transport.releaseChannel(kept.signPub);
    }
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
