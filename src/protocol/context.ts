/**
 * What a handler may see and do: the core's state (plain data), its configuration, and the effect
 * helpers. Types only — handlers import this, never the `MeshCore` class, so the handler files and
 * node.ts form no import cycle. The class in node.ts implements it; tests could too.
 */
import type { DropReason, MeshErrorCode, WireErrorCode } from '../errors.ts';
import type { CoreConfig } from './config.ts';
import type { CoreCrypto } from './core-crypto.ts';
import type { DigestCache } from './digest-cache.ts';
import type { AppEvent, Effect, SendKind } from './events.ts';
import type { MessageType, RequestHeaders } from './messages.ts';
import type { RoutingView } from './routing.ts';
import type { Continuation, CoreState, RelayAttempt, SearchRecord, Upstream } from './state.ts';
import type { TimerId } from './timers.ts';
import type { ContactRecord, PersistOp, SelfRecord } from './types.ts';

/** An incoming request being handled (hop-level view). */
export interface InboundContext {
  requestId: number;
  remote: string;
  headers: RequestHeaders;
  body: Uint8Array;
  /** The authenticated sender if it is one of our contacts. */
  sender: ContactRecord | null;
  /** First contact: the sender's keys from Mesh-Pub-Key (signature checked). */
  stranger: { signPub: Uint8Array; boxPub: Uint8Array } | null;
  /** Where an answer to this request goes (kept by a relay that answers later). */
  upstream: Upstream;
}

/**
 * What to send: to a contact (authenticated with Mesh-Secret) or to a stranger's address (signed).
 * `at` sends to a contact at another address than its stored one, `fresh` on a new connection
 * (a dial-back probe, §15); `signPub` pins a stranger's key (§16.4: an introducer or an introduced
 * requester, over its channel).
 */
export type SendTarget =
  | { contact: ContactRecord; at?: string; fresh?: boolean }
  | { address: string; domain: string | null; signPub?: Uint8Array };

/** The state a handler reads and the effects it may cause (and the routing view of its tables). */
export interface CoreContext extends RoutingView {
  readonly cfg: CoreConfig;
  readonly self: SelfRecord;
  readonly state: CoreState;
  /** The time of the event being handled. */
  readonly now: number;
  /** Randomness: crypto-strong in real nodes, seeded in tests and the simulator. */
  readonly random: (n: number) => Uint8Array;
  /** Keyed primitives: the real ones, or the simulator's stand-in (core-crypto.ts). */
  readonly crypto: CoreCrypto;
  /** 16 random bytes in base64url: message ids, search ids. */
  newId(): string;

  // ---- effects
  /** Queues an effect. */
  effect(e: Effect): void;
  /** Records ops to persist (consecutive ops share one `persist` effect). */
  persist(...ops: PersistOp[]): void;
  /** Emits an application event. */
  emit(data: AppEvent): void;
  /** Counts and reports a dropped input. */
  drop(reason: DropReason, detail?: string): void;
  /** Sets (or replaces) a timer at absolute time `at`. */
  setTimer(timer: TimerId, at: number): void;
  /** Clears a timer. */
  clearTimer(timer: TimerId): void;
  /** Answers a command. */
  result(commandId: number, value: unknown): void;
  /** Fails a command with a code and a sentence that says what to do. */
  fail(commandId: number, code: MeshErrorCode, message: string): void;
  /**
   * Sends a Mesh request and records it as outstanding; its answer continues as `then` says.
   * Returns the request id.
   */
  send(
    target: SendTarget,
    type: MessageType,
    body: unknown,
    kind: SendKind,
    then: Continuation,
    meshId?: string,
    timeoutMs?: number,
    /** §16: send as this (already failed) request id, through a relay, with this path record. */
    reuse?: { requestId: number; path: RelayAttempt },
  ): number;
  /** Answers an inbound request with 200 and proof (contacts) or signature (strangers). */
  respondOk(to: Upstream, data?: string): void;
  /** The body of that 200 answer (respondOk without the effect). */
  okBody(to: Upstream, data?: string): Uint8Array;
  /** Answers with a wire error, and counts it as a drop. */
  respondError(requestId: number, code: WireErrorCode, message: string): void;

  // ---- keys (derived once, cached outside the state)
  /** The link key with a contact. */
  linkKey(c: ContactRecord): Uint8Array;
  /** The directional message key for messages sent by `senderUuid` on the link with `c`. */
  messageKeyFor(c: ContactRecord, senderUuid: string): Uint8Array;
  /** Forgets cached keys of a contact (its secret changed or it was removed). */
  forgetKeys(uuid: string): void;
  /** Our contact digests: our own, and those our contacts gave us (digest-cache.ts). */
  readonly digests: DigestCache;
  /** True when contact `c`'s digest lists `uuid` (false when digests are switched off). */
  digestLists(c: ContactRecord, uuid: string): boolean;

  // ---- protocol steps shared between handler files (node.ts wires them, so no handler file
  // ---- needs to import another in a circle)
  /** We heard from (or reached) a contact at `address` (presence.ts). */
  contactSeen(c: ContactRecord, address: string | null, spread?: boolean): void;
  /** A direct attempt to reach a contact failed (presence.ts). */
  contactUnreachable(c: ContactRecord): void;
  /** Sends our presence to one contact (presence.ts). */
  announceTo(c: ContactRecord, searchOnFailure: boolean): void;
  /** Searches for a contact whose address went stale (locate.ts). */
  startSearch(target: ContactRecord, ring?: number): void;
  /** Starts a routed request built by a handler: asks its targets in batches (search.ts). */
  startRouted(search: SearchRecord): void;
  /** Sends every queued message for a contact (message.ts). */
  flushOutbox(c: ContactRecord): void;
  /** Announces our presence to every contact (presence.ts): the IP-change flow. */
  announceAll(searchOnFailure: boolean): void;
  /** Starts a reachability check of our address (handlers/dialback.ts, §15). */
  startDialback(): void;
}
