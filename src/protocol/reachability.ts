/**
 * The one rule for "can we reach this contact?": which contacts we send to, and which failed
 * requests mean a contact is no longer at its address (it then turns inactive, its referrals are
 * withdrawn and a search may start). Every handler asks these functions; none has its own list.
 */
import type { FailureCode } from '../errors.ts';
import type { ContactRecord } from './types.ts';

/** A contact we can send to: confirmed (not pending) with a known address. */
export function usable(c: ContactRecord | undefined): c is ContactRecord {
  return c !== undefined && c.status !== 'pending' && c.address !== null;
}

/** A contact we believe is at its address now: usable, and the last attempt to reach it succeeded. */
export function reachable(c: ContactRecord | undefined): c is ContactRecord {
  return usable(c) && c.status === 'active';
}

/**
 * What a failed request was: our own request on the link with the contact (presence, a message, a
 * search asking it), or a message relayed for someone else, whose end-to-end checks the contact
 * answers with the same codes (an IP message's sealed part that does not open is BAD_SECRET).
 */
export type Leg = 'own' | 'relayed';

/** Nobody answered as the contact: no connection, no answer in time, or another key at that address. */
const NO_ANSWER: readonly FailureCode[] = ['CONNECT_FAILED', 'TIMEOUT', 'TLS_PIN'];
/** The node at the address does not share our link: someone else lives there, or it lost us. */
const NOT_OUR_LINK: readonly FailureCode[] = ['UNKNOWN_SENDER', 'BAD_SECRET'];

/**
 * True when a request to a contact failed in a way that means the contact is not at its address.
 * Any other answer (DUPLICATE, REPLAYED, UNREACHABLE, RATE_LIMITED, INTERNAL...) came from the
 * contact itself, so it is still there; ABORTED is our own shutdown.
 */
export function unreachableAfter(code: FailureCode, leg: Leg): boolean {
  if (NO_ANSWER.includes(code)) return true;
  return leg === 'own' && NOT_OUR_LINK.includes(code);
}
