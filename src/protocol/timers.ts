/**
 * The core's timers as data: a host keeps at most one pending timer per id and gives the id back in
 * the `timer` event. Hosts that key their timers in a Map use `timerKey` (the one string form).
 *
 *   case 'set-timer': timers.set(timerKey(e.timer), schedule(e.at, () => feed({ type: 'timer', timer: e.timer })));
 */

/** One of the core's timers. */
export type TimerId =
  /** Periodic presence announce to every contact (every `announceIntervalMs`). */
  | { kind: 'announce' }
  /** The earliest outbox retry. */
  | { kind: 'outbox' }
  /** Periodic clean-up of expired referrals, invites, requests and seen ids. */
  | { kind: 'sweep' }
  /** The current batch of a search (or routed contact request) timed out: ask the next batch. */
  | { kind: 'search'; key: string }
  /** A relay's downstream answer did not come in time: answer upstream UNREACHABLE. */
  | { kind: 'relay'; id: number };

/** The kinds of timer, e.g. to tell periodic maintenance from work a message caused. */
export type TimerKind = TimerId['kind'];

/** Timers that fire periodically whatever set them (maintenance rather than a reaction to traffic). */
export const PERIODIC_TIMERS: readonly TimerKind[] = ['announce', 'sweep'];

/** The string form of a timer id: equal for equal ids, distinct otherwise (a Map key for hosts). */
export function timerKey(t: TimerId): string {
  switch (t.kind) {
    case 'announce':
    case 'outbox':
    case 'sweep':
      return t.kind;
    case 'search':
      return `search:${t.key}`;
    case 'relay':
      return `relay:${t.id}`;
  }
}
