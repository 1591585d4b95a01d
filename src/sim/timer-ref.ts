/**
 * Timer identity for the engine, in one place: how a `set-timer` / `clear-timer` effect names its
 * timer, the string the engine keys its timer table with, and the `timer` event handed back to the
 * core. The engine never looks inside a timer; only `timerKeyOf` turns one into a map key.
 * Timers are the core's discriminated union (`TimerId`, src/protocol/timers.ts); `timerKey` is its
 * one string form.
 */
import type { CoreEvent, Effect } from '../protocol/events.ts';
import { type TimerId, timerKey } from '../protocol/timers.ts';

type TimerEffect = Extract<Effect, { type: 'set-timer' | 'clear-timer' }>;

/** A core timer as effects carry it. */
export type TimerRef = TimerId;

/** The timer a set-timer / clear-timer effect refers to. */
export function timerOf(e: TimerEffect): TimerRef {
  return e.timer;
}

/** The key a node's timer table uses for `t` (equal keys = the same timer: setting it again replaces it). */
export function timerKeyOf(t: TimerRef): string {
  return timerKey(t);
}

/** The event that tells a core its timer `t` fired. */
export function timerEvent(t: TimerRef): CoreEvent {
  return { type: 'timer', timer: t };
}
