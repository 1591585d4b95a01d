/**
 * Answers to our own requests: each outstanding request names what its answer continues
 * (`Continuation`), and this switch hands the answer — or the failure — to that handler.
 */
import { checkProof, responseSigningInput } from '../crypto/index.ts';
import type { FailureCode } from '../errors.ts';
import { formatAddress, hostOf } from '../util/address.ts';
import { decodeResponse } from './codec.ts';
import type { CoreContext } from './context.ts';
import { messageAnswered } from './handlers/message.ts';
import { announceAnswered } from './handlers/presence.ts';
import { relayAnswered } from './handlers/relay.ts';
import { searchAnswered } from './handlers/search.ts';
import type { OkResponse } from './messages.ts';
import type { OutstandingRequest } from './state.ts';

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
    return settle(core, requestId, o, null, r.code);
  }
  if (o.linkKey && !(channel !== null && channel === o.contact)) {
    // auth chart, our side: the answer must carry the matching proof ("are equal? no → remove IP → fail").
    const input = responseSigningInput(o.meshId, r.value.observed, r.value.data ?? '');
    if (!r.value.secret || !checkProof(o.linkKey, input, r.value.secret)) {
      core.drop('BAD_SECRET', 'response proof does not match');
      return settle(core, requestId, o, null, 'BAD_SECRET');
    }
  }
  // Only an answer that proved itself under the link key may tell us how peers see us (issue 12
  // #14): a stranger's (or a man in the middle's) `observed` is not shown to the user.
  if (o.linkKey) noteObserved(core, r.value.observed);
  settle(core, requestId, o, r.value, null);
}

/** One of our requests got no HTTP answer. */
export function onSendFailed(core: CoreContext, requestId: number, reason: FailureCode): void {
  const o = core.state.outstanding.get(requestId);
  if (!o) return;
  core.state.outstanding.delete(requestId);
  settle(core, requestId, o, null, reason);
}

/** Peers report the socket they saw; only its host matters (the port is our ephemeral source port). */
function noteObserved(core: CoreContext, observed: string): void {
  const host = hostOf(observed);
  if (host === core.state.lastObserved) return;
  core.state.lastObserved = host;
  core.emit({ event: 'self:observed', address: formatAddress({ host, port: core.cfg.port }) });
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
  }
}
