/** Typed client for the daemon's local API (same origin; the HttpOnly `mesh_token` cookie authenticates). */

/** `GET /api/id`. */
export interface NodeId {
  uuid: string;
  name: string;
  publicKey: string;
  listen: string[];
  observed: string[];
}

/** `GET /api/status` and the `status` event. */
export interface NodeStatus {
  uuid: string;
  name?: string;
  listen: string[];
  observed: string[];
  contacts: { total: number; online: number };
  referrals: number;
  outbox: number;
}

export type ContactStatus = 'active' | 'inactive' | 'pending';

/** One item of `GET /api/contacts`. */
export interface Contact {
  uuid: string;
  name: string;
  address: string | null;
  online: boolean;
  lastSeen: number | null;
  status?: ContactStatus;
}

/** One item of `GET /api/referrals`: referent is reachable through contact `via`, `hops` hops from it. */
export interface Referral {
  referent: string;
  via: string;
  hops: number;
  expiresAt: number;
}

/** `POST /api/invite`. */
export interface Invite {
  code: string;
  expiresAt: number;
  link?: string;
}

/** `POST /api/add`. */
export interface AddResult {
  uuid: string;
  name?: string;
  authPhrase: string;
}

/** One item of `GET /api/requests` and the `contact:request` event. */
export interface ContactRequest {
  uuid: string;
  name: string;
  authPhrase: string;
  receivedAt?: number;
}

export type MessageState = 'queued' | 'sent' | 'delivered' | 'failed' | 'received';

/** One item of `GET /api/messages` and the `message` event. */
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

/** Thrown for every failed API call; `code` is the daemon's error code, or NETWORK / UNAUTHORIZED. */
export class ApiError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status: number,
  ) {
    super(message);
    this.name = 'ApiError';
  }

  /** The daemon did not answer at all (stopped, crashed, or the network is down). */
  get offline(): boolean {
    return this.code === 'NETWORK';
  }

  /** The cookie is missing or stale: the user must open the login link again. */
  get unauthorized(): boolean {
    return this.status === 401;
  }
}

/** Listeners told about every call's outcome, so the app can show "offline" / "log in" screens. */
type CallObserver = (outcome: 'ok' | 'offline' | 'unauthorized') => void;
const observers = new Set<CallObserver>();

/** Subscribes to the outcome of every API call; returns the unsubscribe function. */
export function observeCalls(fn: CallObserver): () => void {
  observers.add(fn);
  return () => observers.delete(fn);
}

function notify(outcome: 'ok' | 'offline' | 'unauthorized'): void {
  for (const fn of observers) fn(outcome);
}

async function call<T>(method: 'GET' | 'POST', path: string, body?: unknown): Promise<T> {
  let res: Response;
  try {
    res = await fetch(path, {
      method,
      credentials: 'same-origin',
      headers:
        body === undefined
          ? { accept: 'application/json' }
          : { 'content-type': 'application/json', accept: 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
      cache: 'no-store',
    });
  } catch {
    notify('offline');
    throw new ApiError('NETWORK', 'Mesh daemon not reachable. Is it still running (mesh start)?', 0);
  }
  const text = await res.text().catch(() => '');
  let json: unknown = null;
  try {
    json = text ? JSON.parse(text) : null;
  } catch {
    // A proxy or a crashed daemon may answer with HTML; fall through to the generic message.
  }
  if (!res.ok) {
    if (res.status === 401) notify('unauthorized');
    else notify('ok');
    const err = (json ?? {}) as { error?: string; message?: string };
    const message =
      res.status === 401
        ? 'Not logged in. Open the link that `mesh start` printed.'
        : (err.message ?? `The daemon answered ${res.status} ${res.statusText}.`);
    throw new ApiError(err.error ?? (res.status === 401 ? 'UNAUTHORIZED' : `HTTP_${res.status}`), message, res.status);
  }
  notify('ok');
  return json as T;
}

/** The calls of the local API contract (DESIGN §7 plus the web additions). */
export const api = {
  id: () => call<NodeId>('GET', '/api/id'),
  status: () => call<NodeStatus>('GET', '/api/status'),
  contacts: () => call<Contact[]>('GET', '/api/contacts'),
  referrals: () => call<Referral[]>('GET', '/api/referrals'),
  requests: () => call<ContactRequest[]>('GET', '/api/requests'),
  messages: (withUuid: string) => call<Message[]>('GET', `/api/messages?with=${encodeURIComponent(withUuid)}`),
  invite: (opts: { ttl?: string; noAddress?: boolean }) => call<Invite>('POST', '/api/invite', opts),
  add: (code: string, name?: string) => call<AddResult>('POST', '/api/add', name ? { code, name } : { code }),
  accept: (uuid: string) => call<{ uuid: string }>('POST', '/api/accept', { uuid }),
  reject: (uuid: string) => call<{ uuid: string }>('POST', '/api/reject', { uuid }),
  send: (to: string, text: string) => call<{ id: string }>('POST', '/api/send', { to, text }),
};

/** Names of the Server-Sent Events the daemon emits on `/api/events`. */
export const EVENT_NAMES = [
  'message',
  'message:state',
  'contact:request',
  'contact:added',
  'contact:online',
  'contact:offline',
  'contact:address',
  'status',
] as const;

export type EventName = (typeof EVENT_NAMES)[number];
