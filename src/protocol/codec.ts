/**
 * Encode / decode Mesh requests and responses. Decoding never throws: it returns a result with
 * the wire error code, so bad remote input becomes a `drop` and an HTTP error (docs/PROTOCOL.md §3).
 */
import { isB64uDecodable } from '../crypto/b64u.ts';
import { isUuid } from '../crypto/uuid.ts';
import type { FailureCode, WireErrorCode } from '../errors.ts';
import {
  DIGEST_MAX_CHARS,
  DIRECTORY_MAX_RECORD_CHARS,
  MAX_ANSWER_DATA_CHARS,
  MAX_BODY_BYTES,
  PROTOCOL_VERSION,
  PUNCH_MAX_CANDIDATES,
} from './constants.ts';
import {
  type ContactCard,
  type ContactReqBody,
  type DialbackBody,
  type DirectoryBody,
  type ErrorResponse,
  type IntroduceBody,
  type IpBody,
  MESSAGE_TYPES,
  type MessageBody,
  type MessageType,
  type OkResponse,
  type PunchBody,
  type ReferralBody,
  type RelayBody,
  type RequestHeaders,
} from './messages.ts';

/** Result of a decode: the value, or the wire error code and a human reason. */
export type Decoded<T> =
  | { ok: true; value: T }
  | { ok: false; code: Extract<WireErrorCode, 'BAD_REQUEST' | 'UNSUPPORTED_VERSION' | 'TOO_LARGE'>; message: string };

/** Longest header value we accept (pub key + signature are the longest, 86 chars). */
const MAX_HEADER_CHARS = 128;
/** Largest hop count on the wire: a hard cap against loops whatever the radii. */
export const MAX_WIRE_HOPS = 32;
/** Longest address string "ip:port" / "[v6]:port" / "host:port". */
const MAX_ADDRESS_CHARS = 300;
/** An IPv4 literal or a bracketed IPv6 literal (punch candidates). */
const IP_LITERAL_RE = /^(\d{1,3}(\.\d{1,3}){3}|\[[0-9a-fA-F:.]+\])$/;
const ADDRESS_RE = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):\d{1,5}$/;

const fail = (message: string): Decoded<never> => ({ ok: false, code: 'BAD_REQUEST', message });
const textDecoder = new TextDecoder('utf-8', { fatal: true });
const textEncoder = new TextEncoder();

/** True for base64url text of at most `maxChars` characters (and at least `minChars`). */
export function isB64u(s: unknown, minChars = 1, maxChars = MAX_BODY_BYTES * 2): s is string {
  return typeof s === 'string' && s.length >= minChars && s.length <= maxChars && isB64uDecodable(s);
}

/** True for an "ip:port" / "[v6]:port" / "host:port" address with a port in 1..65535. */
export function isAddress(s: unknown): s is string {
  if (typeof s !== 'string' || s.length > MAX_ADDRESS_CHARS || !ADDRESS_RE.test(s)) return false;
  const port = Number(s.slice(s.lastIndexOf(':') + 1));
  return port >= 1 && port <= 65535;
}

/** The host's kind for address claims: loopback, never-a-peer (unspecified, multicast, broadcast), or other. */
function hostClass(host: string): 'loopback' | 'never' | 'ok' {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  const v4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(h.startsWith('::ffff:') ? h.slice(7) : h);
  if (v4) {
    const [a, b, c, d] = v4.slice(1).map(Number);
    if (a === 127) return 'loopback';
    if (a === 0 || a >= 224 || (a === 255 && b === 255 && c === 255 && d === 255)) return 'never';
    return 'ok';
  }
  if (h === 'localhost' || h.endsWith('.localhost')) return 'loopback';
  if (h.includes(':')) {
    if (h === '::1') return 'loopback';
    if (h === '::' || h.startsWith('ff')) return 'never';
  }
  return 'ok';
}

/**
 * True when a remote claim of an address (an IP message's sealed part, a search answer, a contact
 * card) is one we may send to (issue 12 #16): never unspecified, multicast or broadcast hosts, and a
 * loopback host only when we are on loopback ourselves (nodes of one machine, as in the tests), so
 * a contact cannot point our traffic at a service on our own machine. Addresses we observe on a
 * socket need no check: they are where the peer really is.
 */
export function isPlausibleAddress(address: string, selfAddress: string | null): boolean {
  if (!isAddress(address)) return false;
  const cls = hostClass(address.slice(0, address.lastIndexOf(':')));
  if (cls === 'never') return false;
  if (cls === 'loopback')
    return selfAddress !== null && hostClass(selfAddress.slice(0, selfAddress.lastIndexOf(':'))) === 'loopback';
  return true;
}

function isHops(n: unknown): n is number {
  return Number.isInteger(n) && (n as number) >= 0 && (n as number) <= MAX_WIRE_HOPS;
}

/** The `Mesh-*` request headers after `Mesh-Version` (lower-case), each at most MAX_HEADER_CHARS long. */
export const MESH_HEADERS = [
  'mesh-type',
  'mesh-from',
  'mesh-id',
  'mesh-ts',
  'mesh-port',
  'mesh-secret',
  'mesh-pub-key',
  'mesh-signature',
] as const;

/**
 * Validates the `Mesh-*` headers of a request (names lower-case). `onChannel`: the request came over
 * an authenticated channel, where `Mesh-Secret` may be left off (docs/PROTOCOL.md §13.8).
 */
export function decodeHeaders(h: Record<string, string | undefined>, onChannel = false): Decoded<RequestHeaders> {
  const version = h['mesh-version'];
  if (version === undefined) return fail('missing Mesh-Version header');
  if (version !== String(PROTOCOL_VERSION))
    return {
      ok: false,
      code: 'UNSUPPORTED_VERSION',
      message: `Mesh-Version ${version.slice(0, 16)} is not supported; this node speaks version ${PROTOCOL_VERSION}`,
    };
  for (const name of MESH_HEADERS) {
    const v = h[name];
    if (v !== undefined && v.length > MAX_HEADER_CHARS) return fail(`header ${name} is too long`);
  }
  const type = h['mesh-type'];
  if (!type || !(MESSAGE_TYPES as readonly string[]).includes(type))
    return fail(
      'Mesh-Type must be one of IP, referral, message, contact_req, dialback, relay, introduce, punch, directory',
    );
  const from = h['mesh-from'];
  if (!isUuid(from)) return fail('Mesh-From must be a lower-case UUID');
  const id = h['mesh-id'];
  if (!isB64u(id, 22, 22)) return fail('Mesh-Id must be 16 bytes in base64url (22 characters)');
  const tsText = h['mesh-ts'];
  if (!tsText || !/^\d{1,15}$/.test(tsText)) return fail('Mesh-Ts must be unix milliseconds');
  const portText = h['mesh-port'];
  let port: number | null = null;
  if (portText !== undefined) {
    if (!/^\d{1,5}$/.test(portText) || Number(portText) < 1 || Number(portText) > 65535)
      return fail('Mesh-Port must be 1..65535');
    port = Number(portText);
  }
  const secret = h['mesh-secret'] ?? null;
  if (secret !== null && !isB64u(secret, 43, 43)) return fail('Mesh-Secret must be a 32-byte base64url HMAC');
  const pubKey = h['mesh-pub-key'] ?? null;
  if (pubKey !== null && !isB64u(pubKey, 86, 86))
    return fail('Mesh-Pub-Key must be 64 bytes (signPub ‖ boxPub) in base64url');
  const signature = h['mesh-signature'] ?? null;
  if (signature !== null && !isB64u(signature, 86, 86))
    return fail('Mesh-Signature must be a 64-byte Ed25519 signature in base64url');
  if (secret === null && !onChannel && (pubKey === null || signature === null))
    return fail('a request needs Mesh-Secret (contacts) or Mesh-Pub-Key with Mesh-Signature (first contact)');
  return {
    ok: true,
    value: {
      version: PROTOCOL_VERSION,
      type: type as MessageType,
      from,
      id,
      ts: Number(tsText),
      port,
      secret,
      pubKey,
      signature,
    },
  };
}

/** Parses a JSON object body; rejects non-UTF-8, non-JSON, non-objects and oversize input. */
export function parseJsonObject(body: Uint8Array, maxBytes = MAX_BODY_BYTES): Decoded<Record<string, unknown>> {
  if (body.length > maxBytes)
    return { ok: false, code: 'TOO_LARGE', message: `body is ${body.length} bytes; the limit is ${maxBytes}` };
  let parsed: unknown;
  try {
    parsed = JSON.parse(textDecoder.decode(body));
  } catch {
    return fail('body is not UTF-8 JSON');
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) return fail('body must be a JSON object');
  return { ok: true, value: parsed as Record<string, unknown> };
}

function decodeCard(c: unknown): ContactCard | null {
  if (c === null || typeof c !== 'object') return null;
  const o = c as Record<string, unknown>;
  if (!isUuid(o.uuid) || !isB64u(o.signPub, 43, 43) || !isB64u(o.boxPub, 43, 43)) return null;
  if (typeof o.name !== 'string' || o.name.length > 100) return null;
  if (o.address !== null && o.address !== undefined && !isAddress(o.address)) return null;
  return {
    uuid: o.uuid,
    name: o.name,
    signPub: o.signPub,
    boxPub: o.boxPub,
    address: (o.address as string | undefined) ?? null,
  };
}

/** Validates a contact card (requester or answerer) from parsed JSON. */
export function validateCard(c: unknown): ContactCard | null {
  return decodeCard(c);
}

/** The body of each message type, validated. */
export type RequestBody =
  | { type: 'IP'; body: IpBody }
  | { type: 'referral'; body: ReferralBody }
  | { type: 'message'; body: MessageBody }
  | { type: 'contact_req'; body: ContactReqBody }
  | { type: 'dialback'; body: DialbackBody }
  | { type: 'relay'; body: RelayBody }
  | { type: 'introduce'; body: IntroduceBody }
  | { type: 'punch'; body: PunchBody }
  | { type: 'directory'; body: DirectoryBody };

/** Validates a request body for its `Mesh-Type`. */
export function decodeBody(type: MessageType, raw: Uint8Array): Decoded<RequestBody> {
  const parsed = parseJsonObject(raw);
  if (!parsed.ok) return parsed;
  const o = parsed.value;
  switch (type) {
    case 'IP':
      if (!isUuid(o.to)) return fail('IP: "to" must be a UUID');
      if (!isHops(o.hops) || o.hops < 1) return fail(`IP: "hops" must be an integer 1..${MAX_WIRE_HOPS}`);
      if (!isB64u(o.encrypted, 1, 8192)) return fail('IP: "encrypted" must be base64url (≤ 8192 chars)');
      if (o.maxHops !== undefined && (!isHops(o.maxHops) || o.maxHops < 1))
        return fail(`IP: "maxHops" must be an integer 1..${MAX_WIRE_HOPS}`);
      return {
        ok: true,
        value: {
          type,
          body: {
            to: o.to,
            hops: o.hops,
            encrypted: o.encrypted,
            ...(o.maxHops !== undefined ? { maxHops: o.maxHops } : {}),
          },
        },
      };
    case 'referral':
      return decodeReferral(o);
    case 'directory': {
      if (!isB64u(o.key, 43, 43)) return fail('directory: "key" must be 32 bytes base64url');
      if (o.op === 'get') return { ok: true, value: { type, body: { op: 'get', key: o.key } } };
      if (o.op !== 'put') return fail('directory: "op" must be "put" or "get"');
      if (!isB64u(o.record, 40, DIRECTORY_MAX_RECORD_CHARS))
        return fail(`directory: "record" must be base64url (40..${DIRECTORY_MAX_RECORD_CHARS} chars)`);
      return { ok: true, value: { type, body: { op: 'put', key: o.key, record: o.record } } };
    }
    case 'message':
      if (!isB64u(o.nonce, 16, 16)) return fail('message: "nonce" must be 12 bytes base64url');
      if (!isB64u(o.ct, 22)) return fail('message: "ct" must be base64url ciphertext');
      return { ok: true, value: { type, body: { nonce: o.nonce, ct: o.ct } } };
    case 'dialback':
      return decodeDialback(o);
    case 'contact_req': {
      if (o.to !== null && !isUuid(o.to)) return fail('contact_req: "to" must be a UUID or null');
      if (!isHops(o.hops) || o.hops < 1) return fail(`contact_req: "hops" must be an integer 1..${MAX_WIRE_HOPS}`);
      const body: ContactReqBody = { to: o.to as string | null, hops: o.hops };
      if (o.invite !== undefined) {
        if (!isB64u(o.invite, 11, 11)) return fail('contact_req: "invite" must be an 8-byte id in base64url');
        if (!isB64u(o.encrypted, 1, 4096)) return fail('contact_req: "encrypted" is required with "invite"');
        body.invite = o.invite;
        body.encrypted = o.encrypted;
      } else {
        const card = decodeCard(o.card);
        if (!card) return fail('contact_req: needs "invite" + "encrypted", or a valid "card"');
        if (o.to !== null && o.to !== undefined) body.to = o.to as string;
        body.card = card;
      }
      return { ok: true, value: { type, body } };
    }
    case 'relay':
      if (!isUuid(o.from) || !isUuid(o.to)) return fail('relay: "from" and "to" must be UUIDs');
      if (!isB64u(o.sealed, 1, MAX_BODY_BYTES)) return fail('relay: "sealed" must be base64url');
      return { ok: true, value: { type, body: { from: o.from, to: o.to, sealed: o.sealed } } };
    case 'introduce':
      if (!isB64u(o.invite, 11, 11)) return fail('introduce: "invite" must be an 8-byte id in base64url');
      if (typeof o.expiresAt !== 'number' || !Number.isSafeInteger(o.expiresAt) || o.expiresAt < 0)
        return fail('introduce: "expiresAt" must be unix ms');
      return { ok: true, value: { type, body: { invite: o.invite, expiresAt: o.expiresAt } } };
    case 'punch': {
      if (!isB64u(o.attempt, 22, 22)) return fail('punch: "attempt" must be 16 bytes in base64url (22 characters)');
      if (o.op === 'sync') return { ok: true, value: { type, body: { op: 'sync', attempt: o.attempt } } };
      if (o.op !== 'connect') return fail('punch: "op" must be "connect" or "sync"');
      const candidates = decodeCandidates(o.candidates);
      if (!candidates) return fail(`punch: "candidates" must be at most ${PUNCH_MAX_CANDIDATES} ip:port addresses`);
      return { ok: true, value: { type, body: { op: 'connect', attempt: o.attempt, candidates } } };
    }
  }
}

function decodeReferral(o: Record<string, unknown>): Decoded<RequestBody> {
  if (!isUuid(o.referent)) return fail('referral: "referent" must be a UUID');
  if (!isHops(o.hops)) return fail(`referral: "hops" must be an integer 0..${MAX_WIRE_HOPS}`);
  if (o.withdraw !== undefined && typeof o.withdraw !== 'boolean')
    return fail('referral: "withdraw" must be a boolean');
  if (o.digest !== undefined && (o.hops !== 0 || !isB64u(o.digest, 40, DIGEST_MAX_CHARS)))
    return fail(`referral: "digest" must be base64url (40..${DIGEST_MAX_CHARS} chars) on a presence announce`);
  const body: ReferralBody = { referent: o.referent, hops: o.hops, withdraw: o.withdraw === true };
  if (o.digest !== undefined) body.digest = o.digest as string;
  // §15 address info of a presence announce: optional, each field checked on its own.
  if (o.addr !== undefined) {
    if (!isAddress(o.addr)) return fail('referral: "addr" must be ip:port');
    body.addr = o.addr;
  }
  if (o.lan !== undefined) {
    if (!isAddress(o.lan)) return fail('referral: "lan" must be ip:port');
    body.lan = o.lan;
  }
  if (o.dialable !== undefined) {
    if (typeof o.dialable !== 'boolean') return fail('referral: "dialable" must be a boolean');
    body.dialable = o.dialable;
  }
  return { ok: true, value: { type: 'referral', body } };
}

function decodeDialback(o: Record<string, unknown>): Decoded<RequestBody> {
  if (!isB64u(o.nonce, 22, 22)) return fail('dialback: "nonce" must be 16 bytes base64url');
  if (o.op === 'probe') return { ok: true, value: { type: 'dialback', body: { op: 'probe', nonce: o.nonce } } };
  if (o.op !== 'ask') return fail('dialback: "op" must be "ask" or "probe"');
  if (!Number.isInteger(o.port) || (o.port as number) < 1 || (o.port as number) > 65535)
    return fail('dialback: "port" must be 1..65535');
  return { ok: true, value: { type: 'dialback', body: { op: 'ask', nonce: o.nonce, port: o.port as number } } };
}

/** A punch candidate list (docs/PROTOCOL.md §17.3): ≤ PUNCH_MAX_CANDIDATES "ip:port" strings; null when invalid. */
export function decodeCandidates(c: unknown): string[] | null {
  if (!Array.isArray(c) || c.length > PUNCH_MAX_CANDIDATES) return null;
  // IP literals only: a candidate is where a peer's router was seen, never a name to resolve.
  const ipLiteral = (a: string) => IP_LITERAL_RE.test(a.slice(0, a.lastIndexOf(':')));
  if (!c.every((a) => isAddress(a) && a.length <= 64 && ipLiteral(a))) return null;
  return c as string[];
}

/** Encodes a JSON value as UTF-8 bytes. */
export function encodeJson(value: unknown): Uint8Array {
  return textEncoder.encode(JSON.stringify(value));
}

/** Decodes UTF-8 JSON; null when invalid. */
export function decodeJson(bytes: Uint8Array): unknown {
  try {
    return JSON.parse(textDecoder.decode(bytes));
  } catch {
    return null;
  }
}

/** An error response body. */
export function errorBody(code: WireErrorCode, message: string): Uint8Array {
  const e: ErrorResponse = { error: code, message };
  return encodeJson(e);
}

/** A parsed response: 200 with its fields, or the failure code (the peer's wire code, `HTTP_<status>` or BAD_RESPONSE). */
export type ParsedResponse = { ok: true; value: OkResponse } | { ok: false; code: FailureCode; message: string };

/** Parses a response by status; never throws. */
export function decodeResponse(status: number, body: Uint8Array): ParsedResponse {
  const parsed = parseJsonObject(body);
  if (status !== 200) {
    if (parsed.ok && typeof parsed.value.error === 'string')
      return {
        ok: false,
        code: parsed.value.error.slice(0, 40),
        message: String(parsed.value.message ?? '').slice(0, 300),
      };
    return { ok: false, code: `HTTP_${status}`, message: 'no Mesh error body' };
  }
  if (!parsed.ok) return { ok: false, code: 'BAD_RESPONSE', message: parsed.message };
  const o = parsed.value;
  if (typeof o.observed !== 'string' || o.observed.length > MAX_ADDRESS_CHARS)
    return { ok: false, code: 'BAD_RESPONSE', message: 'response lacks "observed"' };
  if (o.secret !== undefined && !isB64u(o.secret, 43, 43))
    return { ok: false, code: 'BAD_RESPONSE', message: 'bad "secret"' };
  if (o.signature !== undefined && !isB64u(o.signature, 86, 86))
    return { ok: false, code: 'BAD_RESPONSE', message: 'bad "signature"' };
  if (o.data !== undefined && !isB64u(o.data, 1, MAX_ANSWER_DATA_CHARS))
    return { ok: false, code: 'BAD_RESPONSE', message: 'bad "data"' };
  return {
    ok: true,
    value: {
      observed: o.observed,
      secret: o.secret as string | undefined,
      signature: o.signature as string | undefined,
      data: o.data as string | undefined,
    },
  };
}
