/**
 * Group commit: the writes of every core event handled in one turn of the event loop become one
 * SQLite transaction, and only then are that turn's answers, sends, deliveries and results carried
 * out. So an answer acknowledging a message still leaves only after the message is stored, but a
 * burst of N messages costs one commit instead of N. The flush runs on `setImmediate` (after the
 * I/O callbacks of this turn), not on a timer: nothing on the send path waits for a clock.
 */
import type { Logger, Store } from '../ports.ts';
import type { Effect } from '../protocol/events.ts';
import type { PersistOp } from '../protocol/types.ts';

/** Collects the effects of many core events and carries them out after one commit. */
export class GroupCommit {
  #ops: PersistOp[] = [];
  #fx: Effect[] = [];
  #scheduled: NodeJS.Immediate | null = null;

  constructor(
    private readonly store: Store,
    /** Carries out one non-persist effect (after the commit). */
    private readonly carryOut: (e: Effect) => void,
    /** Called with the committed ops (e.g. to keep channels in line with the contact table). */
    private readonly committed: (ops: PersistOp[]) => void,
    /** The commit failed: nothing of this batch may be acknowledged. */
    private readonly failed: (fx: Effect[], err: unknown) => void,
    private readonly log: Logger,
  ) {}

  /** Adds the effects of one core event; the batch is flushed at the end of this loop turn. */
  add(fx: Effect[]): void {
    for (const e of fx) {
      if (e.type === 'persist') for (const op of e.ops) this.#ops.push(op);
      else this.#fx.push(e);
    }
    if (!this.#scheduled && (this.#ops.length > 0 || this.#fx.length > 0)) {
      this.#scheduled = setImmediate(() => this.flush());
    }
  }

  /** Commits the batch (one transaction) and carries out its effects in order. Safe to call any time. */
  flush(): void {
    if (this.#scheduled) clearImmediate(this.#scheduled);
    this.#scheduled = null;
    const ops = this.#ops;
    const fx = this.#fx;
    this.#ops = [];
    this.#fx = [];
    if (ops.length > 0) {
      try {
        this.store.apply(coalesce(ops));
      } catch (err) {
        this.log.error({ err, ops: ops.length }, 'store write failed; answers of this batch withheld');
        this.failed(fx, err);
        return;
      }
      this.committed(ops);
    }
    // Effects may feed new events (a deliver listener sends); those go into the next batch.
    for (const e of fx) {
      try {
        this.carryOut(e);
      } catch (err) {
        this.log.error({ err, effect: e.type }, 'carrying out an effect threw');
      }
    }
  }
}

/**
 * Drops an `outbox:put` that a later `outbox:put` of the same message replaces within the batch
 * (queued → sent → delivered of one message in one turn): the row ends the same, with fewer writes.
 */
export function coalesce(ops: PersistOp[]): PersistOp[] {
  if (ops.length < 2) return ops;
  const lastPut = new Map<string, number>();
  ops.forEach((op, i) => {
    if (op.op === 'outbox:put') lastPut.set(op.message.id, i);
  });
  if (lastPut.size === ops.filter((op) => op.op === 'outbox:put').length) return ops;
  return ops.filter((op, i) => op.op !== 'outbox:put' || lastPut.get(op.message.id) === i);
}
