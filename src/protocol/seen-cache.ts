/**
 * Bounded set of recently seen ids with expiry (the replay window and flood de-duplication), as plain
 * data in the core's state. Insertion-ordered Map: the oldest entry is evicted first when full.
 */

/** The seen ids and when each expires (unix ms), oldest first. */
export interface SeenCache {
  readonly max: number;
  readonly ttlMs: number;
  readonly entries: Map<string, number>;
}

/** An empty cache holding at most `max` ids, each for `ttlMs`. */
export function createSeenCache(max: number, ttlMs: number): SeenCache {
  return { max, ttlMs, entries: new Map() };
}

/** True if `key` was seen and has not expired. */
export function seenHas(cache: SeenCache, key: string, now: number): boolean {
  const exp = cache.entries.get(key);
  return exp !== undefined && exp > now;
}

/** Remembers `key` until now + ttl; evicts the oldest entries beyond `max`. */
export function seenAdd(cache: SeenCache, key: string, now: number): void {
  cache.entries.delete(key);
  cache.entries.set(key, now + cache.ttlMs);
  while (cache.entries.size > cache.max) {
    const oldest = cache.entries.keys().next().value as string;
    cache.entries.delete(oldest);
  }
}

/** Drops expired entries (called from the periodic sweep). */
export function seenSweep(cache: SeenCache, now: number): void {
  for (const [k, exp] of cache.entries) {
    if (exp <= now) cache.entries.delete(k);
  }
}
