/**
 * The local-API contract (DESIGN.md §7): every route of the daemon's API on 127.0.0.1, what each
 * takes and answers, its error codes with their HTTP status, the Server-Sent Events it streams and
 * how the login cookie is named. The daemon registers its routes from this table, the CLI client and
 * the web page call through it — so the three cannot drift apart again.
 *
 * Types and constants only (plus two pure helpers): the page bundles this file, so no node imports.
 *
 *   const req = apiRequest('messages', { with: uuid }); // { method: 'GET', url: '/api/messages?with=…' }
 *   const list: ApiOutput<'messages'> = await (await fetch(req.url)).json();
 */

// ------------------------------------------------------------------ shapes

/** A contact's state: `pending` until they accept our request, `inactive` after a failed attempt. */
export type ContactStatus = 'active' | 'inactive' | 'pending';

/** Where an outgoing message is; incoming ones are `received`. */
export type MessageState = 'queued' | 'sent' | 'delivered' | 'failed' | 'received';

/** `GET /api/id`: who this node is and where it listens. */
export interface NodeId {
  uuid: string;
  name: string;
  /** signPub ‖ boxPub, base64url. */
  publicKey: string;
  listen: string[];
  /** How peers saw us (host with our listening port). */
  observed: string[];
  /** The address we tell contacts, null before start. */
  advertised: string | null;
}

/** `GET /api/status` and the `status` event. */
export interface NodeStatus {
  uuid: string;
  name: string;
  listen: string[];
  observed: string[];
  contacts: { total: number; online: number };
  referrals: number;
  outbox: number;
  /** Dropped inbound requests by reason. */
  drops: Record<string, number>;
  /** Whether others can dial this node, learned by dial-back (docs/PROTOCOL.md §15). */
  reachability?: 'public' | 'mapped' | 'private' | 'unknown';
  /** The address this node tells contacts. */
  advertised?: string | null;
  /** Whether `advertised` can be dialled by others. */
  dialable?: boolean;
  /** The home router's port mapping (UPnP-IGD / NAT-PMP), or null. */
  portMapping?: { protocol: 'nat-pmp' | 'upnp'; gateway: string; internal: string; external: string } | null;
}

/** One item of `GET /api/contacts`. */
export interface Contact {
  uuid: string;
  name: string;
  address: string | null;
  online: boolean;
  lastSeen: number | null;
  status: ContactStatus;
  /** The DNS name of a peer with a domain (bootstrap), else null. */
  domain: string | null;
  /** A persistent channel to this contact is open now (docs/PROTOCOL.md §13). */
  channel?: boolean;
  /** How requests to it go now (docs/PROTOCOL.md §16): "direct", "relay" (through `via`) or "none". */
  path?: 'direct' | 'relay' | 'none';
  /** The mutual contact relaying for it when `path` is "relay", else null. */
  via?: string | null;
}

/** One item of `GET /api/referrals`: `referent` is reachable through contact `via`, `hops` hops from it. */
export interface Referral {
  referent: string;
  via: string;
  hops: number;
  expiresAt: number;
}

/** One item of `GET /api/requests`: an incoming contact request waiting for accept / reject. */
export interface ContactRequest {
  uuid: string;
  name: string;
  authPhrase: string;
  receivedAt: number;
}

/** One item of `GET /api/inbox`: a received message. */
export interface InboxMessage {
  id: string;
  from: string;
  text: string;
  sentAt: number;
  receivedAt: number;
}

/** One item of `GET /api/messages` and the `message` event: a line of a conversation. */
export interface Message {
  id: string;
  from: string;
  to: string;
  text: string;
  sentAt: number;
  receivedAt: number | null;
  state: MessageState;
  direction: 'in' | 'out';
}

/** `POST /api/invite`. */
export interface Invite {
  code: string;
  expiresAt: number;
  /** `mesh:<code>`, for the QR code. */
  link: string;
}

/** `POST /api/add`: the new (pending) contact and the phrase to compare. */
export interface AddResult {
  uuid: string;
  name: string;
  authPhrase: string;
}

// ------------------------------------------------------------------ routes

/** The JSON routes: name → method and path. GET routes take their input as query, POST as a JSON body. */
export const API_ROUTES = {
  id: { method: 'GET', path: '/api/id' },
  status: { method: 'GET', path: '/api/status' },
  contacts: { method: 'GET', path: '/api/contacts' },
  referrals: { method: 'GET', path: '/api/referrals' },
  requests: { method: 'GET', path: '/api/requests' },
  inbox: { method: 'GET', path: '/api/inbox' },
  messages: { method: 'GET', path: '/api/messages' },
  invite: { method: 'POST', path: '/api/invite' },
  add: { method: 'POST', path: '/api/add' },
  accept: { method: 'POST', path: '/api/accept' },
  reject: { method: 'POST', path: '/api/reject' },
  send: { method: 'POST', path: '/api/send' },
  bootstrap: { method: 'POST', path: '/api/bootstrap' },
  removeContact: { method: 'POST', path: '/api/contacts/remove' },
  clearInbox: { method: 'POST', path: '/api/inbox/clear' },
} as const;

/** Name of a JSON route. */
export type ApiRouteName = keyof typeof API_ROUTES;

/** What each JSON route takes (query for GET, body for POST) and answers. */
export interface ApiSpec {
  id: { input: undefined; output: NodeId };
  status: { input: undefined; output: NodeStatus };
  contacts: { input: undefined; output: Contact[] };
  referrals: { input: undefined; output: Referral[] };
  requests: { input: undefined; output: ContactRequest[] };
  /** `since`: receivedAt lower bound (ms); `limit`: newest N only. */
  inbox: { input: { since?: number; limit?: number } | undefined; output: InboxMessage[] };
  /** `with`: a contact uuid (or unique name / uuid prefix). */
  messages: { input: { with: string }; output: Message[] };
  /** `ttl`: a duration ("30m", "24h", "7d", or ms as digits); `noAddress`: leave our address out. */
  invite: { input: { ttl?: string; noAddress?: boolean }; output: Invite };
  add: { input: { code: string; name?: string }; output: AddResult };
  accept: { input: { uuid: string }; output: { uuid: string } };
  reject: { input: { uuid: string }; output: { uuid: string } };
  /** `to`: a contact uuid or name. Answers with the new message's id once it is persisted. */
  send: { input: { to: string; text: string }; output: { id: string } };
  /** `url`: a peer with a domain, like https://peer.example:7575. */
  bootstrap: { input: { url: string }; output: { uuid: string; name: string } };
  /**
   * `uuid`: a contact uuid (or unique name / uuid prefix). Deletes the contact, its referrals and its
   * queued messages; the other side is not told. CONTACT_UNKNOWN (404) if none, INVALID_ARGUMENT if
   * the name matches several.
   */
  removeContact: { input: { uuid: string }; output: { uuid: string } };
  /**
   * Deletes received messages; `before`: only those received before it — unix ms (a number or
   * digits) or an ISO 8601 date / date-time string. Without it, all. Answers how many went.
   */
  clearInbox: { input: { before?: number | string }; output: { deleted: number } };
}

/** Input of a JSON route. */
export type ApiInput<K extends ApiRouteName> = ApiSpec[K]['input'];
/** Answer of a JSON route. */
export type ApiOutput<K extends ApiRouteName> = ApiSpec[K]['output'];

/** The Server-Sent Events stream (`text/event-stream`; a `status` event at once and when it changes). */
export const API_EVENTS_ROUTE = { method: 'GET', path: '/api/events' } as const;

/**
 * The one-time login link `mesh start` prints: `/login?token=…` checks the token, starts a browser
 * session, sets the session cookie (see cookieName) and redirects to `/`, so the token does not stay
 * in the address bar. A wrong token answers 401 (text).
 */
export const LOGIN_ROUTE = { method: 'GET', path: '/login' } as const;

/**
 * Ends the browser session of the cookie it is called with and clears the cookie; answers `{ ok: true }`
 * (also with a bearer token, which has no session to end). Like every POST, from a page it needs our Origin.
 */
export const LOGOUT_ROUTE = { method: 'POST', path: '/api/logout' } as const;

/**
 * Every API path starts with this; authentication is required below it, the page is served outside it.
 *
 * How calls under /api/ authenticate (docs/SECURITY.md, "Local API"):
 * - `Authorization: Bearer TOKEN` (TOKEN from the data dir, mode 0600): the CLI and scripts. Always
 *   accepted, whatever the Origin — a page on another origin cannot know the token.
 * - The session cookie (cookieName): the web page. It holds a random session id, never the token,
 *   because browsers send the cookies of 127.0.0.1 to every port of it, so any local web app the user
 *   visits receives them. A session expires (a week), their number is bounded, it can be ended with
 *   LOGOUT_ROUTE, and a daemon restart ends them all; a session id is never accepted as a bearer token.
 *   `SameSite=Strict` does not stop a page on another local port (same site, other origin), so a
 *   cookie-authenticated call is refused with FORBIDDEN_ORIGIN (403) when it carries an `Origin` other
 *   than localOrigins(apiPort), and every cookie-authenticated call other than GET/HEAD must carry one
 *   of them (browsers always send `Origin` on POST, so a POST without it is not from our page).
 * The Host must be 127.0.0.1 or localhost (else FORBIDDEN: a guard against DNS rebinding).
 */
export const API_PREFIX = '/api/';

/**
 * The login cookie's name. Named per API port: two daemons on one machine (both on 127.0.0.1) would
 * otherwise overwrite each other's login, since cookies do not tell ports apart. Its value is a session
 * id (HttpOnly, SameSite=Strict, Path=/, Max-Age = the session's lifetime), never the API token.
 */
export function cookieName(apiPort: number | undefined): string {
  return `mesh_session_${apiPort ?? 0}`;
}

/** The origins the page is served from, the only ones a cookie-authenticated call may come from. */
export function localOrigins(apiPort: number): string[] {
  return [`http://127.0.0.1:${apiPort}`, `http://localhost:${apiPort}`];
}

/** The method, URL (path + query) and JSON body of a call, as both clients send it. */
export function apiRequest<K extends ApiRouteName>(
  name: K,
  ...[input]: undefined extends ApiInput<K> ? [input?: ApiInput<K>] : [input: ApiInput<K>]
): { method: 'GET' | 'POST'; url: string; body?: string } {
  const { method, path } = API_ROUTES[name];
  if (method === 'POST') return { method, url: path, body: JSON.stringify(input ?? {}) };
  const query = Object.entries((input ?? {}) as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(String(v))}`)
    .join('&');
  return { method, url: query ? `${path}?${query}` : path };
}

// ------------------------------------------------------------------ errors

/**
 * Error codes the API answers with (`{ error, message }`) and their HTTP status. A MeshError code
 * not listed here answers 400: it is a caller mistake the core explained in its message.
 */
export const API_ERRORS = {
  INVALID_ARGUMENT: 400,
  BAD_INVITE: 400,
  /** No token, or no live session: open the login link again. */
  UNAUTHORIZED: 401,
  /** The Host is not 127.0.0.1 / localhost. */
  FORBIDDEN: 403,
  /** A cookie-authenticated call from another origin, or a non-GET one without `Origin` (CSRF guard). */
  FORBIDDEN_ORIGIN: 403,
  CONTACT_UNKNOWN: 404,
  REQUEST_UNKNOWN: 404,
  NOT_FOUND: 404,
  ALREADY_CONTACT: 409,
  INTERNAL: 500,
  NOT_STARTED: 503,
  STOPPED: 503,
  UNREACHABLE: 504,
} as const;

/** An error code listed in the contract. */
export type ApiErrorCode = keyof typeof API_ERRORS;

/** Status for codes the contract does not list (see API_ERRORS). */
export const API_ERROR_DEFAULT_STATUS = 400;

/** The body of every error answer under /api/. */
export interface ApiErrorBody {
  error: string;
  message: string;
}

/** The HTTP status an error code answers with. */
export function apiErrorStatus(code: string): number {
  return (API_ERRORS as Record<string, number>)[code] ?? API_ERROR_DEFAULT_STATUS;
}

// ------------------------------------------------------------------ events

/** The events of `GET /api/events`, name → payload (`data:` is the payload as JSON). */
export interface ApiEvents {
  /** A message arrived (direction `in`, state `received`). */
  message: Message;
  /** An outgoing message changed state. */
  'message:state': { id: string; to: string; state: Exclude<MessageState, 'received'> };
  /** Someone used our invite; compare `authPhrase` before accepting. */
  'contact:request': { uuid: string; name: string; authPhrase: string };
  /** A pending contact became a contact (they accepted, or we did). */
  'contact:added': { uuid: string; name: string };
  /** A contact answered again. */
  'contact:online': { uuid: string; address: string };
  /** A direct attempt to reach a contact failed. */
  'contact:offline': { uuid: string };
  /** A contact is at a new address. */
  'contact:address': { uuid: string; address: string };
  /** A search found a moved contact; `via` is the contact that answered. */
  relocated: { uuid: string; address: string; via: string; searchId: string };
  /** The node's status changed (also sent once when the stream opens). */
  status: NodeStatus;
}

/** Name of an event of the stream. */
export type ApiEventName = keyof ApiEvents;

/** One event of the stream with its payload, as a union clients can switch on. */
export type ApiEvent = { [E in ApiEventName]: { event: E; data: ApiEvents[E] } }[ApiEventName];

/** Every event name the stream may send (the page subscribes to each). */
export const API_EVENT_NAMES = [
  'message',
  'message:state',
  'contact:request',
  'contact:added',
  'contact:online',
  'contact:offline',
  'contact:address',
  'relocated',
  'status',
] as const satisfies readonly ApiEventName[];

// A compile-time check that API_EVENT_NAMES lists every key of ApiEvents (fails to compile otherwise).
const _allEventsListed: Exclude<ApiEventName, (typeof API_EVENT_NAMES)[number]> extends never ? true : never = true;
void _allEventsListed;
