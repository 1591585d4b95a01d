/** "Add a friend": paste an invite code, wait for the friend's node, compare the auth phrase. */
import { useState } from 'preact/hooks';
import { type AddResult, ApiError, api } from './api.ts';
import { AuthPhrase } from './auth-phrase.tsx';
import { displayName } from './format.ts';
import { href } from './route.ts';
import { useMesh } from './use-store.ts';

/** The add-a-friend form and its result. */
export function AddFriend() {
  const [, store] = useMesh();
  const [code, setCode] = useState('');
  const [name, setName] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [result, setResult] = useState<AddResult | null>(null);

  async function add() {
    const c = code.trim();
    if (!c) {
      setError('Paste the invite code your friend gave you first.');
      return;
    }
    setBusy(true);
    setError(null);
    try {
      const r = await api.add(c, name.trim() || undefined);
      setResult(r);
      setCode('');
      void store.contactAdded();
    } catch (e) {
      setError(e instanceof ApiError ? e.message : String(e));
    } finally {
      setBusy(false);
    }
  }

  return (
    <section class="panel" aria-labelledby="add-heading">
      <a href="#/" class="back" aria-label="Back to contacts">
        ←
      </a>
      <h1 id="add-heading">Add a friend</h1>
      {result ? (
        <div data-testid="add-result">
          <h2>Request sent to {displayName(result.name || name, result.uuid)}</h2>
          <AuthPhrase
            phrase={result.authPhrase}
            name={displayName(result.name || name, result.uuid)}
            testId="auth-phrase"
          />
          <p>
            They see the same phrase with your request and accept it on their side. Until then your messages wait in the
            outbox.
          </p>
          <p class="button-row">
            <a class="btn" href={href({ kind: 'chat', uuid: result.uuid })}>
              Open the chat
            </a>
            <button type="button" class="btn btn-secondary" onClick={() => setResult(null)}>
              Add another friend
            </button>
          </p>
        </div>
      ) : (
        <form
          class="stack"
          aria-busy={busy}
          onSubmit={(e) => {
            e.preventDefault();
            void add();
          }}
        >
          <p>Paste the invite code your friend created with “Invite a friend” (or `mesh invite`).</p>
          <label for="add-code">Invite code</label>
          <textarea
            id="add-code"
            data-testid="add-code"
            rows={3}
            required
            spellcheck={false}
            autocomplete="off"
            value={code}
            disabled={busy}
            onInput={(e) => setCode((e.target as HTMLTextAreaElement).value)}
          />
          <label for="add-name">
            Their name <span class="muted">(optional, only for you)</span>
          </label>
          <input
            id="add-name"
            data-testid="add-name"
            type="text"
            value={name}
            disabled={busy}
            onInput={(e) => setName((e.target as HTMLInputElement).value)}
          />
          <p class="button-row">
            <button type="submit" class="btn" disabled={busy} data-testid="add-submit">
              {busy ? 'Adding…' : 'Add friend'}
            </button>
          </p>
          {busy && (
            <p role="status" class="progress" data-testid="add-progress">
              <span class="spinner" aria-hidden="true" /> Reaching your friend's node — this can take a few seconds…
            </p>
          )}
          {error && (
            <p class="error" role="alert" data-testid="add-error">
              Could not add this friend: {error}
            </p>
          )}
        </form>
      )}
    </section>
  );
}
