/**
 * Every error code Mesh uses, as const lists, and one error type for caller and configuration
 * mistakes (bad remote input never throws out of the core; it becomes a `drop` effect and an HTTP
 * error code at the edge). The codec, the transports, the core, the runtime and the API all name
 * codes from these lists, so a typo is a type error and docs/PROTOCOL.md §Errors has one source.
 */

/** Wire error codes (docs/PROTOCOL.md §Errors) with their HTTP status. */
export const WIRE_ERRORS = {
  BAD_REQUEST: 400,
  UNSUPPORTED_VERSION: 400,
  UNKNOWN_SENDER: 401,
  BAD_SECRET: 401,
  BAD_SIGNATURE: 401,
  NOT_FOUND: 404,
  DUPLICATE: 409,
  REPLAYED: 409,
  TOO_LARGE: 413,
  RATE_LIMITED: 429,
  OVER_LIMIT: 429,
  INTERNAL: 500,
  UNREACHABLE: 504,
  UNAVAILABLE: 503,
} as const;

/** A wire error code. */
export type WireErrorCode = keyof typeof WIRE_ERRORS;

/**
 * Wire errors a node answers without judging the request (the edge's own replies and "try again"):
 * they are not counted as drops by the core.
 */
export const NON_DROP_WIRE_ERRORS = ['NOT_FOUND', 'RATE_LIMITED', 'OVER_LIMIT', 'INTERNAL', 'UNAVAILABLE'] as const;

/** Why a request got no HTTP answer (thrown by `Transport.request`, reported as `send-failed`). */
export const TRANSPORT_ERRORS = ['CONNECT_FAILED', 'TIMEOUT', 'TLS_PIN', 'ABORTED'] as const;

/** A transport failure code. */
export type TransportErrorCode = (typeof TRANSPORT_ERRORS)[number];

/**
 * Budgets of the core (docs/PROTOCOL.md §10, constants in src/protocol/constants.ts): each names the
 * table or fan-out whose bound was hit. A request refused by one is answered `OVER_LIMIT`; a fan-out
 * cut short or a dampened side effect is only counted. `mesh status --json` shows them under `drops`.
 */
export const BUDGET_DROP_REASONS = [
  /** Relays in flight at once (RELAY_MAX_IN_FLIGHT) or a stranger's relay share (RELAY_MAX_STRANGER). */
  'LIMIT_RELAYS',
  /** A relay flood, a referral forward or a `mesh add` asked fewer contacts than it could (its fan-out cap). */
  'LIMIT_FANOUT',
  /** Pending contact requests from strangers (MAX_PENDING_REQUESTS). */
  'LIMIT_REQUESTS',
  /** Contacts added by `--accept-all` (MAX_ACCEPT_ALL_CONTACTS). */
  'LIMIT_CONTACTS',
  /** Referral table: per contact (MAX_REFERRALS_PER_VIA, MAX_CONTACT_REFERRALS_PER_VIA) or in total (MAX_REFERRALS); the oldest is evicted. */
  'LIMIT_REFERRALS',
  /** An address-change referral for the same contact again within MOVED_REFERRAL_INTERVAL_MS. */
  'LIMIT_MOVED',
  /** A check of a contact prompted by a stranger at its address again within PROBE_INTERVAL_MS. */
  'LIMIT_PROBES',
  /** Messages delivered from one contact within INBOX_WINDOW_MS (INBOX_MAX_PER_CONTACT). */
  'LIMIT_INBOX',
  /** A remote claim of an address we will not send to (loopback, multicast, unspecified...). */
  'BAD_ADDRESS',
  /** Dial-back requests of one contact (DIALBACK_PER_CONTACT) or in flight (DIALBACK_MAX_IN_FLIGHT), §15. */
  'LIMIT_DIALBACK',
  /** Relayed requests for one contact within RELAY_PATH_WINDOW_MS (RELAY_PATH_MAX_PER_CONTACT), docs/PROTOCOL.md §16. */
  'LIMIT_RELAYED',
  /** First contact requests an introducer forwards for one invite (INTRODUCE_MAX_PER_INVITE), §16. */
  'LIMIT_INTRODUCED',
  /** Punch `connect`s from one contact within PUNCH_WINDOW_MS (PUNCH_MAX_PER_WINDOW), docs/PROTOCOL.md §17. */
  'LIMIT_PUNCH',
  /** A TCP connection refused before TLS: its IPv4 address or IPv6 /64 holds MAX_CONNECTIONS_PER_IP (transport). */
  'LIMIT_CONNECTIONS',
  /** A TCP connection refused before TLS: its source spent its handshake budget (HANDSHAKES_PER_S_PER_IP, transport). */
  'LIMIT_HANDSHAKES',
  /** Directory puts or gets of one contact per DIRECTORY_WINDOW_MS, or the directory full (DIRECTORY_MAX_RECORDS, oldest evicted). */
  'LIMIT_DIRECTORY',
] as const;

/** A budget drop reason. */
export type BudgetDropReason = (typeof BUDGET_DROP_REASONS)[number];

/** Drop reasons of the core that are not wire answers: trouble with answers to our own requests, and budgets. */
export const LOCAL_DROP_REASONS = ['UNKNOWN_REQUEST', 'BAD_RESPONSE', ...BUDGET_DROP_REASONS] as const;

/** Why the core dropped a request, message or answer: counted by the runtime, asserted by the simulator. */
export type DropReason =
  | Exclude<WireErrorCode, (typeof NON_DROP_WIRE_ERRORS)[number]>
  | (typeof LOCAL_DROP_REASONS)[number];

/** True when a wire error code is one the core counts as a drop. */
export function isDropReason(
  code: WireErrorCode,
): code is Exclude<WireErrorCode, (typeof NON_DROP_WIRE_ERRORS)[number]> {
  return !(NON_DROP_WIRE_ERRORS as readonly string[]).includes(code);
}

/**
 * What a failed request tells its sender: a wire error code from the answer, a transport failure, or
 * a response that was not a Mesh answer (`BAD_RESPONSE`, `HTTP_<status>` without an error body, or an
 * unknown code from a newer peer — kept as text because it comes from the network).
 */
export type FailureCode = WireErrorCode | TransportErrorCode | 'BAD_RESPONSE' | (string & {});

/** MeshError codes (caller, command and local-API errors) with when each is used. */
export const MESH_ERRORS = {
  BAD_INVITE: 'an invite code cannot be parsed or has expired',
  CONTACT_UNKNOWN: 'no contact with that uuid or name',
  REQUEST_UNKNOWN: 'no pending contact request from that uuid',
  ALREADY_CONTACT: 'the invite is from someone who is already a contact',
  INVALID_ARGUMENT: 'a malformed argument (key length, uuid, text size, duration...)',
  UNREACHABLE: 'a command could not reach the other node (add, bootstrap)',
  ALREADY_INITIALISED: 'mesh init found an identity already there',
  NOT_INITIALISED: 'the data dir holds no identity yet',
  NOT_STARTED: 'the node is not started',
  STOPPED: 'the node stopped while a command waited',
  STORE: 'the store failed or is not a Mesh database',
  ALREADY_RUNNING: 'a daemon already runs on this data dir',
  NOT_RUNNING: 'no daemon runs on this data dir',
  ADDRESS_IN_USE: 'a port to listen on is taken',
  ADDRESS_NOT_AVAILABLE: 'the address to listen on is not on this machine',
  BAD_RESPONSE: 'the daemon (or a peer) answered something that is not its protocol',
  GRAPH_NOT_FOUND: 'the simulator graph file does not exist',
  FORBIDDEN: 'the local API answers only to localhost',
  UNAUTHORIZED: 'the local API token is missing or wrong',
  NOT_FOUND: 'no such local API route',
  INTERNAL: 'an unexpected error (see the log)',
} as const;

/** A MeshError code. */
export type MeshErrorCode = keyof typeof MESH_ERRORS;

/** True when `code` is a known MeshError code (e.g. one read back from the local API). */
export function isMeshErrorCode(code: unknown): code is MeshErrorCode {
  return typeof code === 'string' && Object.hasOwn(MESH_ERRORS, code);
}

/** Thrown for caller / configuration mistakes; `code` is stable, `message` is for people. */
export class MeshError extends Error {
  constructor(
    readonly code: MeshErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'MeshError';
  }

  /** Thrown when an invite code cannot be parsed or has expired. */
  static badInvite(why: string, cause?: unknown): MeshError {
    return new MeshError(
      'BAD_INVITE',
      `This invite code is not valid: ${why}. Ask your friend for a new one (mesh invite).`,
      { cause },
    );
  }
  /** Thrown when a contact uuid or name is not in the contact list. */
  static contactUnknown(who: string): MeshError {
    return new MeshError('CONTACT_UNKNOWN', `No contact called "${who}". List your contacts with: mesh contacts`);
  }
  /** Thrown when no pending request exists for a uuid. */
  static requestUnknown(uuid: string): MeshError {
    return new MeshError('REQUEST_UNKNOWN', `No pending contact request from ${uuid}. List them with: mesh requests`);
  }
  /** Thrown when an argument is malformed (key length, uuid format, text size...). */
  static invalidArgument(what: string): MeshError {
    return new MeshError('INVALID_ARGUMENT', what);
  }
  /** Thrown when `mesh init` finds an identity already there. */
  static alreadyInitialised(dir: string): MeshError {
    return new MeshError('ALREADY_INITIALISED', `A Mesh identity already exists in ${dir}; refusing to overwrite it.`);
  }
  /** Thrown when the data dir holds no identity yet. */
  static notInitialised(dir: string): MeshError {
    return new MeshError('NOT_INITIALISED', `No Mesh identity in ${dir}. Create one with: mesh init`);
  }
}
