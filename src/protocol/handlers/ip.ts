/**
 * IP messages (onmessage chart, branch "IP"): for self → decrypt, check the secret, update the
 * contact's address, answer with ours sealed back and "send connect"; else relay.
 */
import { fromB64u, toB64u, utf8 } from '../../crypto/index.ts';
import { decodeJson, isAddress, isPlausibleAddress } from '../codec.ts';
import type { CoreContext, InboundContext } from '../context.ts';
import type { IpAnswerSealed, IpBody, IpSealed } from '../messages.ts';
import { lanRoute } from '../observed.ts';
import { seenAdd, seenHas } from '../seen-cache.ts';
import { ipAad, ipAnswerAad, ipAnswerProofInput, ipProofInput } from './locate.ts';
import { relay } from './relay.ts';

/** Handles an authenticated IP request. */
export function handleIp(core: CoreContext, ctx: InboundContext, body: IpBody): void {
  if (body.to !== core.self.uuid)
    return relay(
      core,
      ctx,
      'IP',
      body.to,
      body.hops,
      { to: body.to, encrypted: body.encrypted, ...(body.maxHops !== undefined ? { maxHops: body.maxHops } : {}) },
      body.maxHops,
    );
  const searchKey = `s|${ctx.headers.id}`;
  if (seenHas(core.state.seen, searchKey, core.now))
    return core.respondError(ctx.requestId, 'DUPLICATE', 'this search already reached us');
  seenAdd(core.state.seen, searchKey, core.now, ctx.sender === null);
  const { openSealed, checkProof, computeProof, sealTo } = core.crypto;
  const opened = openSealed(core.self, fromB64u(body.encrypted), ipAad(core.self.uuid));
  if (!opened) return core.respondError(ctx.requestId, 'BAD_SECRET', 'the sealed part does not open for this node');
  const inner = decodeJson(opened.plaintext) as IpSealed | null;
  if (!inner || typeof inner.from !== 'string' || typeof inner.ip !== 'string' || typeof inner.proof !== 'string')
    return core.respondError(ctx.requestId, 'BAD_REQUEST', 'malformed sealed part');
  if (inner.ts !== undefined && !Number.isFinite(inner.ts))
    return core.respondError(ctx.requestId, 'BAD_REQUEST', 'malformed sealed part');
  // The sealed timestamp (issue 12 #5): a relay that kept an old IP message and replays it once the
  // seen-id cache forgot its Mesh-Id (the proof binds the id, the hop headers are the relay's own)
  // must not roll the searcher's address back. Checked like Mesh-Ts; the seen ids outlive the window.
  if (inner.ts !== undefined && Math.abs(core.now - inner.ts) > core.cfg.replayWindowMs)
    return core.respondError(ctx.requestId, 'REPLAYED', 'the sealed part is outside the replay window');
  const origin = core.state.contacts.get(inner.from);
  if (!origin || toB64u(origin.boxPub) !== toB64u(opened.senderBoxPub))
    return core.respondError(ctx.requestId, 'UNKNOWN_SENDER', 'the searcher is not our contact');
  // "decrypt secret → equal to saved secret?"
  if (!checkProof(core.linkKey(origin), ipProofInput(ctx.headers.id, inner.ip), inner.proof))
    return core.respondError(ctx.requestId, 'BAD_SECRET', 'the searcher does not know our shared secret');
  const ip = core.state.address ?? '';
  const answer: IpAnswerSealed = {
    ip,
    proof: computeProof(core.linkKey(origin), ipAnswerProofInput(ctx.headers.id, ip)),
  };
  const data = toB64u(
    sealTo(core.self, origin.boxPub, utf8(JSON.stringify(answer)), ipAnswerAad(ctx.headers.id), core.random),
  );
  core.respondOk(ctx.upstream, data);
  // "yes → send connect": update the searcher's address, then reach it directly. Only from a sealed
  // part with a timestamp (a v1 part without one is answered, but could be a replay) and an address
  // we may send to; the searcher learns ours from the answer and reaches us itself anyway.
  if (inner.ts === undefined) return;
  if (!isPlausibleAddress(inner.ip, core.state.address)) {
    if (isAddress(inner.ip)) core.drop('BAD_ADDRESS', `IP message claims ${inner.ip}`);
    return;
  }
  // Behind our own public IP, the searcher is reached on the LAN (§15.5: no hairpinning).
  const at = lanRoute(core, origin.uuid, inner.ip) ?? inner.ip;
  const moved = at !== origin.address || origin.status !== 'active';
  core.contactSeen(origin, at, false);
  if (moved) core.announceTo(origin, false);
}
