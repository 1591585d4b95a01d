/**
 * Records the protocol core keeps and the Store persists. Keys are raw 32-byte values.
 * Addresses are "ip:port" strings ("[v6]:port" for IPv6). Times are unix ms.
 */

/** This node: the join_network chart's "self". */
export interface SelfRecord {
  uuid: string;
  name: string;
  signPub: Uint8Array;
  /** Ed25519 private key seed (32 bytes). Stored with file mode 0600. */
  signPriv: Uint8Array;
  boxPub: Uint8Array;
  /** X25519 private key (32 bytes). */
  boxPriv: Uint8Array;
  createdAt: number;
}

/** active: reachable at `address` last time; inactive: last attempt failed; pending: we asked to be added, not yet confirmed. */
export type ContactStatus = 'active' | 'inactive' | 'pending';

/** A node we are explicitly connected to (the seed's "peer"). */
export interface ContactRecord {
  uuid: string;
  name: string;
  signPub: Uint8Array;
  boxPub: Uint8Array;
  /** The per-contact secret agreed in the contact request; never sent again. */
  secret: Uint8Array;
  /** Last known address "ip:port", or null if never known. */
  address: string | null;
  status: ContactStatus;
  /** Last time we heard from (or reached) this contact, unix ms. */
  lastSeen: number | null;
  addedAt: number;
  /** Set for a peer with a domain: its DNS name (TLS is checked against CAs, not pinned). */
  domain: string | null;
  /** The contact's digest payload (its contact secret and a filter of its contacts, digest.ts), once it sent one. */
  digest?: Uint8Array | null;
}

/** "referent can be reached through contact `via` in `hops` hops" (the seed's referrals table). */
export interface ReferralRecord {
  referent: string;
  via: string;
  hops: number;
  updatedAt: number;
  expiresAt: number;
}

/** An invite we issued: its one-time secret opens the contact_req that uses it. */
export interface InviteRecord {
  /** base64url of the first 8 bytes of SHA-256(secret): lets a request name its invite without revealing it. */
  id: string;
  secret: Uint8Array;
  createdAt: number;
  expiresAt: number;
}

/** An incoming contact request waiting for our user's accept / reject. */
export interface PendingRequestRecord {
  uuid: string;
  name: string;
  signPub: Uint8Array;
  boxPub: Uint8Array;
  secret: Uint8Array;
  authPhrase: string;
  address: string | null;
  receivedAt: number;
}

/** queued: waiting for a route; sent: on the wire; delivered: the recipient acknowledged; failed: given up. */
export type OutboxState = 'queued' | 'sent' | 'delivered' | 'failed';

/** An outgoing message and its delivery state (kept after delivery as chat history). */
export interface OutboxRecord {
  id: string;
  to: string;
  text: string;
  createdAt: number;
  attempts: number;
  nextAttemptAt: number;
  state: OutboxState;
  deliveredAt: number | null;
}

/** A received message, delivered exactly once to the application. */
export interface InboxRecord {
  id: string;
  from: string;
  text: string;
  sentAt: number;
  receivedAt: number;
}

/**
 * A message we delivered, as the de-duplication memory keeps it (issue 12 #18): keyed by the pair
 * (from, id), since ids are chosen by each sender, and `receivedAt` is when its retention started.
 */
export interface DeliveredRecord {
  from: string;
  id: string;
  receivedAt: number;
}

/** One write the core asks the runtime to make durable (a `persist` effect carries a list, applied in one transaction). */
export type PersistOp =
  | { op: 'self:put'; self: SelfRecord }
  | { op: 'contact:put'; contact: ContactRecord }
  | { op: 'contact:delete'; uuid: string }
  | { op: 'referral:put'; referral: ReferralRecord }
  | { op: 'referral:delete'; referent: string; via: string }
  | { op: 'invite:put'; invite: InviteRecord }
  | { op: 'invite:delete'; id: string }
  | { op: 'request:put'; request: PendingRequestRecord }
  | { op: 'request:delete'; uuid: string }
  | { op: 'outbox:put'; message: OutboxRecord }
  | { op: 'outbox:delete'; id: string }
  | { op: 'inbox:put'; message: InboxRecord }
  /** Forgets the de-duplication memory of cleared inbox rows received before `before` (retention). */
  | { op: 'delivered:prune'; before: number };
