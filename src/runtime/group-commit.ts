/**
 * Group commit: the writes of every core event handled in one turn of the event loop become one
 * SQLite transaction, and only then are that turn's answers, sends, deliveries and results carried
 * out. So an answer acknowledging a message still leaves only after the message is stored, but a
 * burst of N messages costs one commit instead of N. The flush runs on `setImmediate` (after the
 * I/O callbacks of this turn), not on a timer: nothing on the send path waits for a clock.
 *
 * A batch whose only writes are outbox rows turning `delivered` is not committed on its own: those
 * rows ride the next commit (or an idle flush LAZY_FLUSH_MS later, or stop()). Nothing depends on
 * them being durable: after a crash the row is still `sent`, which a restart turns back into
 * `queued`, and the resend is answered by the receiver's de-duplication (no second inbox row). So
 * a sender pays one commit per burst of sends, not one more per burst of acknowledgements.
 */
import type { Logger, Store } from '../ports.ts';
import type { Effect } from '../protocol/events.ts';
import type { PersistOp } from '../protocol/types.ts';

/** How long deferred `delivered` writes wait for another commit to ride before committing alone, ms. */
export const LAZY_FLUSH_MS = 50;
/** Deferred writes that force a commit of their own (bounds what a crash makes the sender resend). */
export const LAZY_MAX_OPS = 1024;

/** A write nobody waits for: an outbox row turning `delivered` (see the file comment for why). */
export const isDeferrable = (op: PersistOp): boolean => op.op === 'outbox:put' && op.message.state === 'delivered';

/** Collects the effects of many core events and carries them out after one commit. */
export class GroupCommit {
  #ops: PersistOp[] = [];
  #fx: Effect[] = [];
  /** True when #ops holds a write that must be durable before this batch's effects go out. */
  #urgent = false;
  #scheduled: NodeJS.Immediate | null = null;
  #idle: NodeJS.Timeout | null = null;

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
    let added = false;
    for (const e of fx) {
      if (e.type === 'persist')
        for (const op of e.ops) {
          this.#ops.push(op);
          if (!this.#urgent && !isDeferrable(op)) this.#urgent = true;
        }
      else {
        this.#fx.push(e);
        added = true;
      }
    }
    if (!this.#scheduled && (added || this.#urgent || this.#ops.length >= LAZY_MAX_OPS)) {
      this.#scheduled = setImmediate(() => this.flush(false));
    } else if (!this.#scheduled && !this.#idle && this.#ops.length > 0) this.#armIdle();
  }

  /**
   * Commits the batch (one transaction) and carries out its effects in order. Safe to call any time.
   * `all` = false (the end-of-turn flush) leaves deferrable writes for a later commit when they are
   * all the batch has; stop() and readers that need the file current flush all.
   */
  flush(all = true): void {
    if (this.#scheduled) clearImmediate(this.#scheduled);
    this.#scheduled = null;
    const fx = this.#fx;
    this.#fx = [];
    const commit = all || this.#urgent || this.#ops.length >= LAZY_MAX_OPS;
    const ops = commit ? this.#ops : [];
    if (commit) {
      this.#ops = [];
      this.#urgent = false;
      if (this.#idle) clearTimeout(this.#idle);
      this.#idle = null;
    } else if (this.#ops.length > 0 && !this.#idle) this.#armIdle();
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

  /** Deferred writes alone: commit them after LAZY_FLUSH_MS unless another commit takes them first. */
  #armIdle(): void {
    this.#idle = setTimeout(() => {
      this.#idle = null;
      this.flush();
    }, LAZY_FLUSH_MS);
    // Not a reason to keep a process alive: stop() flushes, and a crash is what the resend covers.
    this.#idle.unref?.();
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
