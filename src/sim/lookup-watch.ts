/**
 * Watches the lookups under way (one per searcher; `--lookup-concurrency` runs several at once) from
 * the effects of their searchers: when a core reported its target `relocated`, and when the lookup's
 * message was delivered. The searchers' own events are all the simulator reads; it never inspects a
 * core.
 */
import type { Effect } from '../protocol/events.ts';

/** The state of one lookup under way. */
export interface WatchedLookup {
  /** The searcher. */
  node: number;
  /** The target's uuid. */
  target: string;
  /** Id of the lookup's message, from the `send` command's result. */
  messageId: string;
  /** Virtual time of `relocated` for the target (-1: not yet). */
  relocatedAt: number;
  /** Virtual time the message was delivered (-1: not yet). */
  deliveredAt: number;
}

/** The lookups under way, by searcher. */
export class LookupWatch {
  readonly #bySearcher = new Map<number, WatchedLookup>();
  /** Lookups under way whose message has been delivered. */
  delivered = 0;

  /** Starts watching `node` look for `target` (one lookup per searcher at a time). */
  begin(node: number, target: string): WatchedLookup {
    if (this.#bySearcher.has(node)) throw new Error(`LookupWatch: node ${node} already has a lookup under way`);
    const l: WatchedLookup = { node, target, messageId: '', relocatedAt: -1, deliveredAt: -1 };
    this.#bySearcher.set(node, l);
    return l;
  }

  /** Number of lookups under way. */
  get size(): number {
    return this.#bySearcher.size;
  }

  /** Stops watching every lookup. */
  end(): void {
    this.#bySearcher.clear();
    this.delivered = 0;
  }

  /** Looks at an effect of node `v` at time `now`. */
  onEffect(v: number, e: Effect, now: number): void {
    const l = this.#bySearcher.get(v);
    if (l === undefined) return;
    if (e.type === 'emit') {
      const d = e.data;
      if (d.event === 'relocated' && d.uuid === l.target && l.relocatedAt < 0) l.relocatedAt = now;
      if (d.event === 'message:state' && d.state === 'delivered' && d.id === l.messageId && l.deliveredAt < 0) {
        l.deliveredAt = now;
        this.delivered++;
      }
    } else if (e.type === 'result' && e.ok && l.messageId === '') {
      const val = e.value as { id?: string };
      if (typeof val.id === 'string') l.messageId = val.id;
    }
  }
}
