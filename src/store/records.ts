/**
 * Shared by both Store adapters: op validation, record copying and the list orderings, so that the
 * memory and SQLite stores accept the same ops and return the same lists in the same order.
 */
import { MeshError } from '../errors.ts';
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

/** Builds the MeshError('STORE') every store failure is reported as. */
export function storeError(message: string, cause?: unknown): MeshError {
  return new MeshError('STORE', message, cause === undefined ? undefined : { cause });
}

const CONTACT_STATUSES: ReadonlySet<string> = new Set(['active', 'inactive', 'pending']);
const OUTBOX_STATES: ReadonlySet<string> = new Set(['queued', 'sent', 'delivered', 'failed']);

type Checker = (v: unknown) => boolean;
const str: Checker = (v) => typeof v === 'string';
const num: Checker = (v) => typeof v === 'number' && Number.isFinite(v);
const bytes: Checker = (v) => v instanceof Uint8Array;
const nullable =
  (c: Checker): Checker =>
  (v) =>
    v === null || c(v);
const oneOf =
  (set: ReadonlySet<string>): Checker =>
  (v) =>
    typeof v === 'string' && set.has(v);

const SELF_SHAPE: Record<keyof SelfRecord, Checker> = {
  uuid: str,
  name: str,
  signPub: bytes,
  signPriv: bytes,
  boxPub: bytes,
  boxPriv: bytes,
  createdAt: num,
};
const CONTACT_SHAPE: Record<keyof ContactRecord, Checker> = {
  uuid: str,
  name: str,
  signPub: bytes,
  boxPub: bytes,
  secret: bytes,
  address: nullable(str),
  status: oneOf(CONTACT_STATUSES),
  lastSeen: nullable(num),
  addedAt: num,
  domain: nullable(str),
  digest: (v) => v === undefined || v === null || v instanceof Uint8Array,
};
const REFERRAL_SHAPE: Record<keyof ReferralRecord, Checker> = {
  referent: str,
  via: str,
  hops: num,
  updatedAt: num,
  expiresAt: num,
};
const INVITE_SHAPE: Record<keyof InviteRecord, Checker> = { id: str, secret: bytes, createdAt: num, expiresAt: num };
const REQUEST_SHAPE: Record<keyof PendingRequestRecord, Checker> = {
  uuid: str,
  name: str,
  signPub: bytes,
  boxPub: bytes,
  secret: bytes,
  authPhrase: str,
  address: nullable(str),
  receivedAt: num,
};
const OUTBOX_SHAPE: Record<keyof OutboxRecord, Checker> = {
  id: str,
  to: str,
  text: str,
  createdAt: num,
  attempts: num,
  nextAttemptAt: num,
  state: oneOf(OUTBOX_STATES),
  deliveredAt: nullable(num),
};
const INBOX_SHAPE: Record<keyof InboxRecord, Checker> = {
  id: str,
  from: str,
  text: str,
  sentAt: num,
  receivedAt: num,
};

/** Each shape's [field, check] pairs, made once: every write of every message is checked (hot path). */
const ENTRIES = new WeakMap<Record<string, Checker>, [string, Checker][]>();

function checkShape(what: string, value: unknown, shape: Record<string, Checker>, index: number): void {
  if (typeof value !== 'object' || value === null) throw storeError(`op #${index}: ${what} is missing`);
  const rec = value as Record<string, unknown>;
  let entries = ENTRIES.get(shape);
  if (!entries) ENTRIES.set(shape, (entries = Object.entries(shape)));
  for (let i = 0; i < entries.length; i++) {
    const [field, check] = entries[i];
    if (!check(rec[field])) throw storeError(`op #${index}: ${what}.${field} has an invalid value`);
  }
}

function checkKey(what: string, value: unknown, index: number): void {
  if (typeof value !== 'string') throw storeError(`op #${index}: ${what} must be a string`);
}

/** Per op kind: checks its payload fields (`o` is the op, `i` its index in the batch). */
const OP_CHECKS: Record<PersistOp['op'], (o: Record<string, unknown>, i: number) => void> = {
  'self:put': (o, i) => checkShape('self', o.self, SELF_SHAPE, i),
  'contact:put': (o, i) => checkShape('contact', o.contact, CONTACT_SHAPE, i),
  'contact:delete': (o, i) => checkKey('uuid', o.uuid, i),
  'referral:put': (o, i) => checkShape('referral', o.referral, REFERRAL_SHAPE, i),
  'referral:delete': (o, i) => {
    checkKey('referent', o.referent, i);
    checkKey('via', o.via, i);
  },
  'invite:put': (o, i) => checkShape('invite', o.invite, INVITE_SHAPE, i),
  'invite:delete': (o, i) => checkKey('id', o.id, i),
  'request:put': (o, i) => checkShape('request', o.request, REQUEST_SHAPE, i),
  'request:delete': (o, i) => checkKey('uuid', o.uuid, i),
  'outbox:put': (o, i) => checkShape('message', o.message, OUTBOX_SHAPE, i),
  'outbox:delete': (o, i) => checkKey('id', o.id, i),
  'inbox:put': (o, i) => checkShape('message', o.message, INBOX_SHAPE, i),
  'delivered:prune': (o, i) => {
    if (typeof o.before !== 'number' || Number.isNaN(o.before)) throw storeError(`op #${i}: before must be a number`);
  },
};

/** Throws MeshError('STORE') unless `op` is a well-formed PersistOp (known kind, typed fields). */
export function validateOp(op: PersistOp, index: number): void {
  if (typeof op !== 'object' || op === null) throw storeError(`op #${index} is not an object`);
  const o = op as unknown as Record<string, unknown>;
  const kind = o.op;
  if (typeof kind !== 'string' || !Object.hasOwn(OP_CHECKS, kind)) {
    throw storeError(`op #${index}: unknown op ${JSON.stringify(String(kind))}`);
  }
  OP_CHECKS[kind as PersistOp['op']](o, index);
}

/** Throws MeshError('STORE') if any op in the batch is malformed (nothing is applied then). */
export function validateOps(ops: PersistOp[]): void {
  if (!Array.isArray(ops)) throw storeError('apply() expects an array of ops');
  for (let i = 0; i < ops.length; i++) validateOp(ops[i], i);
}

/** Normalised listInbox options: `since` (exclusive) or null, `limit` (newest N) or null for all. */
export function inboxOpts(opts?: { since?: number; limit?: number }): { since: number | null; limit: number | null } {
  const since = opts?.since ?? null;
  const limit = opts?.limit ?? null;
  if (since !== null && (typeof since !== 'number' || Number.isNaN(since))) {
    throw MeshError.invalidArgument('listInbox: since must be a number');
  }
  if (limit !== null && (typeof limit !== 'number' || Number.isNaN(limit) || limit < 0)) {
    throw MeshError.invalidArgument('listInbox: limit must be a non-negative number');
  }
  return { since, limit: limit === null || limit === Number.POSITIVE_INFINITY ? null : Math.floor(limit) };
}

/** The fields each record kind is stored with (anything else on an object is not persisted). */
export const FIELDS = {
  self: Object.keys(SELF_SHAPE),
  contact: Object.keys(CONTACT_SHAPE),
  referral: Object.keys(REFERRAL_SHAPE),
  invite: Object.keys(INVITE_SHAPE),
  request: Object.keys(REQUEST_SHAPE),
  outbox: Object.keys(OUTBOX_SHAPE),
  inbox: Object.keys(INBOX_SHAPE),
} as const;

/** Copies only `fields` of a record, cloning Uint8Array values (what a store keeps of it). */
export function pickRecord<T extends object>(rec: T, fields: readonly string[]): T {
  const src = rec as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const k of fields) {
    const v = src[k];
    if (v === undefined) continue; // an absent optional field stays absent (both stores list the same records)
    out[k] = v instanceof Uint8Array ? new Uint8Array(v) : v;
  }
  return out as T;
}

/** Copies a record field by field, cloning Uint8Array fields into fresh plain Uint8Arrays. */
export function copyRecord<T extends object>(rec: T): T {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(rec)) out[k] = v instanceof Uint8Array ? new Uint8Array(v) : v;
  return out as T;
}

/** Orders strings like SQLite's BINARY collation on UTF-8 text (i.e. by code point). */
export function cmpStr(a: string, b: string): number {
  if (a === b) return 0;
  const ia = a[Symbol.iterator]();
  const ib = b[Symbol.iterator]();
  for (;;) {
    const x = ia.next();
    const y = ib.next();
    if (x.done || y.done) return x.done ? (y.done ? 0 : -1) : 1;
    const cx = x.value.codePointAt(0)!;
    const cy = y.value.codePointAt(0)!;
    if (cx !== cy) return cx < cy ? -1 : 1;
  }
}

const cmpNum = (a: number, b: number): number => (a < b ? -1 : a > b ? 1 : 0);

/** Contacts: oldest addedAt first, then uuid. */
export const byContact = (a: ContactRecord, b: ContactRecord): number =>
  cmpNum(a.addedAt, b.addedAt) || cmpStr(a.uuid, b.uuid);
/** Referrals: by referent, then fewest hops, then via. */
export const byReferral = (a: ReferralRecord, b: ReferralRecord): number =>
  cmpStr(a.referent, b.referent) || cmpNum(a.hops, b.hops) || cmpStr(a.via, b.via);
/** Invites: oldest createdAt first, then id. */
export const byInvite = (a: InviteRecord, b: InviteRecord): number =>
  cmpNum(a.createdAt, b.createdAt) || cmpStr(a.id, b.id);
/** Requests: oldest receivedAt first, then uuid. */
export const byRequest = (a: PendingRequestRecord, b: PendingRequestRecord): number =>
  cmpNum(a.receivedAt, b.receivedAt) || cmpStr(a.uuid, b.uuid);
/** Outbox: oldest createdAt first, then id. */
export const byOutbox = (a: OutboxRecord, b: OutboxRecord): number =>
  cmpNum(a.createdAt, b.createdAt) || cmpStr(a.id, b.id);
/** Inbox: oldest receivedAt first, then id, then sender (two senders may use one id). */
export const byInbox = (a: InboxRecord, b: InboxRecord): number =>
  cmpNum(a.receivedAt, b.receivedAt) || cmpStr(a.id, b.id) || cmpStr(a.from, b.from);
/** De-duplication memory: oldest receivedAt first, then sender, then id. */
export const byDelivered = (a: DeliveredRecord, b: DeliveredRecord): number =>
  cmpNum(a.receivedAt, b.receivedAt) || cmpStr(a.from, b.from) || cmpStr(a.id, b.id);

/** Normalised clearInbox argument: a finite number, or null for "everything". */
export function clearBefore(before: number | null): number | null {
  if (before === null || before === undefined) return null;
  if (typeof before !== 'number' || Number.isNaN(before))
    throw MeshError.invalidArgument('clearInbox: before must be a number');
  return before;
}
