/**
 * Bounded set of recently seen ids with expiry (the replay window and flood de-duplication), as plain
 * data in the core's state. Insertion-ordered Maps: the oldest entry is evicted first when full.
 * Two partitions with their own budgets: ids of our contacts' requests, and ids of strangers'
 * (first contact). Strangers flooding distinct ids evict only each other (issue 12 #11).
 */
import { SEEN_CACHE_STRANGER_MAX } from './constants.ts';

/** The seen ids and when each expires (unix ms), oldest first. */
export interface SeenCache {
  readonly max: number;
  readonly ttlMs: number;
  readonly entries: Map<string, number>;
  /** Budget of the strangers' partition. */
  readonly strangerMax: number;
  /** Ids from strangers (signed first-contact requests and what they start). */
  readonly strangerEntries: Map<string, number>;
}

/** An empty cache holding at most `max` ids of contacts and `strangerMax` of strangers, each for `ttlMs`. */
export function createSeenCache(
  max: number,
  ttlMs: number,
  strangerMax = Math.min(max, SEEN_CACHE_STRANGER_MAX),
): SeenCache {
  return { max, ttlMs, entries: new Map(), strangerMax, strangerEntries: new Map() };
}

/** True if `key` was seen (in either partition) and has not expired. */
export function seenHas(cache: SeenCache, key: string, now: number): boolean {
  const exp = cache.entries.get(key) ?? cache.strangerEntries?.get(key);
  return exp !== undefined && exp > now;
}

/** Remembers `key` until now + ttl in the contacts' (or, `stranger`, the strangers') partition; evicts the oldest beyond its budget. */
export function seenAdd(cache: SeenCache, key: string, now: number, stranger = false): void {
  // A cache cloned from an older state may lack the strangers' partition: use the main one then.
  const map = stranger && cache.strangerEntries ? cache.strangerEntries : cache.entries;
  const max = stranger && cache.strangerEntries ? cache.strangerMax : cache.max;
  map.delete(key);
  map.set(key, now + cache.ttlMs);
  while (map.size > max) {
    const oldest = map.keys().next().value as string;
    map.delete(oldest);
  }
}

/** Drops expired entries (called from the periodic sweep). */
export function seenSweep(cache: SeenCache, now: number): void {
  for (const map of [cache.entries, cache.strangerEntries]) {
    if (!map) continue;
    // Oldest first: seenAdd re-inserts at the end with now + ttl, so expiry grows along the Map and
    // the sweep stops at the first live entry (after a clock step back, an expired entry behind it
    // waits for a later sweep; seenHas checks expiry itself, so nothing is accepted differently).
    for (const [k, exp] of map) {
      if (exp > now) break;
      map.delete(k);
    }
  }
}
