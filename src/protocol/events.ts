/**
 * The core's contract: events in, effects out (docs/ARCHITECTURE.md).
 * Only the runtime and the simulator carry effects out.
 */
import type { DropReason, FailureCode, MeshErrorCode, TransportErrorCode } from '../errors.ts';
import type { TimerId } from './timers.ts';
import type { InboxRecord, OutboxState, PersistOp } from './types.ts';

export type { DropReason, TimerId };

/** How a client call pins the server it reaches. */
export interface PinSpec {
  /** Expected Ed25519 public key of the server certificate (contacts, self-signed). */
  signPub?: Uint8Array;
  /** Peer with a domain: check the certificate against CAs for this name instead. */
  domain?: string;
}

/** A user / application command. `commandId` pairs it with its `result` effect. */
export type Command =
  /** Program start: announce ourselves to every contact and retry the outbox (sendmessage chart). */
  | { kind: 'start' }
  /**
   * Our own address changed (seen locally or through `observed`): tell every contact. `mapping`
   * (§15.5): the port mapping after a move to another network (null: none yet), set in the same step.
   */
  | { kind: 'address'; addresses: string[]; mapping?: string | null }
  /** Queue a text message to a contact (uuid). Result: `{ id }`. */
  | { kind: 'send'; to: string; text: string }
  /** Issue an invite. Result: `{ code, expiresAt }`. */
  | { kind: 'invite'; ttlMs?: number; addresses?: string[]; domain?: string | null }
  /** Use an invite code (or a peer with a domain's address). Result: `{ uuid, authPhrase }` when the invitee answers. */
  | { kind: 'add'; code: string; name?: string }
  /** Ask a peer with a domain at `address` to add us (bootstrap). Result: `{ uuid }`. */
  | { kind: 'bootstrap'; address: string; domain: string | null }
  /** Accept a pending contact request. Result: `{ uuid }`. */
  | { kind: 'accept'; uuid: string }
  /** Reject a pending contact request. Result: `{ uuid }`. */
  | { kind: 'reject'; uuid: string }
  /** The router's port mapping (external "ip:port") appeared, changed, or is gone (null), §15. Result: `{ address }`. */
  | { kind: 'mapping'; external: string | null }
  /**
   * A channel to this contact just opened (its HELLO proved it, docs/PROTOCOL.md §13): send its
   * queued messages now instead of at their backoff time. Result: `{ uuid }`.
   */
  | { kind: 'flush'; uuid: string }
  /**
   * §16: a channel with this peer (contact or not) opened or closed. While one is open the contact is
   * not marked unreachable, and requests to it go over it. Result: `{ uuid }`.
   */
  | { kind: 'channel'; uuid: string; open: boolean }
  /**
   * Try a direct upgrade with this contact by TCP hole punching (docs/PROTOCOL.md §17), e.g. when it
   * is reached only through a relay. Result: `{ uuid, attempt }` when the coordination started; the
   * outcome comes as a `contact:punch` event.
   */
  | { kind: 'punch'; uuid: string }
  /**
   * A channel we dialled to this contact is back after it broke (§15.5): our address may have
   * changed under us (a new WAN address resets our connections). Announce to it, so its answer
   * re-observes us, and send its queued messages. Result: `{ uuid }`.
   */
  | { kind: 'reannounce'; uuid: string }
  /**
   * Remove a contact (`mesh contacts remove`): its record, referrals, queued messages, searches,
   * timers and outstanding requests; it is not told. Result: `{ uuid }`.
   */
  | { kind: 'remove'; uuid: string };

/** Everything that can happen to a node. */
export type CoreEvent =
  /**
   * A request arrived; answer with a `respond` effect carrying the same requestId (maybe later).
   * `channel`: the UUID its channel authenticated (docs/PROTOCOL.md §13); absent for a POST.
   */
  | {
      type: 'request';
      requestId: number;
      remote: string;
      headers: Record<string, string>;
      body: Uint8Array;
      channel?: string | null;
    }
  /** The answer to one of our `send` effects; `channel`: the UUID of the channel it came back on, absent for POST. */
  | { type: 'response'; requestId: number; status: number; body: Uint8Array; channel?: string | null }
  /** One of our `send` effects got no HTTP answer (refused, timeout, TLS pin mismatch). */
  | { type: 'send-failed'; requestId: number; reason: TransportErrorCode }
  /** A timer set with `set-timer` fired. */
  | { type: 'timer'; timer: TimerId }
  | { type: 'command'; commandId: number; command: Command }
  /** The outcome of a `punch` effect: `ok` = a channel to the contact over the punched connection is open. */
  | { type: 'punch-result'; uuid: string; attempt: string; ok: boolean; reason?: string };

/** Events the application can observe (runtime `node.on(...)`). */
export type AppEvent =
  | { event: 'contact:request'; uuid: string; name: string; authPhrase: string }
  | { event: 'contact:added'; uuid: string; name: string }
  | { event: 'contact:online'; uuid: string; address: string }
  | { event: 'contact:offline'; uuid: string }
  | { event: 'contact:address'; uuid: string; address: string }
  | { event: 'message:state'; id: string; to: string; state: OutboxState }
  /** A peer saw our requests come from this host (shown with our listening port). */
  | { event: 'self:observed'; address: string }
  /** A search found a contact at a new address; `via` is the contact that answered (the target itself when it reached us first). */
  | { event: 'relocated'; uuid: string; address: string; via: string; searchId: string }
  /** A direct upgrade with a contact ended (docs/PROTOCOL.md §17): `ok` = direct channel open; else why not. */
  | { event: 'contact:punch'; uuid: string; ok: boolean; reason?: string };

/** Something the core asks its host to do. */
export type Effect =
  | {
      type: 'send';
      requestId: number;
      address: string;
      pin?: PinSpec;
      headers: Record<string, string>;
      body: Uint8Array;
      timeoutMs: number;
      /** For accounting only: the wire type, and whether it is maintenance or a search. */
      kind: SendKind;
      /** Open a new connection for it: not the channel, not a pooled one (a dial-back probe, §15). */
      fresh?: boolean;
    }
  | { type: 'respond'; requestId: number; status: number; body: Uint8Array }
  /** Set (or replace) the timer `timer` to fire at absolute time `at`. */
  | { type: 'set-timer'; timer: TimerId; at: number }
  | { type: 'clear-timer'; timer: TimerId }
  | { type: 'persist'; ops: PersistOp[] }
  | { type: 'deliver'; message: InboxRecord }
  | { type: 'emit'; data: AppEvent }
  | { type: 'drop'; reason: DropReason; detail?: string }
  /**
   * Open a TCP connection to the contact at the same moment it opens one to us (docs/PROTOCOL.md §17):
   * from our punch port to each of `remotes`, first SYN at `at`, giving up `timeoutMs` later; `client`
   * runs the TLS client, `server` hands the socket to our HTTPS server. Answer with `punch-result`.
   */
  | {
      type: 'punch';
      uuid: string;
      attempt: string;
      signPub: Uint8Array;
      remotes: string[];
      role: 'client' | 'server';
      at: number;
      timeoutMs: number;
    }
  | { type: 'result'; commandId: number; ok: true; value: unknown }
  | { type: 'result'; commandId: number; ok: false; code: MeshErrorCode; message: string };

/**
 * What a `send` is for (accounting only): presence, referral spread and withdrawal, a chat message,
 * a search we started (`ip`, `contact_req`) or one we relay for others.
 */
export type SendKind =
  | 'announce'
  | 'referral'
  | 'withdraw'
  | 'message'
  | 'ip'
  | 'contact_req'
  | 'ip-relay'
  | 'contact_req-relay'
  /** A reachability check: our "dial me back", or the probe we open for a contact (§15). */
  | 'dialback'
  | 'relay'
  | 'relay-forward'
  | 'introduce'
  /** Hole-punching coordination with a contact: `connect` and `sync` (§17). */
  | 'punch'
  | 'directory';

/** Why one of our requests failed, as the core sees it (for handlers of answers). */
export type { FailureCode };
