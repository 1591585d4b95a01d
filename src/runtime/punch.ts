/**
 * Carries out the core's `punch` effect (docs/PROTOCOL.md §17.4): a simultaneous open from the punch
 * port to each of the contact's candidates at once; the first channel that opens is the result. The
 * core hears `punch-result` either way.
 */
import type { Transport } from '../ports.ts';
import { canPunch, TransportError } from '../ports.ts';
import type { CoreEvent, Effect } from '../protocol/events.ts';

/** Runs one `punch` effect and reports its outcome to `dispatch`. */
export function runPunch(
  transport: Transport,
  e: Extract<Effect, { type: 'punch' }>,
  localPort: number | null,
  dispatch: (event: CoreEvent) => void,
): void {
  const report = (ok: boolean, reason?: string) =>
    dispatch({ type: 'punch-result', uuid: e.uuid, attempt: e.attempt, ok, ...(reason ? { reason } : {}) });
  if (!canPunch(transport) || localPort === null) return report(false, 'UNSUPPORTED');
  // Through a promise: a transport that throws at once (no channel binding) is a failed punch, not a crash.
  const tries = [...new Set(e.remotes)].map((remote) =>
    Promise.resolve().then(() =>
      transport.punch({ localPort, remote, role: e.role, signPub: e.signPub, startAt: e.at, timeoutMs: e.timeoutMs }),
    ),
  );
  Promise.any(tries).then(
    () => report(true),
    (err: AggregateError) => {
      const first = err.errors.find((x) => x instanceof TransportError) as TransportError | undefined;
      report(false, first?.code ?? 'FAILED');
    },
  );
}
