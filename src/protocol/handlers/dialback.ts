/**
 * Dial-back (docs/PROTOCOL.md §15.4, like libp2p AutoNAT): we ask contacts that saw us at our
 * public host to open a fresh connection to that host on our port and send a nonce back; a probe
 * that reaches us proves others can dial us (`public`, or `mapped` on the router's mapped port).
 * A contact dials only the requester's own observed IP, within per-contact and in-flight budgets.
 */

import { tryFromB64u } from '../../crypto/b64u.ts';
import { toB64u } from '../../crypto/index.ts';
import type { FailureCode } from '../../errors.ts';
import { formatAddress, hostOf, tryParseAddress } from '../../util/address.ts';
import { decodeJson, encodeJson } from '../codec.ts';
import {
  DIALBACK_ASK,
  DIALBACK_ASK_TIMEOUT_MS,
  DIALBACK_MAX_IN_FLIGHT,
  DIALBACK_PER_CONTACT,
  DIALBACK_PROBE_TIMEOUT_MS,
  DIALBACK_WINDOW_MS,
} from '../constants.ts';
import type { CoreContext, InboundContext } from '../context.ts';
import type { DialbackBody, OkResponse } from '../messages.ts';
import { applyAdvertised } from '../observed.ts';
import { reachable } from '../reachability.ts';
import type { Upstream } from '../state.ts';
import { withinBudget } from '../tables.ts';

/** Starts a reachability check of our current address (replaces one in progress). */
export function startDialback(core: CoreContext): void {
  const nat = core.state.nat;
  if (!core.cfg.dialback || !core.state.started || nat.observedHost === null) return;
  // Only contacts that saw us at the agreed host test that host: a contact on our LAN would
  // reach our LAN address and prove nothing about the public one.
  const askable = [...core.state.contacts.values()]
    .filter((c) => reachable(c) && nat.observations.get(c.uuid)?.host === nat.observedHost)
    .sort((a, b) => (nat.observations.get(b.uuid)?.at ?? 0) - (nat.observations.get(a.uuid)?.at ?? 0))
    .slice(0, DIALBACK_ASK);
  if (askable.length === 0) return;
  const mappedPort = nat.mapping ? tryParseAddress(nat.mapping)?.port : undefined;
  const port = mappedPort ?? core.cfg.port;
  const nonce = core.newId();
  nat.check = { nonce, port, mapped: mappedPort !== undefined, asked: askable.length, answered: 0, reached: false };
  nat.lastCheck = core.now;
  for (const c of askable) {
    const body: DialbackBody = { op: 'ask', nonce, port };
    core.send(
      { contact: c },
      'dialback',
      body,
      'dialback',
      { kind: 'dialback-ask', nonce, contact: c.uuid },
      undefined,
      DIALBACK_ASK_TIMEOUT_MS,
    );
  }
}

/** An inbound `dialback` request (from a contact: inbound.ts admits no stranger here). */
export function handleDialback(core: CoreContext, ctx: InboundContext, body: DialbackBody): void {
  const sender = ctx.sender;
  if (!sender) return core.respondError(ctx.requestId, 'UNKNOWN_SENDER', 'dialback is for contacts');
  if (body.op === 'probe') return probeArrived(core, ctx, body.nonce);
  if (!withinBudget(core, `dialback|${sender.uuid}`, DIALBACK_PER_CONTACT, DIALBACK_WINDOW_MS, 'LIMIT_DIALBACK'))
    return core.respondError(ctx.requestId, 'OVER_LIMIT', 'too many dial-back requests; try again in 10 minutes');
  if (core.state.nat.probes >= DIALBACK_MAX_IN_FLIGHT) {
    core.drop('LIMIT_DIALBACK', 'probes in flight');
    return core.respondError(ctx.requestId, 'OVER_LIMIT', 'too many dial-backs in flight; try again later');
  }
  // Only the requester's own observed IP: a contact cannot aim our connections at another host.
  const address = formatAddress({ host: hostOf(ctx.remote), port: body.port });
  core.state.nat.probes++;
  const probe: DialbackBody = { op: 'probe', nonce: body.nonce };
  core.send(
    { contact: sender, at: address, fresh: true },
    'dialback',
    probe,
    'dialback',
    { kind: 'dialback-probe', upstream: ctx.upstream },
    undefined,
    DIALBACK_PROBE_TIMEOUT_MS,
  );
}

/** A contact's fresh connection reached us: if it carries our nonce, we are dialable there. */
function probeArrived(core: CoreContext, ctx: InboundContext, nonce: string): void {
  const check = core.state.nat.check;
  // On a channel the connection is not fresh (it may be the one we dialled ourselves).
  if (ctx.upstream.channel)
    return core.respondError(ctx.requestId, 'BAD_REQUEST', 'a probe must come on a new connection');
  if (!check || check.nonce !== nonce)
    return core.respondError(ctx.requestId, 'BAD_SECRET', 'no dial-back with this nonce');
  core.respondOk(ctx.upstream);
  if (check.reached) return;
  check.reached = true;
  core.state.nat.reachability = check.mapped ? 'mapped' : 'public';
  applyAdvertised(core);
}

/** Our probe for a contact was answered (or not): tell the contact. */
export function probeAnswered(core: CoreContext, upstream: Upstream, failure: FailureCode | null): void {
  core.state.nat.probes = Math.max(0, core.state.nat.probes - 1);
  const data = toB64u(encodeJson({ reached: failure === null }));
  core.respondOk(upstream, data);
}

/** A contact answered our "dial me back": count it; all tried and none reached us → private. */
export function askAnswered(
  core: CoreContext,
  nonce: string,
  resp: OkResponse | null,
  failure: FailureCode | null,
): void {
  const nat = core.state.nat;
  const check = nat.check;
  if (!check || check.nonce !== nonce || check.reached) return;
  // A failed ask (a v1 contact answers BAD_REQUEST, a budget, a timeout) says nothing about us.
  if (failure !== null || !resp?.data) return;
  const said = decodeJson(tryFromB64u(resp.data) ?? new Uint8Array()) as { reached?: unknown } | null;
  if (typeof said?.reached !== 'boolean') return;
  check.answered++;
  if (check.answered < check.asked) return;
  nat.reachability = 'private';
  applyAdvertised(core);
}
