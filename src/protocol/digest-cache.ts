/**
 * The core's derived digest data (a cache, not state: a rebuilt core derives it again): our own
 * digest, rebuilt when our contact set changes (or hourly), and the parsed digests our contacts gave
 * us, re-parsed when a contact's stored payload changes.
 */
import { ANNOUNCE_INTERVAL_MS, DIGEST_MAX_CONTACTS } from './constants.ts';
import { buildDigest, type ContactDigest, contactSecret, digestHas, digestVersion, parseDigest } from './digest.ts';
import type { ContactRecord, SelfRecord } from './types.ts';

/** Our digest as sent: the payload and its version tag. */
export interface OwnDigest {
  payload: Uint8Array;
  version: string;
}

/** Digest data derived from the state (see the file comment). */
export class DigestCache {
  readonly #self: SelfRecord;
  #secret: Uint8Array | null = null;
  #own: (OwnDigest & { key: string; at: number; uuids: string[] }) | null = null;
  /** Created on first use: most cores of a large simulation never test a digest. */
  #theirs: Map<string, { payload: Uint8Array; parsed: ContactDigest | null }> | null = null;

  /** A cache for the node `self`. */
  constructor(self: SelfRecord) {
    this.#self = self;
  }

  /** Our contact secret (derived once). */
  secret(): Uint8Array {
    this.#secret ??= contactSecret(this.#self);
    return this.#secret;
  }

  /**
   * Our digest over our confirmed contacts (at most DIGEST_MAX_CONTACTS, most recently seen first).
   * Rebuilt when the number of contacts changed or it is older than the announce interval.
   */
  own(contacts: Map<string, ContactRecord>, now: number): OwnDigest {
    // Checked without a scan (an announce round calls this once per contact): a contact confirmed
    // without the table changing size is included at the latest an announce interval later.
    const key = `${contacts.size}`;
    if (this.#own && this.#own.key === key && now - this.#own.at < ANNOUNCE_INTERVAL_MS) return this.#own;
    const confirmed: ContactRecord[] = [];
    for (const c of contacts.values()) if (c.status !== 'pending') confirmed.push(c);
    if (confirmed.length > DIGEST_MAX_CONTACTS)
      confirmed.sort((a, b) => (b.lastSeen ?? 0) - (a.lastSeen ?? 0) || (a.uuid < b.uuid ? -1 : 1));
    const uuids = confirmed.slice(0, DIGEST_MAX_CONTACTS).map((c) => c.uuid);
    // The same members (in the same order) give the same payload: reuse it (an hourly refresh of an
    // unchanged contact set costs no HMAC per contact).
    const prev = this.#own;
    if (prev && sameList(prev.uuids, uuids)) {
      this.#own = { ...prev, key, at: now };
      return this.#own;
    }
    const payload = buildDigest(this.secret(), uuids);
    this.#own = { key, at: now, payload, version: digestVersion(payload), uuids };
    return this.#own;
  }

  /** The digest contact `c` gave us, parsed (null when it gave none). */
  of(c: ContactRecord): ContactDigest | null {
    if (!c.digest) return null;
    this.#theirs ??= new Map();
    const hit = this.#theirs.get(c.uuid);
    if (hit && hit.payload === c.digest) return hit.parsed;
    const parsed = parseDigest(c.digest);
    this.#theirs.set(c.uuid, { payload: c.digest, parsed });
    return parsed;
  }

  /** True when contact `c`'s digest (probably) lists `uuid`. */
  lists(c: ContactRecord, uuid: string): boolean {
    const d = this.of(c);
    return d !== null && digestHas(d, uuid);
  }

  /** Forgets what we derived from a contact (removed). */
  forget(uuid: string): void {
    this.#theirs?.delete(uuid);
  }
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
