/**
 * The page's client of the daemon's local API, through the API contract (same origin; the HttpOnly
 * login cookie authenticates).
 */
import { type ApiErrorBody, type ApiInput, type ApiOutput, type ApiRouteName, apiRequest } from '../../api/contract.ts';

export {
  type AddResult,
  API_EVENT_NAMES as EVENT_NAMES,
  API_EVENTS_ROUTE,
  type ApiEvent,
  type ApiEventName as EventName,
  type ApiEvents,
  type Contact,
  type ContactRequest,
  type ContactStatus,
  type Invite,
  type Message,
  type MessageState,
  type NodeId,
  type NodeStatus,
  type Referral,
} from '../../api/contract.ts';

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

async function call<K extends ApiRouteName>(
  name: K,
  ...input: undefined extends ApiInput<K> ? [input?: ApiInput<K>] : [input: ApiInput<K>]
): Promise<ApiOutput<K>> {
  const { method, url, body } = apiRequest(name, ...input);
  let res: Response;
  try {
    res = await fetch(url, {
      method,
      credentials: 'same-origin',
      headers:
        body === undefined
          ? { accept: 'application/json' }
          : { 'content-type': 'application/json', accept: 'application/json' },
      body,
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
    const err = (json ?? {}) as Partial<ApiErrorBody>;
    const message =
      res.status === 401
        ? 'Not logged in. Open the link that `mesh start` printed.'
        : (err.message ?? `The daemon answered ${res.status} ${res.statusText}.`);
    throw new ApiError(err.error ?? (res.status === 401 ? 'UNAUTHORIZED' : `HTTP_${res.status}`), message, res.status);
  }
  notify('ok');
  return json as ApiOutput<K>;
}

/** The calls the page makes, each a route of the API contract. */
export const api = {
  id: () => call('id'),
  status: () => call('status'),
  contacts: () => call('contacts'),
  referrals: () => call('referrals'),
  requests: () => call('requests'),
  messages: (withUuid: string) => call('messages', { with: withUuid }),
  invite: (opts: { ttl?: string; noAddress?: boolean }) => call('invite', opts),
  add: (code: string, name?: string) => call('add', name ? { code, name } : { code }),
  accept: (uuid: string) => call('accept', { uuid }),
  reject: (uuid: string) => call('reject', { uuid }),
  send: (to: string, text: string) => call('send', { to, text }),
};
