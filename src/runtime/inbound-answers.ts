/**
 * The inbound requests a node has handed to its core and not yet answered. Each must be answered
 * once: by the core (`respond`), with a wire error (the core threw, the node stops) or, when the
 * core never answers, with 504-class UNREACHABLE after INBOUND_ANSWER_TIMEOUT_MS. One timer, armed
 * for the oldest deadline, watches them all: a timer set and cleared per request was measurable on
 * the receive path (bench/transport), and every request has the same timeout, so the oldest
 * request's deadline is always the earliest.
 */

/** How long an inbound request may wait for the core's answer before the runtime answers with an error, ms. */
export const INBOUND_ANSWER_TIMEOUT_MS = 30_000;

/** An answer to an inbound request. */
export interface InboundAnswer {
  status: number;
  body: Uint8Array;
}

interface Waiting {
  resolve: (r: InboundAnswer) => void;
  deadline: number;
}

/** Unanswered inbound requests, by request id (ids increase, so the map's order is deadline order). */
export class InboundAnswers {
  readonly #waiting = new Map<number, Waiting>();
  #next = 1;
  #timer: NodeJS.Timeout | null = null;

  constructor(
    /** Answers the request `id` that is still waiting at its deadline (the runtime's timeout error). */
    private readonly late: (id: number) => void,
    private readonly timeoutMs = INBOUND_ANSWER_TIMEOUT_MS,
  ) {}

  /** Registers a new request; `start` runs with its id (hand it to the core) once it can be answered. */
  open(start: (id: number) => void): Promise<InboundAnswer> {
    const id = this.#next++;
    return new Promise((resolve) => {
      this.#waiting.set(id, { resolve, deadline: Date.now() + this.timeoutMs });
      if (!this.#timer) this.#arm();
      start(id);
    });
  }

  /** Answers request `id`; false when it was answered already (or never existed). */
  answer(id: number, res: InboundAnswer): boolean {
    const w = this.#waiting.get(id);
    if (!w) return false;
    this.#waiting.delete(id);
    w.resolve(res);
    return true;
  }

  /** Answers every waiting request with `res` (the node stops). */
  answerAll(res: () => InboundAnswer): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    for (const [id, w] of this.#waiting) {
      this.#waiting.delete(id);
      w.resolve(res());
    }
  }

  /** Number of requests waiting for an answer. */
  get size(): number {
    return this.#waiting.size;
  }

  #arm(): void {
    const first = this.#waiting.values().next().value;
    if (!first) return;
    this.#timer = setTimeout(() => this.#expire(), Math.max(0, first.deadline - Date.now()));
    // A request waiting for the core is no reason to keep a stopping process alive (as before).
    this.#timer.unref();
  }

  #expire(): void {
    this.#timer = null;
    const now = Date.now();
    for (const [id, w] of this.#waiting) {
      if (w.deadline > now) break;
      this.late(id);
      this.#waiting.delete(id); // `late` normally answered it already; never twice
    }
    this.#arm();
  }
}
