/**
 * Bounded set of recently seen ids with expiry (the replay window and flood de-duplication).
 * Insertion-ordered Map: the oldest entry is evicted first when full.
 */
export class SeenCache {
  readonly #entries = new Map<string, number>();

  constructor(
    readonly max: number,
    readonly ttlMs: number,
  ) {}

  /** True if `key` was seen and has not expired. */
  has(key: string, now: number): boolean {
    const exp = this.#entries.get(key);
    return exp !== undefined && exp > now;
  }

  /** Remembers `key` until now + ttl; evicts the oldest entries beyond `max`. */
  add(key: string, now: number): void {
    this.#entries.delete(key);
    this.#entries.set(key, now + this.ttlMs);
    while (this.#entries.size > this.max) {
      const oldest = this.#entries.keys().next().value as string;
      this.#entries.delete(oldest);
    }
  }

  /** Drops expired entries (called from the periodic sweep). */
  sweep(now: number): void {
    for (const [k, exp] of this.#entries) {
      if (exp <= now) this.#entries.delete(k);
    }
  }

  /** Number of ids held. */
  get size(): number {
    return this.#entries.size;
  }
}
