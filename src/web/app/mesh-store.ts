/**
 * The page's single source of truth: loads everything from the local API, keeps it current from the
 * daemon's Server-Sent Events, and reconnects with backoff when the daemon goes away.
 */
import {
  API_EVENTS_ROUTE,
  ApiError,
  type ApiEvent,
  api,
  type Contact,
  type ContactRequest,
  EVENT_NAMES,
  type Message,
  type MessageState,
  type NodeId,
  type NodeStatus,
  observeCalls,
  type Referral,
} from './api.ts';

/** `loading` until the first answer; `auth` when the API says 401; `offline` when it does not answer. */
export type Connection = 'loading' | 'ok' | 'offline' | 'auth';

/** Everything the views render; replaced (never mutated) on each change. */
export interface MeshState {
  connection: Connection;
  /** Seconds until the next reconnect attempt while offline (for the banner), or null. */
  retryInSeconds: number | null;
  id: NodeId | null;
  status: NodeStatus | null;
  contacts: Contact[];
  referrals: Referral[];
  requests: ContactRequest[];
  /** Conversation per contact UUID, oldest first; absent until loaded. */
  messages: Record<string, Message[]>;
  unread: Record<string, number>;
  /** The chat the user has open (unread counts stay at 0 for it). */
  activeChat: string | null;
  /** Latest sentence for the page-wide aria-live region. */
  announcement: string;
}

/** Reconnect delays: 0.5 s doubling to 8 s, ±20 % jitter so many tabs do not retry in lockstep. */
const BACKOFF_MIN_MS = 500;
const BACKOFF_MAX_MS = 8000;
/** Referrals have no event of their own; refresh them this often while connected. */
const REFERRALS_POLL_MS = 20_000;

/** The peer a message belongs to in the conversation list. */
export function peerOf(m: Message): string {
  return m.direction === 'out' ? m.to : m.from;
}

/** Holds MeshState and notifies subscribers; one instance per page. */
export class MeshStore {
  state: MeshState = {
    connection: 'loading',
    retryInSeconds: null,
    id: null,
    status: null,
    contacts: [],
    referrals: [],
    requests: [],
    messages: {},
    unread: {},
    activeChat: null,
    announcement: '',
  };

  private readonly listeners = new Set<() => void>();
  private events: EventSource | null = null;
  private attempt = 0;
  private retryTimer: ReturnType<typeof setTimeout> | null = null;
  private countdownTimer: ReturnType<typeof setInterval> | null = null;
  private pollTimer: ReturnType<typeof setInterval> | null = null;
  /** message:state events that arrived before the POST /api/send answer (ids we have not seen yet). */
  private readonly earlyStates = new Map<string, MessageState>();
  private stopped = false;
  private connecting = false;

  /** Subscribes to changes; returns the unsubscribe function. */
  subscribe(fn: () => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  private set(patch: Partial<MeshState>): void {
    this.state = { ...this.state, ...patch };
    for (const fn of this.listeners) fn();
  }

  /** Loads everything and opens the event stream. */
  start(): void {
    this.stopped = false;
    observeCalls((outcome) => {
      if (outcome === 'unauthorized') this.toAuth();
      else if (outcome === 'offline') this.toOffline();
    });
    window.addEventListener('online', () => this.reconnectNow());
    document.addEventListener('visibilitychange', () => {
      if (document.visibilityState === 'visible' && this.state.connection === 'offline') this.reconnectNow();
    });
    void this.connect();
  }

  /** Closes the stream and timers (tests, hot reload). */
  stop(): void {
    this.stopped = true;
    this.events?.close();
    this.events = null;
    this.clearTimers();
  }

  /** Skips the backoff wait ("Retry now" button, browser back online). */
  reconnectNow(): void {
    if (this.state.connection === 'ok' && this.events) return;
    this.attempt = 0;
    void this.connect();
  }

  private clearTimers(): void {
    if (this.retryTimer) clearTimeout(this.retryTimer);
    if (this.countdownTimer) clearInterval(this.countdownTimer);
    if (this.pollTimer) clearInterval(this.pollTimer);
    this.retryTimer = this.countdownTimer = this.pollTimer = null;
  }

  private async connect(): Promise<void> {
    if (this.stopped) return;
    this.clearTimers();
    this.connecting = true;
    try {
      await this.refreshAll();
    } catch (err) {
      if (err instanceof ApiError && err.unauthorized) return this.toAuth();
      return this.scheduleRetry();
    } finally {
      this.connecting = false;
    }
    this.openEvents();
    this.pollTimer = setInterval(() => void this.refreshReferrals(), REFERRALS_POLL_MS);
  }

  private openEvents(): void {
    this.events?.close();
    const es = new EventSource(API_EVENTS_ROUTE.path, { withCredentials: true });
    this.events = es;
    es.onopen = () => {
      this.attempt = 0;
      if (this.state.connection !== 'ok') this.set({ connection: 'ok', retryInSeconds: null });
    };
    es.onerror = () => {
      // EventSource's own retry has no backoff and gives up on HTTP errors: take over.
      es.close();
      if (this.events === es) this.events = null;
      void this.probe();
    };
    for (const name of EVENT_NAMES) {
      es.addEventListener(name, (ev) => {
        try {
          this.onEvent({ event: name, data: JSON.parse((ev as MessageEvent<string>).data) } as ApiEvent);
        } catch {
          // A malformed event must not take the page down; the next refresh repairs the state.
        }
      });
    }
  }

  /** After the stream broke: is the daemon gone, or did the login expire, or was it a blip? */
  private async probe(): Promise<void> {
    this.connecting = true;
    try {
      await api.status();
      this.scheduleRetry(false);
    } catch (err) {
      if (err instanceof ApiError && err.unauthorized) this.toAuth();
      else this.scheduleRetry();
    } finally {
      this.connecting = false;
    }
  }

  private toAuth(): void {
    this.events?.close();
    this.events = null;
    this.clearTimers();
    if (this.state.connection !== 'auth') this.set({ connection: 'auth', retryInSeconds: null });
  }

  private toOffline(): void {
    if (this.state.connection === 'auth') return;
    if (this.state.connection !== 'offline') this.set({ connection: 'offline' });
    if (!this.retryTimer && !this.connecting) {
      this.events?.close();
      this.events = null;
      this.scheduleRetry();
    }
  }

  private scheduleRetry(offline = true): void {
    if (this.stopped) return;
    this.clearTimers();
    const base = Math.min(BACKOFF_MAX_MS, BACKOFF_MIN_MS * 2 ** this.attempt);
    const delay = Math.round(base * (0.8 + Math.random() * 0.4));
    this.attempt++;
    const due = Date.now() + delay;
    if (offline) {
      this.set({ connection: 'offline', retryInSeconds: Math.ceil(delay / 1000) });
      this.countdownTimer = setInterval(() => {
        this.set({ retryInSeconds: Math.max(0, Math.ceil((due - Date.now()) / 1000)) });
      }, 1000);
    }
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      void this.connect();
    }, delay);
  }

  /** Reloads everything (first load and after every reconnect, so missed events do not matter). */
  async refreshAll(): Promise<void> {
    const [id, status, contacts, requests] = await Promise.all([
      api.id(),
      api.status(),
      api.contacts(),
      api.requests(),
    ]);
    this.set({ id, status, contacts, requests, connection: 'ok', retryInSeconds: null });
    await this.refreshReferrals();
    // Conversations that were open are reloaded; others load when opened.
    for (const uuid of Object.keys(this.state.messages)) await this.loadMessages(uuid).catch(() => {});
  }

  private async refreshReferrals(): Promise<void> {
    try {
      this.set({ referrals: await api.referrals() });
    } catch {
      // Shown by the connection banner; the neighbourhood keeps its last picture.
    }
  }

  private async refreshContacts(): Promise<void> {
    try {
      const [contacts, requests] = await Promise.all([api.contacts(), api.requests()]);
      this.set({ contacts, requests });
    } catch {
      // Connection state is handled by the call observer.
    }
  }

  /** Loads one conversation (throws ApiError). */
  async loadMessages(uuid: string): Promise<void> {
    const list = await api.messages(uuid);
    const merged = list.map((m) => this.withEarlyState(m));
    // Keep locally added messages the daemon has not listed yet (a send racing this load).
    const known = new Set(merged.map((m) => m.id));
    for (const m of this.state.messages[uuid] ?? []) if (!known.has(m.id)) merged.push(m);
    this.set({ messages: { ...this.state.messages, [uuid]: merged } });
  }

  private withEarlyState(m: Message): Message {
    const early = this.earlyStates.get(m.id);
    if (!early) return m;
    this.earlyStates.delete(m.id);
    return { ...m, state: early };
  }

  /** Marks a chat as open (resets its unread count). */
  setActiveChat(uuid: string | null): void {
    const unread = uuid ? { ...this.state.unread, [uuid]: 0 } : this.state.unread;
    this.set({ activeChat: uuid, unread });
  }

  /** Sends a message and shows it at once as queued (throws ApiError; the text stays with the caller). */
  async send(to: string, text: string): Promise<void> {
    const { id } = await api.send(to, text);
    const self = this.state.id?.uuid ?? '';
    const msg = this.withEarlyState({
      id,
      from: self,
      to,
      text,
      sentAt: Date.now(),
      receivedAt: null,
      state: 'queued',
      direction: 'out',
    });
    this.addMessage(msg);
  }

  /** Accepts a contact request (throws ApiError). */
  async accept(uuid: string): Promise<void> {
    await api.accept(uuid);
    this.set({ requests: this.state.requests.filter((r) => r.uuid !== uuid) });
    await this.refreshContacts();
  }

  /** Rejects a contact request (throws ApiError). */
  async reject(uuid: string): Promise<void> {
    await api.reject(uuid);
    this.set({ requests: this.state.requests.filter((r) => r.uuid !== uuid) });
  }

  /** Called after `POST /api/add` succeeded: the new (pending) contact shows up in the list. */
  async contactAdded(): Promise<void> {
    await this.refreshContacts();
  }

  private addMessage(m: Message): void {
    const peer = peerOf(m);
    const list = this.state.messages[peer];
    if (list?.some((x) => x.id === m.id)) return;
    const messages = list ? { ...this.state.messages, [peer]: [...list, m] } : this.state.messages;
    this.set({ messages });
  }

  private nameOf(uuid: string): string {
    return this.state.contacts.find((c) => c.uuid === uuid)?.name || `${uuid.slice(0, 8)}…`;
  }

  private updateContact(uuid: string, patch: Partial<Contact>): void {
    if (!this.state.contacts.some((c) => c.uuid === uuid)) {
      void this.refreshContacts();
      return;
    }
    this.set({ contacts: this.state.contacts.map((c) => (c.uuid === uuid ? { ...c, ...patch } : c)) });
  }

  private onEvent(e: ApiEvent): void {
    switch (e.event) {
      case 'message': {
        const m = e.data;
        const peer = peerOf(m);
        this.addMessage(m);
        if (m.direction === 'in') {
          const open = this.state.activeChat === peer && document.visibilityState === 'visible';
          this.set({
            unread: open ? this.state.unread : { ...this.state.unread, [peer]: (this.state.unread[peer] ?? 0) + 1 },
            // The open chat's log is itself a live region; announce only messages for other chats.
            announcement: open ? this.state.announcement : `New message from ${this.nameOf(peer)}: ${m.text}`,
          });
          this.updateContact(peer, { online: true, lastSeen: m.receivedAt ?? Date.now() });
        }
        break;
      }
      case 'message:state': {
        const { id, to, state } = e.data;
        const list = this.state.messages[to];
        if (list?.some((m) => m.id === id)) {
          this.set({
            messages: { ...this.state.messages, [to]: list.map((m) => (m.id === id ? { ...m, state } : m)) },
          });
        } else {
          this.earlyStates.set(id, state);
        }
        break;
      }
      case 'contact:request': {
        const r = e.data;
        const requests = [...this.state.requests.filter((x) => x.uuid !== r.uuid), { receivedAt: Date.now(), ...r }];
        this.set({
          requests,
          announcement: `Friend request from ${r.name || 'someone new'}. Open Requests to compare the phrase.`,
        });
        break;
      }
      case 'contact:added': {
        const { name: who } = e.data;
        this.set({ announcement: `${who || 'A new friend'} is now a contact.` });
        void this.refreshContacts();
        break;
      }
      case 'contact:online': {
        const { uuid, address } = e.data;
        this.updateContact(uuid, { online: true, address, lastSeen: Date.now() });
        break;
      }
      case 'contact:offline': {
        const { uuid } = e.data;
        const c = this.state.contacts.find((x) => x.uuid === uuid);
        this.updateContact(uuid, { online: false, lastSeen: c?.online ? Date.now() : (c?.lastSeen ?? null) });
        break;
      }
      case 'contact:address': {
        const { uuid, address } = e.data;
        this.updateContact(uuid, { address });
        break;
      }
      case 'status': {
        const status = e.data;
        const prev = this.state.status;
        this.set({ status });
        if (prev && status.referrals !== prev.referrals) void this.refreshReferrals();
        if (prev && (status.contacts.total !== prev.contacts.total || status.contacts.online !== prev.contacts.online))
          void this.refreshContacts();
        break;
      }
    }
  }
}
