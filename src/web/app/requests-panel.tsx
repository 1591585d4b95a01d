/** Incoming contact requests: the auth phrase, accept or reject. */
import { useState } from 'preact/hooks';
import { ApiError, type ContactRequest } from './api.ts';
import { AuthPhrase } from './auth-phrase.tsx';
import { displayName, relativeTime, shortId } from './format.ts';
import { useMesh, useTick } from './use-store.ts';

/** All pending requests. */
export function RequestsPanel() {
  const [state] = useMesh();
  return (
    <section class="panel" aria-labelledby="requests-heading">
      <a href="#/" class="back" aria-label="Back to contacts">
        ←
      </a>
      <h1 id="requests-heading">Friend requests</h1>
      {state.requests.length === 0 ? (
        <p class="empty" data-testid="requests-empty">
          No requests waiting. When someone uses your invite code, their request appears here.
        </p>
      ) : (
        <ul class="requests">
          {state.requests.map((r) => (
            <RequestItem key={r.uuid} r={r} />
          ))}
        </ul>
      )}
    </section>
  );
}

function RequestItem({ r }: { r: ContactRequest }) {
  const [, store] = useMesh();
  const now = useTick();
  const [busy, setBusy] = useState<'accept' | 'reject' | null>(null);
  const [error, setError] = useState<string | null>(null);
  const name = displayName(r.name, r.uuid);

  async function act(kind: 'accept' | 'reject') {
    setBusy(kind);
    setError(null);
    try {
      await (kind === 'accept' ? store.accept(r.uuid) : store.reject(r.uuid));
    } catch (e) {
      setError(e instanceof ApiError ? e.message : String(e));
      setBusy(null);
    }
  }

  return (
    <li class="request card" data-testid="request-item" data-uuid={r.uuid} aria-labelledby={`req-${r.uuid}`}>
      <h2 id={`req-${r.uuid}`}>
        {name} <span class="muted small">wants to be your contact</span>
      </h2>
      <p class="muted small">
        <span title={r.uuid}>id {shortId(r.uuid)}</span>
        {r.receivedAt ? ` · ${relativeTime(r.receivedAt, now)}` : ''}
      </p>
      <AuthPhrase phrase={r.authPhrase} name={name} testId="request-phrase" />
      <p class="button-row">
        <button
          type="button"
          class="btn"
          disabled={busy !== null}
          onClick={() => void act('accept')}
          aria-label={`Accept ${name}`}
          data-testid="request-accept"
        >
          {busy === 'accept' ? 'Accepting…' : 'Accept'}
        </button>
        <button
          type="button"
          class="btn btn-danger"
          disabled={busy !== null}
          onClick={() => void act('reject')}
          aria-label={`Reject ${name}`}
          data-testid="request-reject"
        >
          {busy === 'reject' ? 'Rejecting…' : 'Reject'}
        </button>
      </p>
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
    </li>
  );
}
