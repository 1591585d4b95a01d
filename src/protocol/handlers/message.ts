/**
 * Messages: the outbox (sendmessage chart: "try → send message to associated IP → catch → deactivate
 * → IP messages through contacts"), and receiving (onmessage "message → decrypt → process message").
 * Exactly-once delivery to the application, at-least-once on the wire.
 */
import { fromB64u, toB64u, utf8 } from '../../crypto/index.ts';
import { type FailureCode, MeshError } from '../../errors.ts';
import { decodeJson } from '../codec.ts';
import { messageMaxAge } from '../config.ts';
import { INBOX_MAX_PER_CONTACT, INBOX_WINDOW_MS, MAX_TEXT_BYTES, OUTBOX_EXPIRY_MS } from '../constants.ts';
import type { CoreContext, InboundContext } from '../context.ts';
import type { MessageBody, MessagePlain } from '../messages.ts';
import { unreachableAfter, usable } from '../reachability.ts';
import { deliveredKey, indexOutbox } from '../state.ts';
import { withinBudget } from '../tables.ts';
import type { ContactRecord, OutboxRecord } from '../types.ts';

const aadFor = (from: string, to: string) => utf8(`mesh-v1-message|${from}|${to}`);

/** Queues a text for a contact, persists it and tries to send it now. Returns the message id. */
export function queueMessage(core: CoreContext, to: string, text: string): string {
  const c = core.state.contacts.get(to);
  if (!c) throw MeshError.contactUnknown(to);
  if (typeof text !== 'string' || text.length === 0) throw MeshError.invalidArgument('the message is empty');
  if (utf8(text).length > MAX_TEXT_BYTES)
    throw MeshError.invalidArgument(`the message is longer than ${MAX_TEXT_BYTES} bytes`);
  const m: OutboxRecord = {
    id: core.newId(),
    to,
    text,
    createdAt: core.now,
    attempts: 0,
    nextAttemptAt: core.now,
    state: 'queued',
    deliveredAt: null,
  };
  core.state.outbox.set(m.id, m);
  indexOutbox(core.state, m);
  core.persist({ op: 'outbox:put', message: { ...m } });
  core.emit({ event: 'message:state', id: m.id, to, state: 'queued' });
  flushOutbox(core, c);
  return m.id;
}

function setState(core: CoreContext, m: OutboxRecord, state: OutboxRecord['state']): void {
  m.state = state;
  indexOutbox(core.state, m);
  if (state === 'delivered') m.deliveredAt = core.now;
  core.persist({ op: 'outbox:put', message: { ...m } });
  core.emit({ event: 'message:state', id: m.id, to: m.to, state });
}

/** Sends every queued message for `c` to its associated address. */
export function flushOutbox(core: CoreContext, c: ContactRecord): void {
  if (!usable(c)) return;
  if (core.state.searches.has(c.uuid)) return; // the search's answer will flush
  const queued = core.state.queued.get(c.uuid);
  if (!queued) return;
  for (const id of [...queued]) {
    const m = core.state.outbox.get(id);
    if (m && m.state === 'queued') sendOne(core, c, m);
  }
}

function sendOne(core: CoreContext, c: ContactRecord, m: OutboxRecord): void {
  const plain: MessagePlain = { id: m.id, text: m.text, sentAt: m.createdAt };
  const nonce = core.random(12);
  const ct = core.crypto.aeadSeal(
    core.messageKeyFor(c, core.self.uuid),
    nonce,
    utf8(JSON.stringify(plain)),
    aadFor(core.self.uuid, c.uuid),
  );
  const body: MessageBody = { nonce: toB64u(nonce), ct: toB64u(ct) };
  m.attempts++;
  setState(core, m, 'sent');
  core.send({ contact: c }, 'message', body, 'message', { kind: 'message', id: m.id, contact: c.uuid });
}

/** The answer to a message: delivered, or back to the queue with backoff (and maybe a search). */
export function messageAnswered(core: CoreContext, id: string, contact: string, failure: FailureCode | null): void {
  const m = core.state.outbox.get(id);
  const c = core.state.contacts.get(contact);
  if (!m || !c) return;
  if (failure === null) {
    setState(core, m, 'delivered');
    core.contactSeen(c, c.address);
    return;
  }
  if (m.state !== 'sent') return;
  const delay = Math.min(core.cfg.outboxRetryMaxMs, core.cfg.outboxRetryMinMs * 2 ** Math.min(20, m.attempts - 1));
  m.nextAttemptAt = core.now + delay;
  setState(core, m, 'queued');
  scheduleRetry(core);
  // "catch → deactivate → send IP message to contacts"
  if (unreachableAfter(failure, 'own')) {
    core.contactUnreachable(c);
    if (c.status !== 'pending') core.startSearch(c);
  }
}

/** Sets the outbox timer for the earliest queued retry. */
export function scheduleRetry(core: CoreContext): void {
  let next = Number.POSITIVE_INFINITY;
  for (const m of core.state.outbox.values())
    if (m.state === 'queued' && m.nextAttemptAt < next) next = m.nextAttemptAt;
  if (Number.isFinite(next)) core.setTimer({ kind: 'outbox' }, Math.max(next, core.now));
}

/** Outbox timer: retries due messages (direct first, then a search), expires very old ones. */
export function retryOutbox(core: CoreContext): void {
  const due = new Set<string>();
  for (const m of core.state.outbox.values()) {
    if (m.state !== 'queued') continue;
    if (core.now - m.createdAt > OUTBOX_EXPIRY_MS) {
      setState(core, m, 'failed');
      continue;
    }
    if (m.nextAttemptAt <= core.now) due.add(m.to);
  }
  for (const uuid of due) {
    const c = core.state.contacts.get(uuid);
    if (c) flushOutbox(core, c);
  }
  // What is still due could not go out now (a search for its contact runs, the contact is pending or
  // has no address): look again later rather than at once, or the timer would fire in a loop.
  for (const m of core.state.outbox.values())
    if (m.state === 'queued' && m.nextAttemptAt <= core.now) m.nextAttemptAt = core.now + core.cfg.outboxRetryMinMs;
  scheduleRetry(core);
}

/** Handles an authenticated message: decrypt, deliver once, acknowledge. */
export function handleMessage(core: CoreContext, ctx: InboundContext, body: MessageBody): void {
  const sender = ctx.sender;
  if (!sender) return core.respondError(ctx.requestId, 'UNKNOWN_SENDER', 'messages come from contacts only');
  const pt = core.crypto.aeadOpen(
    core.messageKeyFor(sender, sender.uuid),
    fromB64u(body.nonce),
    fromB64u(body.ct),
    aadFor(sender.uuid, core.self.uuid),
  );
  if (!pt) return core.respondError(ctx.requestId, 'BAD_SECRET', 'the message does not decrypt under our shared key');
  const m = decodeJson(pt) as MessagePlain | null;
  if (!m || typeof m.id !== 'string' || m.id.length > 64 || typeof m.text !== 'string' || !Number.isFinite(m.sentAt))
    return core.respondError(ctx.requestId, 'BAD_REQUEST', 'malformed message plaintext');
  // De-duplicated by (from, id): ids are the sender's, so another contact's id must not hide this one.
  const key = deliveredKey(sender.uuid, m.id);
  if (!core.state.delivered.has(key)) {
    // Older than the de-duplication memory reaches: it may be a retry we have forgotten (retention).
    if (m.sentAt < core.now - messageMaxAge(core.cfg))
      return core.respondError(ctx.requestId, 'REPLAYED', 'the message is older than this node remembers delivering');
    // Inbox budget per contact (issue 12): refused, not lost — the sender's outbox retries later.
    if (!withinBudget(core, `inbox|${sender.uuid}`, INBOX_MAX_PER_CONTACT, INBOX_WINDOW_MS, 'LIMIT_INBOX'))
      return core.respondError(ctx.requestId, 'OVER_LIMIT', 'too many messages from you lately; try again later');
    core.state.delivered.set(key, core.now);
    const rec = { id: m.id, from: sender.uuid, text: m.text, sentAt: m.sentAt, receivedAt: core.now };
    core.persist({ op: 'inbox:put', message: rec });
    core.effect({ type: 'deliver', message: rec });
  }
  // Acknowledge after persisting: the runtime carries effects out in order.
  core.respondOk(ctx.upstream);
}
