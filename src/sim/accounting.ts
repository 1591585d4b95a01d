/**
 * Traffic accounting of a Mesh run. Every event carries a causal tag and the effects produced while
 * handling it inherit it (engine.ts), so each message is charged to what caused it: periodic work
 * (startup before the maintenance window, maintenance inside it, "other" after it), a move, or a
 * lookup's relocation.
 *
 * Counting: every `send` effect is one message (even if the target is offline), every `respond` that
 * goes on the wire one more. Bytes = body + Σ(header name + value + 4) for requests, body for responses.
 */

import { PERIODIC_TIMERS } from '../protocol/timers.ts';
import type { KindCounts, Traffic } from './sim-types.ts';
import type { TimerRef } from './timer-ref.ts';

/** Tag of periodic work (announce, sweep…) and everything that follows from it. */
export const T_MAINT = 0;
/** Tag of the moves and what they cause. */
export const T_MOVE = 1;
/** Tag of the lookups and what they cause. */
export const T_RELOC = 2;
/** Number of tags. */
export const TAG_COUNT = 3;
const TAG_NAMES = ['maintenance', 'move', 'relocation'] as const;

/**
 * Whether a timer is periodic background work (charged to maintenance whatever set it). The one
 * place that knows which timers repeat; it compares whole ids and never parses them.
 */
export function isPeriodicTimer(t: TimerRef): boolean {
  return PERIODIC_TIMERS.includes(t.kind);
}

/** Size of a request on the wire beyond its body. */
export function headerBytes(h: Record<string, string>): number {
  let n = 0;
  for (const k in h) n += k.length + h[k].length + 4;
  return n;
}

/** Counters of one run. */
export class Accounting {
  /** The maintenance window [start, end), virtual ms: periodic traffic before it is startup, after it "other". */
  windowStart = Number.POSITIVE_INFINITY;
  windowEnd = Number.POSITIVE_INFINITY;
  readonly maint: Traffic = { messages: 0, bytes: 0 };
  readonly startup: Traffic = { messages: 0, bytes: 0 };
  /** By tag (the maintenance entry stays unused: maint / startup split it by time). */
  readonly byTag: Traffic[] = Array.from({ length: TAG_COUNT }, () => ({ messages: 0, bytes: 0 }));
  readonly byKind: Record<string, KindCounts> = {};
  readonly drops: Record<string, number> = {};

  /** Opens the maintenance window. */
  openWindow(start: number, end: number): void {
    this.windowStart = start;
    this.windowEnd = end;
  }

  /** Counts one message of `kind` and `bytes` sent at `now` under `tag`. */
  count(now: number, tag: number, kind: string, bytes: number): void {
    let bucket: keyof KindCounts;
    if (tag === T_MAINT) {
      if (now < this.windowStart) {
        bucket = 'startup';
        this.startup.messages++;
        this.startup.bytes += bytes;
      } else if (now < this.windowEnd) {
        bucket = 'maintenance';
        this.maint.messages++;
        this.maint.bytes += bytes;
      } else bucket = 'other';
    } else {
      bucket = TAG_NAMES[tag] as 'move' | 'relocation';
      this.byTag[tag].messages++;
      this.byTag[tag].bytes += bytes;
    }
    const k = (this.byKind[kind] ??= { maintenance: 0, startup: 0, move: 0, relocation: 0, other: 0 });
    k[bucket]++;
  }

  /** Counts a drop by reason. */
  drop(reason: string): void {
    this.drops[reason] = (this.drops[reason] ?? 0) + 1;
  }
}
