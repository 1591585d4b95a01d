/** Left column: navigation and the contact list (the home screen on phones). */
import { ContactList } from './contact-list.tsx';
import type { Route } from './route.ts';
import { useMesh } from './use-store.ts';

/** Navigation links and contacts. */
export function Sidebar({ route }: { route: Route }) {
  const [state] = useMesh();
  const requests = state.requests.length;
  const current = (kind: Route['kind']) => (route.kind === kind ? 'page' : undefined);
  return (
    <aside class="sidebar" aria-label="Contacts and actions">
      <nav class="actions" aria-label="Main">
        <a href="#/invite" class="action" aria-current={current('invite')} data-testid="nav-invite">
          <span aria-hidden="true">+</span> Invite a friend
        </a>
        <a href="#/add" class="action" aria-current={current('add')} data-testid="nav-add">
          <span aria-hidden="true">⌨</span> Add a friend
        </a>
        <a href="#/requests" class="action" aria-current={current('requests')} data-testid="nav-requests">
          <span aria-hidden="true">✉</span> Requests
          {requests > 0 && (
            <span class="badge" data-testid="requests-badge">
              {requests}
              <span class="visually-hidden"> waiting</span>
            </span>
          )}
        </a>
        <a href="#/status" class="action" aria-current={current('status')} data-testid="nav-status">
          <span aria-hidden="true">◎</span> Node status
        </a>
      </nav>
      <ContactList activeUuid={route.kind === 'chat' ? route.uuid : null} />
    </aside>
  );
}
