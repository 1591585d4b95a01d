/** Hash routes, so the browser's back button and bookmarks work without server routes. */
import { useEffect, useState } from 'preact/hooks';

/** The view the page shows. `home` is the overview on wide screens and the contact list on phones. */
export type Route =
  | { kind: 'home' }
  | { kind: 'chat'; uuid: string }
  | { kind: 'invite' }
  | { kind: 'add' }
  | { kind: 'requests' }
  | { kind: 'status' };

/** Parses `#/chat/UUID`, `#/invite`, `#/add`, `#/requests`, `#/status`; anything else is home. */
export function parseRoute(hash: string): Route {
  const parts = hash.replace(/^#\/?/, '').split('/');
  switch (parts[0]) {
    case 'chat':
      return parts[1] ? { kind: 'chat', uuid: decodeURIComponent(parts[1]) } : { kind: 'home' };
    case 'invite':
    case 'add':
    case 'requests':
    case 'status':
      return { kind: parts[0] };
    default:
      return { kind: 'home' };
  }
}

/** The href of a route. */
export function href(route: Route): string {
  return route.kind === 'chat'
    ? `#/chat/${encodeURIComponent(route.uuid)}`
    : route.kind === 'home'
      ? '#/'
      : `#/${route.kind}`;
}

/** The current route, updated on hashchange. */
export function useRoute(): Route {
  const [route, setRoute] = useState(() => parseRoute(location.hash));
  useEffect(() => {
    const on = () => setRoute(parseRoute(location.hash));
    window.addEventListener('hashchange', on);
    return () => window.removeEventListener('hashchange', on);
  }, []);
  return route;
}
