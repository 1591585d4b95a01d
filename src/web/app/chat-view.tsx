/** One conversation: history, live updates, delivery state per message, and the message box. */
import { useEffect, useLayoutEffect, useRef, useState } from 'preact/hooks';
import { ApiError, type Message, type MessageState } from './api.ts';
import { presenceText } from './contact-list.tsx';
import { displayName, isoTime, messageTime } from './format.ts';
import { useMesh, useTick } from './use-store.ts';

const STATE_LABEL: Record<MessageState, { icon: string; text: string }> = {
  queued: { icon: '◷', text: 'queued' },
  sent: { icon: '✓', text: 'sent' },
  delivered: { icon: '✓✓', text: 'delivered' },
  failed: { icon: '!', text: 'failed' },
  received: { icon: '', text: 'received' },
};

const STATE_HELP: Record<MessageState, string> = {
  queued: 'In the outbox: Mesh keeps trying until their node is reachable, also after a restart.',
  sent: 'Handed to their node; waiting for the acknowledgement.',
  delivered: 'Their node acknowledged it.',
  failed: 'Could not be delivered.',
  received: '',
};

/** The chat with contact `uuid`. */
export function ChatView({ uuid }: { uuid: string }) {
  const [state, store] = useMesh();
  const now = useTick();
  const contact = state.contacts.find((c) => c.uuid === uuid);
  const messages = state.messages[uuid];
  const [loadError, setLoadError] = useState<string | null>(null);
  const logRef = useRef<HTMLDivElement>(null);

  useEffect(() => {
    store.setActiveChat(uuid);
    store.loadMessages(uuid).catch((e: unknown) => setLoadError(e instanceof ApiError ? e.message : String(e)));
    return () => store.setActiveChat(null);
  }, [uuid, store]);

  // Keep the newest message in view.
  const count = messages?.length ?? 0;
  useLayoutEffect(() => {
    const el = logRef.current;
    if (el && count >= 0) el.scrollTop = el.scrollHeight;
  }, [count]);

  if (!contact) {
    return (
      <section class="panel">
        <BackLink />
        <h1>Unknown contact</h1>
        <p>
          There is no contact with the id <code>{uuid}</code>. <a href="#/">Back to your contacts</a>.
        </p>
      </section>
    );
  }
  const name = displayName(contact.name, contact.uuid);

  return (
    <section class="chat" aria-labelledby="chat-heading">
      <header class="chat-header">
        <BackLink />
        <span class={`avatar ${contact.online ? 'is-online' : 'is-offline'}`} aria-hidden="true">
          {name.slice(0, 1).toUpperCase()}
        </span>
        <div>
          <h1 id="chat-heading" class="chat-title">
            {name}
          </h1>
          <p class="chat-presence muted" data-testid="chat-presence">
            {presenceText(contact, now)}
            {contact.address ? ` · ${contact.address}` : ''}
          </p>
        </div>
      </header>

      <div
        class="messages"
        ref={logRef}
        role="log"
        aria-live="polite"
        aria-relevant="additions"
        aria-label={`Messages with ${name}`}
        data-testid="message-list"
      >
        <ol class="message-items">
          {loadError && (
            <li class="error" role="alert">
              Could not load the conversation: {loadError}
            </li>
          )}
          {!messages && !loadError && <li class="muted center">Loading messages…</li>}
          {messages?.length === 0 && (
            <li class="muted center" data-testid="chat-empty">
              No messages yet. Say hello — messages wait in the outbox until {name} is reachable.
            </li>
          )}
          {messages?.map((m) => (
            <MessageItem key={m.id} m={m} />
          ))}
        </ol>
      </div>

      {contact.status === 'pending' && (
        <p class="note">{name} has not accepted your request yet. Messages wait in the outbox until they do.</p>
      )}
      <Composer to={uuid} name={name} />
    </section>
  );
}

function BackLink() {
  return (
    <a href="#/" class="back" aria-label="Back to contacts">
      ←
    </a>
  );
}

function MessageItem({ m }: { m: Message }) {
  const label = STATE_LABEL[m.state] ?? { icon: '', text: m.state };
  const when = m.direction === 'in' ? (m.receivedAt ?? m.sentAt) : m.sentAt;
  return (
    <li class={`msg msg-${m.direction}`} data-testid="message-item" data-state={m.state} data-id={m.id}>
      <span class="visually-hidden">{m.direction === 'in' ? 'They wrote: ' : 'You wrote: '}</span>
      <span class="msg-text">{m.text}</span>
      <span class="msg-meta">
        <time dateTime={isoTime(when)} title={new Date(when).toLocaleString()}>
          {messageTime(when)}
        </time>
        {m.direction === 'out' && (
          <span class={`msg-state state-${m.state}`} data-testid="message-state" title={STATE_HELP[m.state]}>
            <span aria-hidden="true">{label.icon} </span>
            {label.text}
          </span>
        )}
      </span>
    </li>
  );
}

function Composer({ to, name }: { to: string; name: string }) {
  const [, store] = useMesh();
  const [text, setText] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const inputRef = useRef<HTMLTextAreaElement>(null);

  async function submit() {
    const t = text.trim();
    if (!t || busy) return;
    setBusy(true);
    setError(null);
    try {
      await store.send(to, t);
      setText('');
    } catch (e) {
      setError(`Not sent: ${e instanceof ApiError ? e.message : String(e)} Your text is still in the box.`);
    } finally {
      setBusy(false);
      inputRef.current?.focus();
    }
  }

  return (
    <form
      class="composer"
      onSubmit={(e) => {
        e.preventDefault();
        void submit();
      }}
    >
      {error && (
        <p class="error" role="alert" data-testid="send-error">
          {error}
        </p>
      )}
      <label for="message-input" class="visually-hidden">
        Message to {name}
      </label>
      <textarea
        id="message-input"
        ref={inputRef}
        data-testid="message-input"
        rows={2}
        placeholder={`Message ${name}`}
        aria-describedby="message-hint"
        value={text}
        maxLength={16_000}
        onInput={(e) => setText((e.target as HTMLTextAreaElement).value)}
        onKeyDown={(e) => {
          if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) {
            e.preventDefault();
            void submit();
          }
        }}
      />
      <span id="message-hint" class="visually-hidden">
        Enter sends, Shift+Enter starts a new line.
      </span>
      <button type="submit" class="btn" disabled={busy || !text.trim()} data-testid="send-button">
        {busy ? 'Sending…' : 'Send'}
      </button>
    </form>
  );
}
