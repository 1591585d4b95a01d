/**
 * Originating a routed request (sendmessage chart "try → send IP message to contacts → catch → try
 * → all fail → send IP message to peers with domain"; addcontact chart likewise for contact_req).
 * Targets are asked in batches of `searchFanout`; the first good answer wins.
 */
import { checkProof, computeProof, fromB64u, openSealed, sealTo, toB64u, utf8 } from '../../crypto/index.ts';
import { decodeJson, isAddress } from '../codec.ts';
import type { IpAnswerSealed, IpSealed, MessageType, OkResponse } from '../messages.ts';
import type { MeshCore, SendTarget } from '../node.ts';
import { bestReferrals, searchOrder } from '../routing.ts';
import type { ContactRecord } from '../types.ts';

/** A running search or routed request. */
export interface Search {
  key: string;
  done: boolean;
  startedAt: number;
  /** Ends the search (ok = found). */
  finish(core: MeshCore, ok: boolean): void;
  /** The current batch timed out: try the next one. */
  timeout(core: MeshCore): void;
}

/** What a routed request sends and how it judges answers. */
export interface RoutedInit {
  key: string;
  type: MessageType;
  body: unknown;
  kind: string;
  targets: SendTarget[];
  /** Returns true when the answer is the one we wanted (ends the search). */
  onAnswer(resp: OkResponse, via: SendTarget): boolean;
  onExhausted(): void;
}

/** Sends `body` to targets in batches until one answers well or all failed. */
export class RoutedRequest implements Search {
  readonly key: string;
  done = false;
  readonly meshId: string;
  /** When the search began (relocation latency). */
  readonly startedAt: number;
  #queue: SendTarget[];
  #inFlight = new Set<number>();
  #timerId: string;

  constructor(
    core: MeshCore,
    readonly init: RoutedInit,
  ) {
    this.key = init.key;
    this.meshId = core.newId();
    this.startedAt = core.now;
    this.#queue = [...init.targets];
    this.#timerId = `search:${init.key}`;
  }

  /** Starts the first batch. */
  start(core: MeshCore): void {
    core.searches.set(this.key, this);
    this.#nextBatch(core);
  }

  #nextBatch(core: MeshCore): void {
    if (this.done) return;
    if (this.#queue.length === 0) {
      this.finish(core, false);
      this.init.onExhausted();
      return;
    }
    const batch = this.#queue.splice(0, Math.max(1, core.cfg.searchFanout));
    for (const target of batch) {
      const id = core.send(
        target,
        this.init.type,
        this.init.body,
        this.init.kind,
        {
          onOk: (resp) => {
            this.#inFlight.delete(id);
            if (this.done) return;
            if (this.init.onAnswer(resp, target)) this.finish(core, true);
            else this.#maybeNext(core);
          },
          onFail: (code) => {
            this.#inFlight.delete(id);
            if (this.done) return;
            // A contact we asked directly is not at its address any more: note it.
            if ('contact' in target && (code === 'CONNECT_FAILED' || code === 'TIMEOUT' || code === 'UNKNOWN_SENDER'))
              core.contactUnreachable(target.contact);
            this.#maybeNext(core);
          },
        },
        this.meshId,
        core.cfg.searchTimeoutMs,
      );
      this.#inFlight.add(id);
    }
    core.setTimer(this.#timerId, core.now + core.cfg.searchTimeoutMs);
  }

  #maybeNext(core: MeshCore): void {
    if (this.#inFlight.size === 0) this.#nextBatch(core);
  }

  /** @inheritdoc */
  timeout(_core: MeshCore): void {
    // Late answers of the timed-out batch are still welcome (their callbacks stay registered).
    this.#inFlight.clear();
    const core = _core;
    this.#nextBatch(core);
  }

  /** @inheritdoc */
  finish(core: MeshCore, _ok: boolean): void {
    if (this.done) return;
    this.done = true;
    this.#inFlight.clear();
    core.clearTimer(this.#timerId);
    if (core.searches.get(this.key) === this) core.searches.delete(this.key);
  }
}

const ipAad = (to: string) => utf8(`mesh-v1-IP|${to}`);
/** Associated data of the target's sealed answer to an IP search. */
export const ipAnswerAad = (searchId: string) => utf8(`mesh-v1-IP-answer|${searchId}`);
/** The input of the origin's proof in an IP message (the seed's `encrypted.secret`). */
export const ipProofInput = (searchId: string, ip: string) => utf8(`mesh-v1-ip|${searchId}|${ip}`);
/** The input of the target's proof in its answer. */
export const ipAnswerProofInput = (searchId: string, ip: string) => utf8(`mesh-v1-ip-answer|${searchId}|${ip}`);
/** Associated data of the sealed part of an IP message to `to`. */
export { ipAad };

/**
 * Who to ask, at most `maxAsk` (0 = all): contacts holding a referral for the target first, then the
 * others in a random order (so a retry asks other contacts), then every peer with a domain.
 */
function boundedOrder(core: MeshCore, target: string, maxAsk: number): ContactRecord[] {
  const all = searchOrder(core, target, core.now);
  const domains = all.filter((c) => c.domain !== null);
  // The same unexpired referrals searchOrder puts first (an expired one awaiting the sweep does not count).
  const vias = new Set(bestReferrals(core.referrals(target), core.now).map((r) => r.via));
  const first = all.filter((c) => c.domain === null && vias.has(c.uuid));
  const rest = all.filter((c) => c.domain === null && !vias.has(c.uuid));
  const bytes = core.random(4 * rest.length);
  for (let i = rest.length - 1; i > 0; i--) {
    const r = (bytes[4 * i] | (bytes[4 * i + 1] << 8) | (bytes[4 * i + 2] << 16) | (bytes[4 * i + 3] << 24)) >>> 0;
    const j = r % (i + 1);
    [rest[i], rest[j]] = [rest[j], rest[i]];
  }
  const people = [...first, ...rest];
  return [...(maxAsk > 0 ? people.slice(0, maxAsk) : people), ...domains];
}

/**
 * Searches for a contact whose address went stale: an IP message (our address sealed to it) through
 * our other contacts, then peers with a domain. On the answer: update its address ("send connect").
 */
export function startSearch(core: MeshCore, target: ContactRecord, ring?: number): void {
  const existing = core.searches.get(target.uuid);
  if (existing && !existing.done) return;
  // Expanding ring: first ask only our contacts (those that know the target directly or by referral
  // answer); flood further, up to the search radius, only when that found nothing.
  const maxHops = ring ?? Math.min(1, core.cfg.searchRadius);
  const order = boundedOrder(
    core,
    target.uuid,
    maxHops <= 1 ? core.cfg.searchMaxAsk : Math.ceil(core.cfg.searchMaxAsk / 4),
  );
  if (order.length === 0) {
    core.drop('UNREACHABLE', `no contact to ask for ${target.uuid}`);
    return;
  }
  let search: RoutedRequest;
  const link = core.linkKey(target);
  const ip = core.address ?? '';
  // The sealed part needs the search id, which the RoutedRequest draws: build the body lazily.
  const body = { to: target.uuid, hops: 1, maxHops, encrypted: '' };
  search = new RoutedRequest(core, {
    key: target.uuid,
    type: 'IP',
    body,
    kind: 'ip',
    targets: order.map((contact) => ({ contact })),
    onAnswer: (resp, via) => {
      if (!resp.data) return false;
      let sealed: Uint8Array;
      try {
        sealed = fromB64u(resp.data);
      } catch {
        return false;
      }
      const opened = openSealed(core.self, sealed, ipAnswerAad(search.meshId));
      if (!opened || toB64u(opened.senderBoxPub) !== toB64u(target.boxPub)) {
        core.drop('BAD_SECRET', 'IP answer not sealed by the target');
        return false;
      }
      const ans = decodeJson(opened.plaintext) as IpAnswerSealed | null;
      if (!ans || typeof ans.ip !== 'string' || !isAddress(ans.ip) || typeof ans.proof !== 'string') return false;
      if (!checkProof(link, ipAnswerProofInput(search.meshId, ans.ip), ans.proof)) {
        core.drop('BAD_SECRET', 'IP answer proof does not match our shared secret');
        return false;
      }
      core.relocated(target, 'contact' in via ? via.contact.uuid : via.address, search.meshId, ans.ip);
      search.done = true; // contactSeen below must not count this search a second time
      core.contactSeen(target, ans.ip, false);
      search.done = false;
      return true;
    },
    onExhausted: () => {
      if (maxHops < core.cfg.searchRadius) return startSearch(core, target, core.cfg.searchRadius);
      core.drop('UNREACHABLE', `search for ${target.uuid} found no route`);
    },
  });
  const sealedPart: IpSealed = { from: core.self.uuid, ip, proof: computeProof(link, ipProofInput(search.meshId, ip)) };
  body.encrypted = toB64u(
    sealTo(core.self, target.boxPub, utf8(JSON.stringify(sealedPart)), ipAad(target.uuid), core.random),
  );
  search.start(core);
}
