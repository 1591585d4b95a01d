/** The contact list: online/offline, last seen, unread counts. */
import type { Contact } from './api.ts';
import { displayName, relativeTime } from './format.ts';
import { href } from './route.ts';
import { useMesh, useTick } from './use-store.ts';

/** Online first, then by name. */
function byPresence(a: Contact, b: Contact): number {
  if (a.online !== b.online) return a.online ? -1 : 1;
  return displayName(a.name, a.uuid).localeCompare(displayName(b.name, b.uuid));
}

/** "online", "pending — not accepted yet", or "last seen 5 min ago". */
export function presenceText(c: Contact, now: number): string {
  if (c.status === 'pending') return 'waiting for them to accept';
  if (c.online) return 'online';
  return `offline · last seen ${relativeTime(c.lastSeen, now)}`;
}

/** All contacts as links to their chats. */
export function ContactList({ activeUuid }: { activeUuid: string | null }) {
  const [state] = useMesh();
  const now = useTick();
  const contacts = [...state.contacts].sort(byPresence);
  return (
    <section class="contacts" aria-labelledby="contacts-heading">
      <h2 id="contacts-heading" class="section-title">
        Contacts{' '}
        <span class="muted">
          {state.contacts.filter((c) => c.online).length} of {state.contacts.length} online
        </span>
      </h2>
      {contacts.length === 0 ? (
        <p class="empty" data-testid="contacts-empty">
          No contacts yet. <a href="#/invite">Invite a friend</a> or <a href="#/add">add one with their code</a>.
        </p>
      ) : (
        <ul class="contact-list" data-testid="contact-list">
          {contacts.map((c) => {
            const unread = state.unread[c.uuid] ?? 0;
            const name = displayName(c.name, c.uuid);
            const presence = presenceText(c, now);
            return (
              <li key={c.uuid}>
                <a
                  href={href({ kind: 'chat', uuid: c.uuid })}
                  class="contact"
                  data-testid="contact-item"
                  data-uuid={c.uuid}
                  data-online={String(c.online)}
                  aria-current={activeUuid === c.uuid ? 'page' : undefined}
                  aria-label={`${name}, ${presence}${unread ? `, ${unread} unread` : ''}`}
                >
                  <span class={`avatar ${c.online ? 'is-online' : 'is-offline'}`} aria-hidden="true">
                    {name.slice(0, 1).toUpperCase()}
                  </span>
                  <span class="contact-text">
                    <span class="contact-name">{name}</span>
                    <span class="contact-presence" data-testid="contact-presence">
                      {presence}
                    </span>
                  </span>
                  {unread > 0 && (
                    <span class="badge" data-testid="unread-badge">
                      {unread}
                    </span>
                  )}
                </a>
              </li>
            );
          })}
        </ul>
      )}
    </section>
  );
}
