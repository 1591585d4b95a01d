/**
 * Edge logic shared by every transport (https, memory): remote-address formatting, body size limit,
 * per-IP rate limit, the wire error JSON and the "handler threw" guard. Both transports run the same
 * code here so a node behaves identically over TLS and in the simulator.
 */
import { isIP } from 'node:net';
import { WIRE_ERRORS, type WireErrorCode } from '../errors.ts';
import type { InboundRequest, Logger, OutboundResponse, RequestHandler } from '../ports.ts';
import { MAX_BODY_BYTES, RATE_LIMIT_MAX, RATE_LIMIT_WINDOW_MS } from '../protocol/constants.ts';
import { formatAddress, hostOf } from '../util/address.ts';
import { Budget } from './channel/budget.ts';
import { ipGroup } from './ip-group.ts';

/** Content type of every Mesh response (answers and errors). */
export const JSON_CONTENT_TYPE = 'application/json';

/** A response as the edge writes it: status, raw body and extra headers. */
export interface EdgeReply {
  status: number;
  body: Uint8Array;
  headers: Record<string, string>;
}

/** Rate limit settings: at most `max` requests per source (IPv4 address or IPv6 /64) per `windowMs`. */
export interface RateLimitOptions {
  max: number;
  windowMs: number;
}

/** Options of the shared edge. */
export interface EdgeInit {
  /** Largest accepted request body, bytes. @default MAX_BODY_BYTES */
  maxBodyBytes?: number;
  /** Per-remote-IP limit; `false` disables it. @default { max: RATE_LIMIT_MAX, windowMs: RATE_LIMIT_WINDOW_MS } */
  rateLimit?: RateLimitOptions | false;
  /** pino-compatible logger. */
  logger?: Logger;
  /** Clock for the rate limiter, ms. @default Date.now */
  now?: () => number;
}

const encoder = new TextEncoder();

/** Builds the wire error `{ "error": CODE, "message": text }` with the status WIRE_ERRORS assigns to CODE. */
export function errorReply(code: WireErrorCode, message: string, headers: Record<string, string> = {}): EdgeReply {
  return {
    status: WIRE_ERRORS[code],
    body: encoder.encode(JSON.stringify({ error: code, message })),
    headers: { 'content-type': JSON_CONTENT_TYPE, ...headers },
  };
}

/** 404 NOT_FOUND for anything but `POST /mesh`. */
export function notFoundReply(): EdgeReply {
  return errorReply('NOT_FOUND', 'Nothing here: Mesh nodes only answer POST /mesh.');
}

/** 413 TOO_LARGE for a body over the limit. */
export function tooLargeReply(limit: number): EdgeReply {
  return errorReply('TOO_LARGE', `Request body is larger than the limit of ${limit} bytes.`);
}

/** 400 BAD_REQUEST for malformed HTTP or content. */
export function badRequestReply(why = 'Malformed request.'): EdgeReply {
  return errorReply('BAD_REQUEST', why);
}

/** 500 INTERNAL when the handler failed; never leaks the error text. */
export function internalReply(): EdgeReply {
  return errorReply('INTERNAL', 'The node failed to process this request.');
}

/** 429 RATE_LIMITED with a `retry-after` header in whole seconds. */
export function rateLimitedReply(retryAfterSec: number): EdgeReply {
  return errorReply('RATE_LIMITED', `Too many requests; retry in ${retryAfterSec} s.`, {
    'retry-after': String(retryAfterSec),
  });
}

/** Result of a rate-limit check. */
export type RateDecision = { ok: true } | { ok: false; retryAfterSec: number };

/** Fixed-window counter per key (remote IP); expired windows are swept once per window. */
export class RateLimiter {
  private readonly windows = new Map<string, { count: number; resetAt: number }>();
  private nextSweep = 0;

  constructor(
    private readonly opts: RateLimitOptions,
    private readonly now: () => number = Date.now,
  ) {}

  /** Counts one request for `key` and says whether it may pass. */
  hit(key: string): RateDecision {
    const now = this.now();
    if (now >= this.nextSweep) this.sweep(now);
    let w = this.windows.get(key);
    if (!w || now >= w.resetAt) {
      w = { count: 0, resetAt: now + this.opts.windowMs };
      this.windows.set(key, w);
    }
    w.count++;
    if (w.count <= this.opts.max) return { ok: true };
    return { ok: false, retryAfterSec: Math.max(1, Math.ceil((w.resetAt - now) / 1000)) };
  }

  /** Whether `key` is over its limit in the current window (counts nothing). */
  over(key: string): boolean {
    const w = this.windows.get(key);
    return !!w && this.now() < w.resetAt && w.count >= this.opts.max;
  }

  /** Number of keys currently tracked (for tests and diagnostics). */
  get size(): number {
    return this.windows.size;
  }

  private sweep(now: number): void {
    for (const [k, w] of this.windows) if (now >= w.resetAt) this.windows.delete(k);
    this.nextSweep = now + this.opts.windowMs;
  }
}

/** The checks and guard every transport runs around the node's handler. */
export class Edge {
  /** Largest accepted body, bytes. */
  readonly maxBodyBytes: number;
  private readonly limiter: RateLimiter | null;
  private readonly logger: Logger | undefined;
  private trustedSender: (uuid: string) => boolean = () => false;
  /** Per-contact budgets of POSTs claiming a trusted sender (bounded by the number of contacts). */
  private readonly budgets = new Map<string, Budget>();

  constructor(init: EdgeInit = {}) {
    this.maxBodyBytes = init.maxBodyBytes ?? MAX_BODY_BYTES;
    const rl = init.rateLimit === undefined ? { max: RATE_LIMIT_MAX, windowMs: RATE_LIMIT_WINDOW_MS } : init.rateLimit;
    this.limiter = rl === false ? null : new RateLimiter(rl, init.now);
    this.logger = init.logger;
  }

  /** Rate-limits by the source of `remote` ("ip:port": its IPv4 address or IPv6 /64); the 429 reply or null when admitted. */
  admit(remote: string): EdgeReply | null {
    if (!this.limiter) return null;
    const d = this.limiter.hit(sourceOf(remote));
    if (d.ok) return null;
    this.logger?.debug({ remote }, 'mesh transport: rate limited');
    return rateLimitedReply(d.retryAfterSec);
  }

  /** Says which Mesh-From uuids are the node's contacts (their POSTs get a budget, not the per-IP limit). */
  trustSenders(trusted: (uuid: string) => boolean): void {
    this.trustedSender = trusted;
  }

  /**
   * The contact a request claims to come from, when it may skip the per-IP limit: it carries
   * Mesh-Secret, its Mesh-From is a contact, and its IP is not over the limit (failed
   * authentications count against the IP, so forging a contact's uuid buys an attacker nothing).
   * Null otherwise. The core still checks the proof.
   */
  contactClaim(remote: string, headers: Record<string, string>): string | null {
    const from = headers['mesh-from'];
    if (!from || headers['mesh-secret'] === undefined || !this.trustedSender(from)) return null;
    if (this.limiter?.over(sourceOf(remote))) return null;
    return from;
  }

  /** The per-IP check, skipped for a request that claims a contact (see `contactClaim`). */
  admitRequest(remote: string, headers: Record<string, string>): EdgeReply | null {
    return this.contactClaim(remote, headers) ? null : this.admit(remote);
  }

  /**
   * Dispatches a contact's POST within its budget: over budget, the answer waits until the budget
   * allows (backpressure), never a 429. A failed authentication (401) counts against the IP.
   */
  async dispatchClaimed(handler: RequestHandler, req: InboundRequest, uuid: string): Promise<EdgeReply> {
    let b = this.budgets.get(uuid);
    if (!b) {
      if (this.budgets.size >= 4096) this.budgets.clear(); // stale contacts: start afresh, bounded
      b = new Budget();
      this.budgets.set(uuid, b);
    }
    let size = req.body.byteLength;
    for (const k in req.headers) size += k.length + req.headers[k].length;
    for (let wait = b.take(size); wait > 0; wait = b.take(size)) await new Promise((r) => setTimeout(r, wait));
    const reply = await this.dispatch(handler, req);
    if (reply.status === 401) this.limiter?.hit(sourceOf(req.remote));
    return reply;
  }

  /** Returns the 413 reply when `bytes` exceeds the limit, else null. */
  checkSize(bytes: number): EdgeReply | null {
    return bytes > this.maxBodyBytes ? tooLargeReply(this.maxBodyBytes) : null;
  }

  /** Calls the handler; a throw or an invalid answer becomes 500 INTERNAL (logged), never a crash. */
  async dispatch(handler: RequestHandler, req: InboundRequest): Promise<EdgeReply> {
    let res: OutboundResponse;
    try {
      res = await handler(req);
    } catch (err) {
      this.logger?.error({ err, remote: req.remote }, 'mesh transport: handler threw');
      return internalReply();
    }
    if (!res || !Number.isInteger(res.status) || res.status < 200 || res.status > 599 || !isBytes(res.body)) {
      this.logger?.error({ remote: req.remote }, 'mesh transport: handler returned an invalid response');
      return internalReply();
    }
    return { status: res.status, body: res.body, headers: { 'content-type': JSON_CONTENT_TYPE } };
  }

  /**
   * Whole pipeline for transports without an HTTP layer: rate limit, size limit, handler.
   * `trusted` (a contact's channel, held to its own budget by the channel) skips the per-IP limit.
   */
  async serve(handler: RequestHandler, req: InboundRequest, trusted = false): Promise<EdgeReply> {
    const claim = trusted ? null : this.contactClaim(req.remote, req.headers);
    if (claim) return this.checkSize(req.body.byteLength) ?? (await this.dispatchClaimed(handler, req, claim));
    return (
      (trusted ? null : this.admit(req.remote)) ??
      this.checkSize(req.body.byteLength) ??
      (await this.dispatch(handler, req))
    );
  }
}

/** The rate-limit key of "ip:port": the IPv4 address or the IPv6 /64 (issue 12 #10). */
function sourceOf(remote: string): string {
  return ipGroup(hostOf(remote));
}

function isBytes(b: unknown): b is Uint8Array {
  return b instanceof Uint8Array;
}

/** Formats a socket address as "ip:port": IPv6 in brackets, v4-mapped IPv6 ("::ffff:1.2.3.4") as plain IPv4. */
export function formatRemote(ip: string, port: number): string {
  const host = ip.toLowerCase().startsWith('::ffff:') && isIP(ip.slice(7)) === 4 ? ip.slice(7) : ip;
  return formatAddress({ host, port });
}

/** Copies header names to lower case with string values (arrays joined by ", "; undefined dropped). */
export function lowerHeaders(h: Record<string, string | string[] | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(h)) {
    if (v === undefined) continue;
    out[k.toLowerCase()] = Array.isArray(v) ? v.join(', ') : String(v);
  }
  return out;
}
