/**
 * One error type for caller and configuration mistakes (bad remote input never throws out of the
 * core; it becomes a `drop` effect and an HTTP error code at the edge).
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
  INTERNAL: 500,
  UNREACHABLE: 504,
  UNAVAILABLE: 503,
} as const;

/** A wire error code. */
export type WireErrorCode = keyof typeof WIRE_ERRORS;

/** Thrown for caller / configuration mistakes; `code` is stable, `message` is for people. */
export class MeshError extends Error {
  constructor(
    readonly code: string,
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
