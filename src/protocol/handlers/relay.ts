/**
 * Relaying IP and contact_req messages that are not for us (onmessage chart: "is referred to? →
 * relay message", "reached max hops? no → relay to connected peers"). The first good downstream
 * answer travels back upstream; duplicates are answered, not re-flooded.
 */
import { MAX_WIRE_HOPS } from '../codec.ts';
import type { MessageType, OkResponse } from '../messages.ts';
import type { InboundContext, MeshCore } from '../node.ts';
import { route } from '../routing.ts';
import type { ContactRecord } from '../types.ts';

/** Forwards `body` (with hops+1) toward `to`, answering the upstream request when done. */
export function relay(
  core: MeshCore,
  ctx: InboundContext,
  type: MessageType,
  to: string,
  hops: number,
  body: Record<string, unknown>,
  maxHops?: number,
): void {
  const searchKey = `s|${ctx.headers.id}`;
  if (core.seen.has(searchKey, core.now))
    return core.respondError(ctx.requestId, 'DUPLICATE', 'this search already passed here');
  core.seen.add(searchKey, core.now);
  if (hops >= MAX_WIRE_HOPS) return core.respondError(ctx.requestId, 'UNREACHABLE', 'hop limit reached');
  const r = route(core, to, ctx.sender?.uuid ?? null, hops, core.now, {
    searchRadius: Math.min(core.cfg.searchRadius, maxHops ?? MAX_WIRE_HOPS),
    relayFanout: core.cfg.relayFanout,
  });
  let targets: ContactRecord[];
  switch (r.kind) {
    case 'self':
    case 'unreachable':
      return core.respondError(ctx.requestId, 'UNREACHABLE', `no route to ${to} within ${core.cfg.searchRadius} hops`);
    case 'direct':
      targets = [r.contact];
      break;
    case 'referral':
      targets = r.vias;
      break;
    case 'flood':
      targets = r.targets;
      break;
  }
  const kind = type === 'IP' ? 'ip-relay' : 'contact_req-relay';
  const timerId = core.newTimerId('relay');
  // Deeper relays give up sooner so their UNREACHABLE reaches the searcher before its own timeout.
  const budget = Math.max(1000, core.cfg.relayTimeoutMs - hops * 1000);
  const pending = new Set<number>();
  let done = false;
  const finish = (status: 'ok' | 'fail', resp?: OkResponse) => {
    if (done) return;
    done = true;
    core.relays.delete(timerId);
    core.clearTimer(timerId);
    if (status === 'ok') core.respondOk(ctx, resp?.data);
    else core.respondError(ctx.requestId, 'UNREACHABLE', `no answer from ${to}`);
  };
  core.relays.set(timerId, { finish });
  const next = { ...body, hops: hops + 1 };
  for (const c of targets) {
    const id = core.send(
      { contact: c },
      type,
      next,
      kind,
      {
        onOk: (resp) => {
          pending.delete(id);
          if (resp.data) finish('ok', resp);
          else if (pending.size === 0) finish('fail');
        },
        onFail: (code) => {
          pending.delete(id);
          if (r.kind === 'direct' && (code === 'CONNECT_FAILED' || code === 'TIMEOUT')) core.contactUnreachable(c);
          if (pending.size === 0) finish('fail');
        },
      },
      ctx.headers.id,
      budget,
    );
    pending.add(id);
  }
  core.setTimer(timerId, core.now + budget);
}
