/**
 * Messages: the outbox (sendmessage chart: "try → send message to associated IP → catch → deactivate
 * → IP messages through contacts"), and receiving (onmessage "message → decrypt → process message").
 * Exactly-once delivery to the application, at-least-once on the wire.
 */
import { aeadOpen, aeadSeal, fromB64u, toB64u, utf8 } from '../../crypto/index.ts';
import { MeshError } from '../../errors.ts';
import { decodeJson } from '../codec.ts';
import { MAX_TEXT_BYTES, OUTBOX_EXPIRY_MS } from '../constants.ts';
import type { MessageBody, MessagePlain } from '../messages.ts';
import type { InboundContext, MeshCore } from '../node.ts';
import { usable } from '../routing.ts';
import type { ContactRecord, OutboxRecord } from '../types.ts';
import { startSearch } from './search.ts';

const aadFor = (from: string, to: string) => utf8(`mesh-v1-message|${from}|${to}`);

/** Queues a text for a contact, persists it and tries to send it now. Returns the message id. */
export function queueMessage(core: MeshCore, to: string, text: string): string {
  const c = core.contact(to);
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
  core.outbox.set(m.id, m);
  core.indexOutbox(m);
  core.persist({ op: 'outbox:put', message: { ...m } });
  core.emit({ event: 'message:state', id: m.id, to, state: 'queued' });
  flushOutbox(core, c);
  return m.id;
}

function setState(core: MeshCore, m: OutboxRecord, state: OutboxRecord['state']): void {
  m.state = state;
  core.indexOutbox(m);
  if (state === 'delivered') m.deliveredAt = core.now;
  core.persist({ op: 'outbox:put', message: { ...m } });
  core.emit({ event: 'message:state', id: m.id, to: m.to, state });
}

/** Sends every queued message for `c` to its associated address. */
export function flushOutbox(core: MeshCore, c: ContactRecord): void {
  if (!usable(c)) return;
  const search = core.searches.get(c.uuid);
  if (search && !search.done) return; // the search's answer will flush
  const queued = core.queuedFor(c.uuid);
  if (!queued) return;
  for (const id of [...queued]) {
    const m = core.outbox.get(id);
    if (m && m.state === 'queued') sendOne(core, c, m);
  }
}

function sendOne(core: MeshCore, c: ContactRecord, m: OutboxRecord): void {
  const plain: MessagePlain = { id: m.id, text: m.text, sentAt: m.createdAt };
  const nonce = core.random(12);
  const ct = aeadSeal(
    core.messageKeyFor(c, core.self.uuid),
    nonce,
    utf8(JSON.stringify(plain)),
    aadFor(core.self.uuid, c.uuid),
  );
  const body: MessageBody = { nonce: toB64u(nonce), ct: toB64u(ct) };
  m.attempts++;
  setState(core, m, 'sent');
  core.send({ contact: c }, 'message', body, 'message', {
    onOk: () => {
      setState(core, m, 'delivered');
      core.contactSeen(c, c.address);
    },
    onFail: (code) => {
      if (m.state !== 'sent') return;
      const delay = Math.min(core.cfg.outboxRetryMaxMs, core.cfg.outboxRetryMinMs * 2 ** Math.min(20, m.attempts - 1));
      m.nextAttemptAt = core.now + delay;
      setState(core, m, 'queued');
      scheduleRetry(core);
      // "catch → deactivate → send IP message to contacts"
      if (
        code === 'CONNECT_FAILED' ||
        code === 'TIMEOUT' ||
        code === 'UNKNOWN_SENDER' ||
        code === 'BAD_SECRET' ||
        code === 'TLS_PIN'
      ) {
        core.contactUnreachable(c);
        if (c.status !== 'pending') startSearch(core, c);
      }
    },
  });
}

/** Sets the outbox timer for the earliest queued retry. */
export function scheduleRetry(core: MeshCore): void {
  let next = Number.POSITIVE_INFINITY;
  for (const m of core.outbox.values()) if (m.state === 'queued' && m.nextAttemptAt < next) next = m.nextAttemptAt;
  if (Number.isFinite(next)) core.setTimer('outbox', Math.max(next, core.now));
}

/** Outbox timer: retries due messages (direct first, then a search), expires very old ones. */
export function retryOutbox(core: MeshCore): void {
  const due = new Set<string>();
  for (const m of core.outbox.values()) {
    if (m.state !== 'queued') continue;
    if (core.now - m.createdAt > OUTBOX_EXPIRY_MS) {
      setState(core, m, 'failed');
      continue;
    }
    if (m.nextAttemptAt <= core.now) due.add(m.to);
  }
  for (const uuid of due) {
    const c = core.contact(uuid);
    if (c) flushOutbox(core, c);
  }
  // What is still due could not go out now (a search for its contact runs, the contact is pending or
  // has no address): look again later rather than at once, or the timer would fire in a loop.
  for (const m of core.outbox.values())
    if (m.state === 'queued' && m.nextAttemptAt <= core.now) m.nextAttemptAt = core.now + core.cfg.outboxRetryMinMs;
  scheduleRetry(core);
}

/** Handles an authenticated message: decrypt, deliver once, acknowledge. */
export function handleMessage(core: MeshCore, ctx: InboundContext, body: MessageBody): void {
  const sender = ctx.sender;
  if (!sender) return core.respondError(ctx.requestId, 'UNKNOWN_SENDER', 'messages come from contacts only');
  const pt = aeadOpen(
    core.messageKeyFor(sender, sender.uuid),
    fromB64u(body.nonce),
    fromB64u(body.ct),
    aadFor(sender.uuid, core.self.uuid),
  );
  if (!pt) return core.respondError(ctx.requestId, 'BAD_SECRET', 'the message does not decrypt under our shared key');
  const m = decodeJson(pt) as MessagePlain | null;
  if (!m || typeof m.id !== 'string' || m.id.length > 64 || typeof m.text !== 'string' || !Number.isFinite(m.sentAt))
    return core.respondError(ctx.requestId, 'BAD_REQUEST', 'malformed message plaintext');
  if (!core.delivered.has(m.id)) {
    core.delivered.add(m.id);
    const rec = { id: m.id, from: sender.uuid, text: m.text, sentAt: m.sentAt, receivedAt: core.now };
    core.persist({ op: 'inbox:put', message: rec });
    core.effect({ type: 'deliver', message: rec });
  }
  // Acknowledge after persisting: the runtime carries effects out in order.
  core.respondOk(ctx);
}
