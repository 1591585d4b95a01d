/**
 * Binary min-heap of simulator events keyed by (time, seq): equal times pop in insertion order, so
 * a run is a pure function of its inputs (DESIGN.md §8 determinism).
 */

/** Something scheduled at a virtual time. */
export interface Scheduled {
  t: number;
  seq: number;
}

/** A binary heap ordered by (t, seq). */
export class EventQueue<E extends Scheduled> {
  private heap: E[] = [];
  private nextSeq = 0;

  /** Number of queued events. */
  get size(): number {
    return this.heap.length;
  }

  /** Queues `e` (its seq is assigned here). */
  push(e: Omit<E, 'seq'> & { seq?: number }): void {
    const ev = e as E;
    ev.seq = this.nextSeq++;
    const h = this.heap;
    h.push(ev);
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!less(ev, h[p])) break;
      h[i] = h[p];
      i = p;
    }
    h[i] = ev;
  }

  /** The earliest event without removing it. */
  peek(): E | undefined {
    return this.heap[0];
  }

  /** Removes and returns the earliest event. */
  pop(): E | undefined {
    const h = this.heap;
    if (h.length === 0) return undefined;
    const top = h[0];
    const last = h.pop()!;
    if (h.length > 0) {
      let i = 0;
      const n = h.length;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= n) break;
        const r = l + 1;
        const c = r < n && less(h[r], h[l]) ? r : l;
        if (!less(h[c], last)) break;
        h[i] = h[c];
        i = c;
      }
      h[i] = last;
    }
    return top;
  }
}

function less(a: Scheduled, b: Scheduled): boolean {
  return a.t < b.t || (a.t === b.t && a.seq < b.seq);
}
