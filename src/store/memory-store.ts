/**
 * In-memory Store: plain Maps, for tests and the simulator. Every record going in or out is copied,
 * so callers can never reach stored state through an object they hold.
 */
import type { Store } from '../ports.ts';
import type {
  ContactRecord,
  DeliveredRecord,
  InboxRecord,
  InviteRecord,
  OutboxRecord,
  PendingRequestRecord,
  PersistOp,
  ReferralRecord,
  SelfRecord,
} from '../protocol/types.ts';
import {
  byContact,
  byDelivered,
  byInbox,
  byInvite,
  byOutbox,
  byReferral,
  byRequest,
  clearBefore,
  copyRecord,
  FIELDS,
  inboxOpts,
  pickRecord,
  storeError,
  validateOps,
} from './records.ts';

/** Key of a referral in its Map: the (referent, via) pair, unambiguously encoded. */
const referralKey = (referent: string, via: string): string => JSON.stringify([referent, via]);
/** Key of an inbox row (and of its de-duplication memory): the (from, id) pair. */
const inboxKey = (from: string, id: string): string => JSON.stringify([from, id]);

/** Store kept in Maps; state is lost when the process ends. Same semantics as SqliteStore. */
export class MemoryStore implements Store {
  private self: SelfRecord | null = null;
  private readonly contacts = new Map<string, ContactRecord>();
  private readonly referrals = new Map<string, ReferralRecord>();
  private readonly invites = new Map<string, InviteRecord>();
  private readonly requests = new Map<string, PendingRequestRecord>();
  private readonly outbox = new Map<string, OutboxRecord>();
  private readonly inbox = new Map<string, InboxRecord>();
  /** De-duplication memory of cleared inbox rows (the SQLite `delivered` table). */
  private readonly delivered = new Map<string, DeliveredRecord>();
  private closed = false;

  /** This node's identity, or null before `mesh init`. */
  getSelf(): SelfRecord | null {
    this.assertOpen();
    return this.self === null ? null : copyRecord(this.self);
  }

  /** All contacts, oldest addedAt first. */
  listContacts(): ContactRecord[] {
    return this.list(this.contacts, byContact);
  }

  /** All referrals, by referent then fewest hops. */
  listReferrals(): ReferralRecord[] {
    return this.list(this.referrals, byReferral);
  }

  /** All invites we issued, oldest first. */
  listInvites(): InviteRecord[] {
    return this.list(this.invites, byInvite);
  }

  /** Pending incoming contact requests, oldest first. */
  listRequests(): PendingRequestRecord[] {
    return this.list(this.requests, byRequest);
  }

  /** Outgoing messages, oldest createdAt first. */
  listOutbox(): OutboxRecord[] {
    return this.list(this.outbox, byOutbox);
  }

  /** Received messages, oldest first; `since` = receivedAt > since; `limit` keeps the newest N. */
  listInbox(opts?: { since?: number; limit?: number }): InboxRecord[] {
    this.assertOpen();
    const { since, limit } = inboxOpts(opts);
    let rows = [...this.inbox.values()].filter((m) => since === null || m.receivedAt > since).sort(byInbox);
    if (limit !== null) rows = limit === 0 ? [] : rows.slice(-limit);
    return rows.map(copyRecord);
  }

  /** True if the inbox holds message `id` from `from`. */
  hasInbox(from: string, id: string): boolean {
    this.assertOpen();
    return this.inbox.has(inboxKey(from, id));
  }

  /** The de-duplication memory: inbox rows and cleared rows not yet pruned, oldest first. */
  listDelivered(): DeliveredRecord[] {
    this.assertOpen();
    const rows: DeliveredRecord[] = [...this.delivered.values()].map(copyRecord);
    for (const m of this.inbox.values()) rows.push({ from: m.from, id: m.id, receivedAt: m.receivedAt });
    return rows.sort(byDelivered);
  }

  /** Deletes inbox rows received before `before` (all when null), keeping their de-duplication memory. */
  clearInbox(before: number | null): number {
    this.assertOpen();
    const limit = clearBefore(before);
    let n = 0;
    for (const [k, m] of [...this.inbox]) {
      if (limit !== null && !(m.receivedAt < limit)) continue;
      this.delivered.set(k, { from: m.from, id: m.id, receivedAt: m.receivedAt });
      this.inbox.delete(k);
      n++;
    }
    return n;
  }

  /** Applies all ops in order, all or nothing: the batch is validated before anything changes. */
  apply(ops: PersistOp[]): void {
    this.assertOpen();
    validateOps(ops);
    for (const op of ops) this.applyOne(op);
  }

  /** Marks the store closed; later calls throw MeshError('STORE'). */
  close(): void {
    this.closed = true;
  }

  private applyOne(op: PersistOp): void {
    switch (op.op) {
      case 'self:put':
        this.self = pickRecord(op.self, FIELDS.self);
        return;
      case 'contact:put':
        this.contacts.set(op.contact.uuid, pickRecord(op.contact, FIELDS.contact));
        return;
      case 'contact:delete':
        this.contacts.delete(op.uuid);
        return;
      case 'referral:put':
        this.referrals.set(
          referralKey(op.referral.referent, op.referral.via),
          pickRecord(op.referral, FIELDS.referral),
        );
        return;
      case 'referral:delete':
        this.referrals.delete(referralKey(op.referent, op.via));
        return;
      case 'invite:put':
        this.invites.set(op.invite.id, pickRecord(op.invite, FIELDS.invite));
        return;
      case 'invite:delete':
        this.invites.delete(op.id);
        return;
      case 'request:put':
        this.requests.set(op.request.uuid, pickRecord(op.request, FIELDS.request));
        return;
      case 'request:delete':
        this.requests.delete(op.uuid);
        return;
      case 'outbox:put':
        this.outbox.set(op.message.id, pickRecord(op.message, FIELDS.outbox));
        return;
      case 'outbox:delete':
        this.outbox.delete(op.id);
        return;
      case 'inbox:put':
        this.inbox.set(inboxKey(op.message.from, op.message.id), pickRecord(op.message, FIELDS.inbox));
        return;
      case 'delivered:prune':
        for (const [k, d] of [...this.delivered]) if (d.receivedAt < op.before) this.delivered.delete(k);
        return;
    }
  }

  private list<T extends object>(map: Map<string, T>, order: (a: T, b: T) => number): T[] {
    this.assertOpen();
    return [...map.values()].sort(order).map(copyRecord);
  }

  private assertOpen(): void {
    if (this.closed) throw storeError('The store is closed.');
  }
}
