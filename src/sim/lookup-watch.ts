/**
 * Watches one lookup at a time from the effects of its searcher: when the core reported the target
 * `relocated`, and when the lookup's message was delivered. The searcher's own events are all the
 * simulator reads; it never inspects a core.
 */
import type { Effect } from '../protocol/events.ts';

/** The state of the lookup under way. */
export class LookupWatch {
  /** The searcher (-1: no lookup under way). */
  node = -1;
  /** The target's uuid. */
  target = '';
  /** Id of the lookup's message, from the `send` command's result. */
  messageId = '';
  /** Virtual time of `relocated` for the target (-1: not yet). */
  relocatedAt = -1;
  /** Virtual time the message was delivered (-1: not yet). */
  deliveredAt = -1;

  /** Starts watching `node` look for `target`. */
  begin(node: number, target: string): void {
    this.node = node;
    this.target = target;
    this.messageId = '';
    this.relocatedAt = -1;
    this.deliveredAt = -1;
  }

  /** Stops watching. */
  end(): void {
    this.node = -1;
  }

  /** Looks at an effect of node `v` at time `now`. */
  onEffect(v: number, e: Effect, now: number): void {
    if (v !== this.node) return;
    if (e.type === 'emit') {
      const d = e.data;
      if (d.event === 'relocated' && d.uuid === this.target && this.relocatedAt < 0) this.relocatedAt = now;
      if (d.event === 'message:state' && d.state === 'delivered' && d.id === this.messageId && this.deliveredAt < 0)
        this.deliveredAt = now;
    } else if (e.type === 'result' && e.ok && this.messageId === '') {
      const val = e.value as { id?: string };
      if (typeof val.id === 'string') this.messageId = val.id;
    }
  }
}
