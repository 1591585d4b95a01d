/** "Invite a friend": create an invite code, show it as text, link and QR code. */
import { useState } from 'preact/hooks';
import { ApiError, api, type Invite } from './api.ts';
import { untilTime } from './format.ts';
import { QrCode } from './qr-code.tsx';
import { useTick } from './use-store.ts';

const TTLS = [
  { value: '1h', label: '1 hour' },
  { value: '24h', label: '24 hours' },
  { value: '7d', label: '7 days' },
];

/** Creates invite codes. */
export function InvitePanel() {
  const [ttl, setTtl] = useState('24h');
  const [noAddress, setNoAddress] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [invite, setInvite] = useState<Invite | null>(null);
  const [copied, setCopied] = useState(false);
  const now = useTick(10_000);

  async function create() {
    setBusy(true);
    setError(null);
    setCopied(false);
    try {
      setInvite(await api.invite({ ttl, noAddress }));
    } catch (e) {
      setError(e instanceof ApiError ? e.message : String(e));
    } finally {
      setBusy(false);
    }
  }

  async function copy() {
    if (!invite) return;
    try {
      await navigator.clipboard.writeText(invite.code);
      setCopied(true);
    } catch {
      // Clipboard access can be refused; selecting the text lets the user copy by hand.
      const el = document.getElementById('invite-code');
      if (el) getSelection()?.selectAllChildren(el);
    }
  }

  return (
    <section class="panel" aria-labelledby="invite-heading">
      <a href="#/" class="back" aria-label="Back to contacts">
        ←
      </a>
      <h1 id="invite-heading">Invite a friend</h1>
      <p>
        Create a one-time code and give it to your friend: read it out, send it, or let them scan the QR code. They
        paste it under “Add a friend” in their Mesh.
      </p>
      <form
        class="form-row"
        onSubmit={(e) => {
          e.preventDefault();
          void create();
        }}
      >
        <label>
          Valid for{' '}
          <select value={ttl} onChange={(e) => setTtl((e.target as HTMLSelectElement).value)} data-testid="invite-ttl">
            {TTLS.map((t) => (
              <option key={t.value} value={t.value}>
                {t.label}
              </option>
            ))}
          </select>
        </label>
        <label class="check">
          <input
            type="checkbox"
            checked={noAddress}
            onChange={(e) => setNoAddress((e.target as HTMLInputElement).checked)}
          />{' '}
          Leave out my address (they find me through mutual contacts)
        </label>
        <button type="submit" class="btn" disabled={busy} data-testid="invite-create">
          {busy ? 'Creating…' : invite ? 'Create a new code' : 'Create invite code'}
        </button>
      </form>
      {error && (
        <p class="error" role="alert">
          Could not create an invite: {error}
        </p>
      )}
      {invite && (
        <div class="invite-result" data-testid="invite-result" aria-live="polite">
          <QrCode text={invite.link || invite.code} label="QR code of the invite — scan it with your friend's phone" />
          <div class="invite-text">
            <h2 class="section-title">Invite code</h2>
            <p class="code-box" id="invite-code" data-testid="invite-code">
              {invite.code}
            </p>
            <p>
              <button type="button" class="btn btn-small" onClick={() => void copy()}>
                Copy code
              </button>{' '}
              <span role="status">{copied ? 'Copied.' : ''}</span>
            </p>
            {invite.link && (
              <p class="break">
                Link: <a href={invite.link}>{invite.link}</a>
              </p>
            )}
            <p class="muted">
              Works once, expires {untilTime(invite.expiresAt, now)} ({new Date(invite.expiresAt).toLocaleString()}).
            </p>
            <p class="note">
              When your friend adds you, a request with a short phrase appears under <a href="#/requests">Requests</a>.
              Compare the phrase with them before you accept.
            </p>
          </div>
        </div>
      )}
    </section>
  );
}
