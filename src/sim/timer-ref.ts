/**
 * Timer identity for the engine, in one place: how a `set-timer` / `clear-timer` effect names its
 * timer, the string the engine keys its timer table with, and the `timer` event handed back to the
 * core. The engine never looks inside a timer; only `timerKeyOf` turns one into a map key.
 *
 * When the core's timers become a discriminated union (`TimerId` with `timerKey` in
 * src/protocol/timers.ts), these three functions are the only lines to change.
 */
import type { CoreEvent, Effect } from '../protocol/events.ts';

type TimerEffect = Extract<Effect, { type: 'set-timer' | 'clear-timer' }>;

/** A core timer as effects carry it (today a string id). */
export type TimerRef = TimerEffect['timerId'];

/** The timer a set-timer / clear-timer effect refers to. */
export function timerOf(e: TimerEffect): TimerRef {
  return e.timerId;
}

/** The key a node's timer table uses for `t` (equal keys = the same timer: setting it again replaces it). */
export function timerKeyOf(t: TimerRef): string {
  return t;
}

/** The event that tells a core its timer `t` fired. */
export function timerEvent(t: TimerRef): CoreEvent {
  return { type: 'timer', timerId: t };
}
