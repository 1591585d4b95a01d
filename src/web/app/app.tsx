/** Page shell: header, connection banners, sidebar + main view, page-wide live region. */
import { AddFriend } from './add-friend.tsx';
import { ChatView } from './chat-view.tsx';
import { InvitePanel } from './invite-panel.tsx';
import { LoginNeeded } from './login-needed.tsx';
import { RequestsPanel } from './requests-panel.tsx';
import { type Route, useRoute } from './route.ts';
import { Sidebar } from './sidebar.tsx';
import { StatusPanel } from './status-panel.tsx';
import { useMesh } from './use-store.ts';

/** The whole page. */
export function App() {
  const [state, store] = useMesh();
  const route = useRoute();
  const { connection, id } = state;

  return (
    <div class="app" data-view={route.kind} data-connection={connection}>
      <a class="skip-link" href="#main">
        Skip to content
      </a>
      <header class="topbar">
        <a class="brand" href="#/" aria-label="Mesh — overview">
          <svg viewBox="0 0 16 16" width="22" height="22" aria-hidden="true">
            <circle cx="8" cy="8" r="3" class="brand-self" />
            <circle cx="2.5" cy="3" r="2" class="brand-peer" />
            <circle cx="13.5" cy="3" r="2" class="brand-peer" />
            <circle cx="8" cy="14" r="2" class="brand-peer" />
          </svg>
          Mesh
        </a>
        {id && (
          <span class="self-name" title={id.uuid}>
            {id.name || 'this node'}
          </span>
        )}
        <span class={`conn conn-${connection}`} data-testid="connection">
          <span class="dot" aria-hidden="true" />
          {connection === 'ok'
            ? 'connected'
            : connection === 'offline'
              ? 'offline'
              : connection === 'auth'
                ? 'not logged in'
                : 'connecting…'}
        </span>
      </header>

      {connection === 'offline' && (
        <div class="banner banner-offline" role="alert" data-testid="offline-banner">
          <span>
            Mesh daemon not reachable — reconnecting…
            {state.retryInSeconds ? <span class="muted"> (next try in {state.retryInSeconds} s)</span> : null}
          </span>
          <button type="button" class="btn btn-small" onClick={() => store.reconnectNow()}>
            Retry now
          </button>
        </div>
      )}

      {connection === 'auth' ? (
        <LoginNeeded onRetry={() => store.reconnectNow()} />
      ) : !id ? (
        <main id="main" class="loading" tabIndex={-1}>
          <p role="status">{connection === 'offline' ? 'Waiting for the Mesh daemon…' : 'Loading…'}</p>
        </main>
      ) : (
        <div class="layout">
          <Sidebar route={route} />
          <main id="main" class="main" tabIndex={-1}>
            <View route={route} />
          </main>
        </div>
      )}

      <div class="visually-hidden" aria-live="polite" data-testid="announcer">
        {state.announcement}
      </div>
    </div>
  );
}

function View({ route }: { route: Route }) {
  switch (route.kind) {
    case 'chat':
      return <ChatView key={route.uuid} uuid={route.uuid} />;
    case 'invite':
      return <InvitePanel />;
    case 'add':
      return <AddFriend />;
    case 'requests':
      return <RequestsPanel />;
    default:
      return <StatusPanel />;
  }
}
