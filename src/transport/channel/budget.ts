/**
 * Per-contact budget on a channel (docs/PROTOCOL.md §13.9): two token buckets, messages and bytes.
 * `take` never refuses: it says how long to wait until the request fits, so the channel delays
 * reading (backpressure) instead of answering 429 and making the sender back off for a minute.
 */
import {
  CONTACT_BUDGET_BYTES_BURST,
  CONTACT_BUDGET_BYTES_PER_S,
  CONTACT_BUDGET_MSGS_BURST,
  CONTACT_BUDGET_MSGS_PER_S,
} from '../../protocol/constants.ts';

/** Rates and bucket sizes of one budget. */
export interface BudgetInit {
  msgsPerSec: number;
  msgsBurst: number;
  bytesPerSec: number;
  bytesBurst: number;
}

/** The shipped contact budget (protocol/constants.ts). */
export const CONTACT_BUDGET: BudgetInit = {
  msgsPerSec: CONTACT_BUDGET_MSGS_PER_S,
  msgsBurst: CONTACT_BUDGET_MSGS_BURST,
  bytesPerSec: CONTACT_BUDGET_BYTES_PER_S,
  bytesBurst: CONTACT_BUDGET_BYTES_BURST,
};

/** Two token buckets (messages, bytes) refilled continuously. */
export class Budget {
  private msgs: number;
  private bytes: number;
  private at: number;

  constructor(
    private readonly b: BudgetInit = CONTACT_BUDGET,
    private readonly now: () => number = Date.now,
  ) {
    this.msgs = b.msgsBurst;
    this.bytes = b.bytesBurst;
    this.at = now();
  }

  /**
   * Takes one message of `size` bytes when it fits and returns 0; else takes nothing and returns
   * the ms until it will fit. A message larger than the byte bucket passes once the bucket is full
   * (it cannot wait for more than a full bucket).
   */
  take(size: number): number {
    this.refill();
    const need = Math.min(size, this.b.bytesBurst);
    if (this.msgs >= 1 && this.bytes >= need) {
      this.msgs -= 1;
      this.bytes -= need;
      return 0;
    }
    const waitMsgs = this.msgs >= 1 ? 0 : ((1 - this.msgs) / this.b.msgsPerSec) * 1000;
    const waitBytes = this.bytes >= need ? 0 : ((need - this.bytes) / this.b.bytesPerSec) * 1000;
    return Math.max(1, Math.ceil(Math.max(waitMsgs, waitBytes)));
  }

  private refill(): void {
    const now = this.now();
    const dt = Math.max(0, now - this.at) / 1000;
    this.at = now;
    this.msgs = Math.min(this.b.msgsBurst, this.msgs + dt * this.b.msgsPerSec);
    this.bytes = Math.min(this.b.bytesBurst, this.bytes + dt * this.b.bytesPerSec);
  }
}
