/** Invite codes: `mesh1-` + base64url of a compact binary record; invite id and key from the secret. */
import { isIPv4 } from 'node:net';
import { MeshError } from '../errors.ts';
import { fromB64u, toB64u } from './b64u.ts';
import { hkdf, sha256, utf8 } from './hash.ts';
import { isUuid, uuidFromBytes, uuidToBytes } from './uuid.ts';

const EMPTY = new Uint8Array(0);
const PREFIX = 'mesh1-';
const VERSION = 1;
const T_V4 = 4;
const T_V6 = 6;
const T_HOST = 0x68;
const HOST_RE =
  /^[\p{L}\p{N}_](?:[\p{L}\p{N}_-]*[\p{L}\p{N}_])?(?:\.[\p{L}\p{N}_](?:[\p{L}\p{N}_-]*[\p{L}\p{N}_])?)*\.?$/u;
const PORT_RE = /^(?:0|[1-9][0-9]{0,4})$/;
const decoder = new TextDecoder('utf-8', { fatal: true });

/** A decoded invite: who invites, the one-time secret, expiry and where to reach them. */
export interface InviteCode {
  /** Inviter's uuid (UUIDv8). */
  uuid: string;
  /** 16-byte one-time invite secret. */
  secret: Uint8Array;
  /** Expiry, unix ms (carried with one-second precision, rounded down). */
  expiresAt: number;
  /** Addresses as "ip:port", "[v6]:port" or "host.name:port". */
  addresses: string[];
  /** Optional domain name of the inviter, or null. */
  domain: string | null;
}

/** Public invite id: base64url of the first 8 bytes of SHA-256(secret). */
export function inviteId(secret: Uint8Array): string {
  return toB64u(sha256(secret).subarray(0, 8));
}

/** Invite key: HKDF-SHA256(ikm = secret, info "mesh-v1-invite"), 32 bytes. */
export function inviteKey(secret: Uint8Array): Uint8Array {
  return hkdf(secret, EMPTY, utf8('mesh-v1-invite'));
}

/** Parses an IPv6 literal (no zone) into 16 bytes, or null. */
export function parseIPv6(s: string): Uint8Array | null {
  if (!/^[0-9a-fA-F:.]+$/.test(s)) return null;
  const out = new Uint8Array(16);
  const halves = s.split('::');
  if (halves.length > 2) return null;
  const parseGroups = (part: string): number[] | null => {
    if (part === '') return [];
    const groups: number[] = [];
    const items = part.split(':');
    for (let i = 0; i < items.length; i++) {
      const it = items[i];
      if (i === items.length - 1 && it.includes('.')) {
        if (!isIPv4(it)) return null;
        const b = it.split('.').map(Number);
        groups.push((b[0] << 8) | b[1], (b[2] << 8) | b[3]);
      } else if (/^[0-9a-fA-F]{1,4}$/.test(it)) {
        groups.push(Number.parseInt(it, 16));
      } else return null;
    }
    return groups;
  };
  const head = parseGroups(halves[0]);
  const tail = halves.length === 2 ? parseGroups(halves[1]) : [];
  if (!head || !tail) return null;
  const n = head.length + tail.length;
  if (halves.length === 2 ? n > 7 : n !== 8) return null;
  const groups = [...head, ...new Array(8 - n).fill(0), ...tail];
  for (let i = 0; i < 8; i++) {
    out[2 * i] = groups[i] >> 8;
    out[2 * i + 1] = groups[i] & 0xff;
  }
  return out;
}

/** Formats 16 bytes as a canonical (RFC 5952) IPv6 literal. */
export function formatIPv6(b: Uint8Array): string {
  const g: number[] = [];
  for (let i = 0; i < 8; i++) g.push((b[2 * i] << 8) | b[2 * i + 1]);
  let bestStart = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (g[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = (xs: number[]) => xs.map((x) => x.toString(16)).join(':');
  if (bestStart < 0) return hex(g);
  return `${hex(g.slice(0, bestStart))}::${hex(g.slice(bestStart + bestLen))}`;
}

function bad(why: string): never {
  throw MeshError.badInvite(why);
}

function isHostname(s: string): boolean {
  return s.length > 0 && HOST_RE.test(s) && !isIPv4(s) && utf8(s).length <= 255;
}

function parsePort(s: string): number | null {
  if (!PORT_RE.test(s)) return null;
  const p = Number(s);
  return p <= 65535 ? p : null;
}

function encodeAddress(addr: string): number[] {
  const fail = () => {
    throw MeshError.invalidArgument(`invite address "${addr}" is not ip:port, [v6]:port or host:port`);
  };
  const colon = addr.lastIndexOf(':');
  if (colon < 0) return fail();
  const host = addr.slice(0, colon);
  const port = parsePort(addr.slice(colon + 1));
  if (port === null) return fail();
  const p = [port >> 8, port & 0xff];
  if (host.startsWith('[') && host.endsWith(']')) {
    const v6 = parseIPv6(host.slice(1, -1));
    if (!v6) return fail();
    return [T_V6, ...v6, ...p];
  }
  if (isIPv4(host)) return [T_V4, ...host.split('.').map(Number), ...p];
  if (!isHostname(host)) return fail();
  const h = utf8(host);
  return [T_HOST, h.length, ...h, ...p];
}

/** Encodes an invite as `mesh1-` + base64url(binary); throws MeshError.invalidArgument on bad fields. */
export function encodeInvite(c: InviteCode): string {
  if (!isUuid(c.uuid)) throw MeshError.invalidArgument('invite uuid is not a uuid');
  const u = uuidToBytes(c.uuid);
  if (u[6] >> 4 !== 8 || (u[8] & 0xc0) !== 0x80) throw MeshError.invalidArgument('invite uuid is not a UUIDv8');
  if (!(c.secret instanceof Uint8Array) || c.secret.length !== 16) {
    throw MeshError.invalidArgument('invite secret must be 16 bytes');
  }
  const secs = Math.floor(c.expiresAt / 1000);
  if (!Number.isFinite(secs) || secs < 0 || secs > 0xffffffff)
    throw MeshError.invalidArgument('invite expiry out of range');
  if (c.addresses.length > 255) throw MeshError.invalidArgument('too many invite addresses');
  const bytes: number[] = [
    VERSION,
    ...u,
    ...c.secret,
    secs >>> 24,
    (secs >>> 16) & 0xff,
    (secs >>> 8) & 0xff,
    secs & 0xff,
  ];
  bytes.push(c.addresses.length);
  for (const a of c.addresses) bytes.push(...encodeAddress(a));
  if (c.domain !== null) {
    if (!isHostname(c.domain)) throw MeshError.invalidArgument('invite domain is not a host name');
    const d = utf8(c.domain);
    bytes.push(d.length, ...d);
  }
  return PREFIX + toB64u(Uint8Array.from(bytes));
}

/** Pulls the `mesh1-...` code out of a bare code, `mesh:` URI or link fragment. */
function extractCode(input: string): string {
  let s = input.trim();
  const hash = s.indexOf('#');
  if (hash >= 0) s = s.slice(hash + 1);
  else if (/^mesh:/i.test(s)) s = s.slice(5).replace(/^\/\//, '');
  s = s.replace(/\s+/g, '');
  if (!s.startsWith(PREFIX)) bad('it does not start with "mesh1-"');
  return s.slice(PREFIX.length);
}

/** Decodes an invite code (bare, `mesh:` URI or link with `#mesh1-...`); throws MeshError.badInvite. Expiry is not checked. */
export function decodeInvite(code: string): InviteCode {
  if (typeof code !== 'string') bad('it is not text');
  let b: Uint8Array;
  try {
    b = fromB64u(extractCode(code));
  } catch (e) {
    if (e instanceof MeshError && e.code === 'BAD_INVITE') throw e;
    return bad('it contains characters that do not belong in a code');
  }
  let o = 0;
  const take = (n: number): Uint8Array => {
    if (o + n > b.length) bad('it is cut short');
    const r = b.subarray(o, o + n);
    o += n;
    return r;
  };
  const byte = () => take(1)[0];
  const u16 = () => {
    const x = take(2);
    return (x[0] << 8) | x[1];
  };
  const text = (n: number): string => {
    try {
      return decoder.decode(take(n));
    } catch (e) {
      if (e instanceof MeshError) throw e;
      return bad('it holds invalid text');
    }
  };
  const version = byte();
  if (version !== VERSION) bad(`unsupported invite version ${version}`);
  const u = take(16);
  if (u[6] >> 4 !== 8 || (u[8] & 0xc0) !== 0x80) bad('the uuid is not a Mesh uuid (UUIDv8)');
  const uuid = uuidFromBytes(u);
  const secret = take(16).slice();
  const t = take(4);
  const expiresAt = (((t[0] << 24) | (t[1] << 16) | (t[2] << 8) | t[3]) >>> 0) * 1000;
  const count = byte();
  const addresses: string[] = [];
  for (let i = 0; i < count; i++) {
    const type = byte();
    if (type === T_V4) {
      const ip = Array.from(take(4)).join('.');
      addresses.push(`${ip}:${u16()}`);
    } else if (type === T_V6) {
      const ip = formatIPv6(take(16));
      addresses.push(`[${ip}]:${u16()}`);
    } else if (type === T_HOST) {
      const len = byte();
      const host = text(len);
      if (!isHostname(host)) bad('an address is not a valid host name');
      addresses.push(`${host}:${u16()}`);
    } else bad(`unknown address type ${type}`);
  }
  let domain: string | null = null;
  if (o < b.length) {
    const len = byte();
    domain = text(len);
    if (!isHostname(domain)) bad('the domain is not a valid host name');
    if (o !== b.length) bad('it has extra bytes at the end');
  }
  return { uuid, secret, expiresAt, addresses, domain };
}
