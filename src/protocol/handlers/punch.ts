/**
 * Direct upgrade by TCP hole punching (docs/PROTOCOL.md §17), the coordination between two contacts
 * (after libp2p DCUtR): the initiator sends `connect` with its candidate endpoints and gets the
 * contact's in the answer, measuring the round trip; it then sends `sync` and starts its SYNs half a
 * round trip later, when `sync` reaches the contact, which starts at once. The lower UUID runs the TLS
 * client on the punched connection. The messages go to the contact by whatever path reaches it (a
 * channel, POST, or a relay through a mutual contact); the `punch` effect does the socket work.
 */
import { fromB64u, toB64u } from '../../crypto/index.ts';
import type { FailureCode } from '../../errors.ts';
import { formatAddress } from '../../util/address.ts';
import { decodeCandidates, decodeJson, encodeJson } from '../codec.ts';
import {
  PUNCH_BACKOFF_MAX_MS,
  PUNCH_BACKOFF_MS,
  PUNCH_MAX_CANDIDATES,
  PUNCH_MAX_PER_WINDOW,
  PUNCH_SYNC_WAIT_MS,
  PUNCH_TIMEOUT_MS,
  PUNCH_WINDOW_MS,
} from '../constants.ts';
import type { CoreContext, InboundContext } from '../context.ts';
import type { OkResponse, PunchAnswer, PunchBody } from '../messages.ts';
import type { PunchRecord } from '../state.ts';
import { withinBudget } from '../tables.ts';
import type { ContactRecord } from '../types.ts';

/** Who runs the TLS client on the punched connection: the lower UUID (both ends agree without a word). */
export function punchRole(self: string, other: string): 'client' | 'server' {
  return self < other ? 'client' : 'server';
}

/**
 * Our candidate endpoints: our punch port as a contact observed it on a channel we dialled from it,
 * then the host contacts see us at with the punch port (what a port-preserving NAT maps it to).
 * None when this node does not punch or nobody told us how it is seen yet.
 */
export function ownCandidates(ctx: CoreContext): string[] {
  const port = ctx.cfg.punchPort;
  if (port === null) return [];
  const out: string[] = [];
  if (ctx.state.punchObserved) out.push(ctx.state.punchObserved);
  // The host contacts agree on (§15.1), else the latest report.
  const host = ctx.state.nat.observedHost ?? ctx.state.lastObserved;
  if (host) out.push(formatAddress({ host, port }));
  return [...new Set(out)].slice(0, PUNCH_MAX_CANDIDATES);
}

/** Why a `punch` command started nothing. */
export type PunchSkip = 'NOT_PUNCHING' | 'NO_CANDIDATES' | 'IN_PROGRESS' | 'BACKOFF' | 'NOT_CONFIRMED';

function record(ctx: CoreContext, uuid: string): PunchRecord {
  let r = ctx.state.punches.get(uuid);
  if (!r) {
    r = { attempt: null, initiator: false, remotes: [], deadline: 0, failures: 0, notBefore: 0, direct: false };
    ctx.state.punches.set(uuid, r);
  }
  return r;
}

/** The `punch` command: start an attempt with contact `c`, or say why not. */
export function startPunch(
  ctx: CoreContext,
  c: ContactRecord,
): { uuid: string; attempt: string | null; reason?: PunchSkip } {
  const skip = (reason: PunchSkip) => ({ uuid: c.uuid, attempt: null, reason });
  if (ctx.cfg.punchPort === null) return skip('NOT_PUNCHING');
  if (c.status === 'pending') return skip('NOT_CONFIRMED');
  const r = record(ctx, c.uuid);
  if (r.attempt !== null && ctx.now < r.deadline) return skip('IN_PROGRESS');
  if (ctx.now < r.notBefore) return skip('BACKOFF');
  const candidates = ownCandidates(ctx);
  if (candidates.length === 0) return skip('NO_CANDIDATES');
  const attempt = ctx.newId();
  r.attempt = attempt;
  r.initiator = true;
  r.remotes = [];
  // Until the outcome: the answer (≤ request timeout), half a round trip, the punch itself.
  r.deadline = ctx.now + 2 * ctx.cfg.requestTimeoutMs + PUNCH_TIMEOUT_MS;
  const body: PunchBody = { op: 'connect', attempt, candidates };
  ctx.send({ contact: c }, 'punch', body, 'punch', {
    kind: 'punch',
    contact: c.uuid,
    attempt,
    op: 'connect',
    sentAt: ctx.now,
  });
  return { uuid: c.uuid, attempt };
}

/** An authenticated `punch` from a contact. */
export function handlePunch(ctx: CoreContext, inbound: InboundContext, body: PunchBody): void {
  const c = inbound.sender as ContactRecord; // inbound.ts lets only contacts' punch through
  if (body.op === 'connect') {
    if (!withinBudget(ctx, `punch|${c.uuid}`, PUNCH_MAX_PER_WINDOW, PUNCH_WINDOW_MS, 'LIMIT_PUNCH'))
      return ctx.respondError(inbound.requestId, 'RATE_LIMITED', 'too many punch attempts; stay on the relay for now');
    const candidates = ownCandidates(ctx);
    const r = record(ctx, c.uuid);
    // Both started at once (glare): the lower UUID's attempt goes on, the other is dropped by both ends.
    const oursWins = r.initiator && r.attempt !== null && ctx.now < r.deadline && ctx.self.uuid < c.uuid;
    if (candidates.length > 0 && body.candidates.length > 0 && !oursWins) {
      r.attempt = body.attempt;
      r.initiator = false;
      r.remotes = body.candidates;
      r.deadline = ctx.now + PUNCH_SYNC_WAIT_MS;
    }
    const answer: PunchAnswer = { candidates };
    return ctx.respondOk(inbound.upstream, toB64u(encodeJson(answer)));
  }
  const r = ctx.state.punches.get(c.uuid);
  if (!r || r.initiator || r.attempt !== body.attempt || ctx.now > r.deadline) {
    // A sync we did not agree to (late, or its connect was refused): nothing to start, no harm done.
    ctx.respondOk(inbound.upstream);
    return;
  }
  r.deadline = ctx.now + PUNCH_TIMEOUT_MS;
  ctx.respondOk(inbound.upstream);
  punchEffect(ctx, c, r, ctx.now);
}

/** The answer to our `connect` or `sync`. */
export function punchAnswered(
  ctx: CoreContext,
  uuid: string,
  attempt: string,
  op: 'connect' | 'sync',
  sentAt: number,
  resp: OkResponse | null,
  failure: FailureCode | null,
): void {
  const c = ctx.state.contacts.get(uuid);
  const r = ctx.state.punches.get(uuid);
  if (!c || !r || r.attempt !== attempt || !r.initiator) return;
  if (op === 'sync') {
    // The punch already started on our side; a lost sync shows as a failed punch.
    return;
  }
  if (failure !== null || !resp) return finish(ctx, c, r, false, `CONNECT_${failure ?? 'BAD_RESPONSE'}`);
  const answer = resp.data ? decodeJson(fromB64u(resp.data)) : null;
  const remotes = decodeCandidates((answer as Partial<PunchAnswer> | null)?.candidates);
  if (!remotes) {
    ctx.drop('BAD_RESPONSE', 'punch answer without valid candidates');
    return finish(ctx, c, r, false, 'BAD_RESPONSE');
  }
  if (remotes.length === 0) return finish(ctx, c, r, false, 'NO_CANDIDATES');
  r.remotes = remotes;
  const rtt = Math.max(0, ctx.now - sentAt);
  ctx.send({ contact: c }, 'punch', { op: 'sync', attempt } satisfies PunchBody, 'punch', {
    kind: 'punch',
    contact: uuid,
    attempt,
    op: 'sync',
    sentAt: ctx.now,
  });
  // `sync` takes about half the round trip to arrive; the contact starts then, so do we.
  const at = ctx.now + Math.round(rtt / 2);
  r.deadline = at + PUNCH_TIMEOUT_MS;
  punchEffect(ctx, c, r, at);
}

function punchEffect(ctx: CoreContext, c: ContactRecord, r: PunchRecord, at: number): void {
  ctx.effect({
    type: 'punch',
    uuid: c.uuid,
    attempt: r.attempt as string,
    signPub: c.signPub,
    remotes: r.remotes,
    role: punchRole(ctx.self.uuid, c.uuid),
    at,
    timeoutMs: PUNCH_TIMEOUT_MS,
  });
}

/** The host's `punch-result`. */
export function punchResult(ctx: CoreContext, uuid: string, attempt: string, ok: boolean, reason?: string): void {
  const c = ctx.state.contacts.get(uuid);
  const r = ctx.state.punches.get(uuid);
  if (!c || !r || r.attempt !== attempt) return;
  finish(ctx, c, r, ok, ok ? undefined : (reason ?? 'FAILED'));
}

function finish(ctx: CoreContext, c: ContactRecord, r: PunchRecord, ok: boolean, reason?: string): void {
  const initiator = r.initiator;
  r.attempt = null;
  r.remotes = [];
  r.direct = ok;
  if (initiator) {
    r.failures = ok ? 0 : r.failures + 1;
    r.notBefore = ok ? 0 : ctx.now + Math.min(PUNCH_BACKOFF_MS * 2 ** (r.failures - 1), PUNCH_BACKOFF_MAX_MS);
  }
  ctx.emit({ event: 'contact:punch', uuid: c.uuid, ok, ...(reason ? { reason } : {}) });
}
