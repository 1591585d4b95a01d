/**
 * Answers to our own requests: each outstanding request names what its answer continues
 * (`Continuation`), and this switch hands the answer — or the failure — to that handler.
 */
import type { FailureCode } from '../errors.ts';
import { formatAddress, hostOf } from '../util/address.ts';
import { decodeResponse, isAddress } from './codec.ts';
import type { CoreContext } from './context.ts';
import { askAnswered, probeAnswered } from './handlers/dialback.ts';
import { messageAnswered } from './handlers/message.ts';
import { finalFailure, forwardAnswered, openRelayedAnswer, relayFallback } from './handlers/path.ts';
import { announceAnswered } from './handlers/presence.ts';
import { punchAnswered } from './handlers/punch.ts';
import { relayAnswered } from './handlers/relay.ts';
import { searchAnswered } from './handlers/search.ts';
import type { OkResponse } from './messages.ts';
import { noteObservation } from './observed.ts';
import type { OutstandingRequest, RelayAttempt } from './state.ts';

/**
 * An answer to one of our requests arrived; `channel` is the UUID of the channel it came back on
 * (null for POST). An answer from the contact's own channel needs no proof: the channel's HELLOs
 * authenticated that peer, and only it can answer there.
 */
export function onResponse(
  core: CoreContext,
  requestId: number,
  status: number,
  body: Uint8Array,
  channel: string | null = null,
): void {
  const o = core.state.outstanding.get(requestId);
  if (!o) return core.drop('UNKNOWN_REQUEST', `response to unknown request ${requestId}`);
  core.state.outstanding.delete(requestId);
  const r = decodeResponse(status, body);
  if (!r.ok) {
    if (r.code === 'BAD_RESPONSE') core.drop('BAD_RESPONSE', r.message);
    return failed(core, requestId, o, r.code);
  }
  if (o.linkKey && !(channel !== null && channel === o.contact)) {
    // auth chart, our side: the answer must carry the matching proof ("are equal? no → remove IP → fail").
    const input = core.crypto.responseSigningInput(o.meshId, r.value.observed, r.value.data ?? '');
    if (!r.value.secret || !core.crypto.checkProof(o.linkKey, input, r.value.secret)) {
      core.drop('BAD_SECRET', 'response proof does not match');
      return failed(core, requestId, o, 'BAD_SECRET');
    }
  }
  // §16: the relay's answer carries the target's, sealed: that one is the answer to our request.
  if (o.path?.via) return relayedAnswer(core, requestId, o, o.path, r.value.data);
  // Only an answer that proved itself under the link key may tell us how peers see us (issue 12
  // #14): a stranger's (or a man in the middle's) `observed` is not shown to the user.
  if (o.linkKey) noteObserved(core, r.value.observed, o.contact);
  // On a channel we dialled from the punch port, `observed` is that port's NAT mapping (§17.2).
  if (o.linkKey && channel !== null && channel === o.contact) notePunchObserved(core, r.value.observed);
  settle(core, requestId, o, r.value, null);
}

/** One of our requests got no HTTP answer. */
export function onSendFailed(core: CoreContext, requestId: number, reason: FailureCode): void {
  const o = core.state.outstanding.get(requestId);
  if (!o) return;
  core.state.outstanding.delete(requestId);
  failed(core, requestId, o, reason);
}

/** Our request failed (no answer, or the node we sent it to refused): maybe through a relay, else settle. */
function failed(core: CoreContext, requestId: number, o: OutstandingRequest, failure: FailureCode): void {
  if (relayFallback(core, requestId, o, failure)) return;
  settle(core, requestId, o, null, finalFailure(o, failure));
}

/** The target's own answer inside a relay's 200 answer: checked under the target's link key, then settled. */
function relayedAnswer(
  core: CoreContext,
  requestId: number,
  o: OutstandingRequest,
  path: RelayAttempt,
  data: string | undefined,
): void {
  const inner = openRelayedAnswer(core, path, data);
  if (typeof inner === 'string') {
    core.drop(inner === 'BAD_SECRET' ? 'BAD_SECRET' : 'BAD_RESPONSE', 'relayed answer does not open');
    return failed(core, requestId, o, inner);
  }
  const r = decodeResponse(inner.status, inner.body);
  if (!r.ok) return settle(core, requestId, o, null, r.code);
  const input = core.crypto.responseSigningInput(path.meshId, r.value.observed, r.value.data ?? '');
  if (!r.value.secret || !core.crypto.checkProof(path.linkKey, input, r.value.secret)) {
    core.drop('BAD_SECRET', 'relayed answer proof does not match');
    return settle(core, requestId, o, null, 'BAD_SECRET');
  }
  // Its `observed` is the relay's socket, not ours: not shown as an observed address.
  settle(core, requestId, o, r.value, null);
}

/** Peers report the socket they saw; only its host matters (the port is our ephemeral source port). */
function noteObserved(core: CoreContext, observed: string, contact: string | null): void {
  const host = hostOf(observed);
  noteObservation(core, contact, host); // §15.1: the vote of this contact
  if (host === core.state.lastObserved) return;
  core.state.lastObserved = host;
  core.emit({ event: 'self:observed', address: formatAddress({ host, port: core.cfg.port }) });
}

/**
 * A contact's channel answer tells where our channel's source port appears after our NAT. Only a
 * port other than our listening port can be our punch port's mapping (a channel the contact dialled
 * to us reports our listening port).
 */
function notePunchObserved(core: CoreContext, observed: string): void {
  if (core.cfg.punchPort === null || !isAddress(observed)) return;
  if (observed.endsWith(`:${core.cfg.port}`)) return;
  core.state.punchObserved = observed;
}

/** Continues what the request was for: exactly one of `resp` (answered) and `failure` is set. */
function settle(
  core: CoreContext,
  requestId: number,
  o: OutstandingRequest,
  resp: OkResponse | null,
  failure: FailureCode | null,
): void {
  const then = o.then;
  switch (then.kind) {
    case 'announce':
      return announceAnswered(core, then, failure);
    case 'referral':
      return; // a forwarded referral: nothing waits for its answer
    case 'message':
      return messageAnswered(core, then.id, then.contact, failure);
    case 'search':
      return searchAnswered(core, requestId, then, resp, failure);
    case 'relay':
      return relayAnswered(core, requestId, then, resp, failure);
    case 'dialback-ask':
      return askAnswered(core, then.nonce, resp, failure);
    case 'dialback-probe':
      return probeAnswered(core, then.upstream, failure);
    case 'forward':
      return forwardAnswered(core, then.upstream, resp?.data, failure);
    case 'introduce':
      return;
    case 'punch':
      return punchAnswered(core, then.contact, then.attempt, then.op, then.sentAt, resp, failure);
  }
}
