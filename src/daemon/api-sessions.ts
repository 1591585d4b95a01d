/**
 * Browser sessions of the local API. The one-time login link trades the API token for a random
 * session id, and only that id goes into the cookie: browsers send cookies for 127.0.0.1 to EVERY
 * port of it (cookies are not port-scoped), so whatever the cookie holds, any local web app the user
 * visits receives. A session id expires, is bounded in number, can be revoked (logout), and is never
 * accepted as a bearer token — the token itself never leaves the data dir and the CLI.
 * The table is kept in the data dir (hashes only, mode 0600), so a daemon restart keeps the page logged in.
 *
 *   const sessions = ApiSessions.inDataDir(dir);
 *   const { id, maxAgeMs } = sessions.create(Date.now());  // on GET /login?token=…
 *   sessions.valid(id, Date.now());                         // on each cookie-authenticated call
 */
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const HOUR = 3_600_000;

/**
 * How long a login lasts. A week: the page is meant to stay open, and the link is printed in the
 * daemon's terminal only. A cookie that leaked to another local port stops working at the latest then.
 */
export const SESSION_TTL_MS = 7 * 24 * HOUR;

/**
 * Most sessions kept at once. A login needs the token, so only its holder can add sessions; the bound
 * keeps a script that logs in in a loop from growing the table, and evicts the oldest login first.
 */
export const MAX_SESSIONS = 32;

/** The table's file in a data dir: `{ v: 1, sessions: [[sha256(id), expiresAt], …] }`. */
export const SESSIONS_FILE = 'api-sessions.json';

/** Random bytes in a session id: 256 bits, as unguessable as the token. */
const SESSION_ID_BYTES = 32;

/** Options of the session table. */
export interface ApiSessionsInit {
  /** @default SESSION_TTL_MS */
  ttlMs?: number;
  /** @default MAX_SESSIONS */
  max?: number;
  /** Where the table is kept across restarts (hashes and expiries only). @default in memory only */
  file?: string;
}

/** Ids are kept hashed: a map lookup on the hash does not leak how much of a guessed id matched. */
function digest(id: string): string {
  return createHash('sha256').update(id).digest('base64url');
}

/** The server-side table of browser sessions. */
export class ApiSessions {
  readonly ttlMs: number;
  readonly max: number;
  readonly file: string | undefined;
  /** hash(id) → expiry (unix ms); a Map keeps insertion order, so the first entry is the oldest. */
  readonly #expiry = new Map<string, number>();

  constructor(init: ApiSessionsInit = {}) {
    this.ttlMs = init.ttlMs ?? SESSION_TTL_MS;
    this.max = init.max ?? MAX_SESSIONS;
    this.file = init.file;
    if (this.file) this.#load(this.file);
  }

  /** The table of a node's data dir, loaded from it if there. */
  static inDataDir(dir: string, init: Omit<ApiSessionsInit, 'file'> = {}): ApiSessions {
    return new ApiSessions({ ...init, file: join(dir, SESSIONS_FILE) });
  }

  /** Starts a session; returns its id (for the cookie) and how long it lasts. */
  create(now: number): { id: string; maxAgeMs: number } {
    this.#sweep(now);
    while (this.#expiry.size >= this.max) {
      const oldest = this.#expiry.keys().next().value as string;
      this.#expiry.delete(oldest);
    }
    const id = randomBytes(SESSION_ID_BYTES).toString('base64url');
    this.#expiry.set(digest(id), now + this.ttlMs);
    this.#save();
    return { id, maxAgeMs: this.ttlMs };
  }

  /** True while `id` names a live session. */
  valid(id: string, now: number): boolean {
    const key = digest(id);
    const exp = this.#expiry.get(key);
    if (exp === undefined) return false;
    if (exp > now) return true;
    this.#expiry.delete(key);
    return false;
  }

  /** Ends a session (logout); unknown ids are ignored. */
  revoke(id: string): void {
    if (this.#expiry.delete(digest(id))) this.#save();
  }

  /** Number of live sessions. */
  size(now: number): number {
    this.#sweep(now);
    return this.#expiry.size;
  }

  #sweep(now: number): void {
    for (const [k, exp] of this.#expiry) if (exp <= now) this.#expiry.delete(k);
  }

  /** Reads the file; a missing or damaged one is an empty table (the user logs in again). */
  #load(file: string): void {
    let rows: unknown;
    try {
      rows = (JSON.parse(readFileSync(file, 'utf8')) as { sessions?: unknown }).sessions;
    } catch {
      return;
    }
    if (!Array.isArray(rows)) return;
    for (const row of rows.slice(-this.max))
      if (Array.isArray(row) && typeof row[0] === 'string' && typeof row[1] === 'number')
        this.#expiry.set(row[0], row[1]);
  }

  /** Writes the table (a new 0600 file renamed over the old one, so a crash leaves one or the other). */
  #save(): void {
    if (!this.file) return;
    const tmp = `${this.file}.${process.pid}.tmp`;
    try {
      writeFileSync(tmp, JSON.stringify({ v: 1, sessions: [...this.#expiry] }), { mode: 0o600 });
      renameSync(tmp, this.file);
    } catch {
      // A full or read-only disk must not break logging in: the table in memory stays right, only a
      // restart would forget (or, after a logout, bring back until it expires) what was not written.
    }
  }
}
