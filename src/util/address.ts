/**
 * The one parser and formatter of Mesh addresses: "ip:port", "[ipv6]:port" or "host:port" (a peer
 * with a domain). The core, the transports and the runtime all split and join addresses here.
 *
 *   parseAddress('[fe80::1]:7575') // { host: 'fe80::1', port: 7575 }
 *   formatAddress({ host: 'fe80::1', port: 7575 }) // '[fe80::1]:7575'
 */
import { isIP } from 'node:net';
import { MeshError } from '../errors.ts';

/** The Mesh port (docs/PROTOCOL.md: "POST to port 7575"); protocol/constants.ts DEFAULT_PORT is this value. */
export const MESH_PORT = 7575;

/** A Mesh address split into host (no brackets) and port. */
export interface HostPort {
  host: string;
  port: number;
}

/**
 * Parses "ip:port", "[v6]:port", "host:port", or a bare host / IPv6 when `defaultPort` is given.
 * Throws TypeError on anything else (see `tryParseAddress` for remote input).
 */
export function parseAddress(address: string, defaultPort?: number): HostPort {
  const parsed = tryParseAddress(address, defaultPort);
  if (!parsed) throw new TypeError(`Bad address "${address}": expected ip:port, [ipv6]:port or host:port`);
  return parsed;
}

/** Like `parseAddress`, but null instead of a throw (for addresses that came from the network). */
export function tryParseAddress(address: string, defaultPort?: number): HostPort | null {
  const a = address.trim();
  let host: string;
  let portStr: string | undefined;
  if (a.startsWith('[')) {
    const end = a.indexOf(']');
    if (end < 0) return null;
    host = a.slice(1, end);
    const rest = a.slice(end + 1);
    if (rest !== '' && !rest.startsWith(':')) return null;
    portStr = rest === '' ? undefined : rest.slice(1);
  } else if (isIP(a) === 6) {
    // A bare IPv6 address: its colons are not a port separator.
    host = a;
  } else {
    const i = a.lastIndexOf(':');
    host = i < 0 ? a : a.slice(0, i);
    portStr = i < 0 ? undefined : a.slice(i + 1);
  }
  const port = portStr === undefined ? defaultPort : /^\d{1,5}$/.test(portStr) ? Number(portStr) : Number.NaN;
  if (host === '' || port === undefined || !Number.isInteger(port) || port < 1 || port > 65535) return null;
  return { host, port };
}

/** Formats host and port as an address, bracketing IPv6 (any host with a colon). */
export function formatAddress({ host, port }: HostPort): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

/** The IP (or host) part of an address; the input itself when it does not parse. */
export function hostOf(address: string): string {
  return tryParseAddress(address)?.host ?? address;
}

/** Parses a bootstrap URL into the peer's address and domain ("https://peer.example:7575", "peer.example", "203.0.113.5:7575"). */
export function parseBootstrap(url: string): { address: string; domain: string | null } {
  const withScheme = /^[a-z]+:\/\//i.test(url) ? url : `https://${url}`;
  let u: URL;
  try {
    u = new URL(withScheme);
  } catch {
    throw MeshError.invalidArgument(`not a bootstrap URL: ${url} (expected https://name:7575)`);
  }
  const host = u.hostname.replace(/^\[|\]$/g, '');
  const port = Number(u.port || MESH_PORT);
  const isIp = /^[\d.]+$/.test(host) || host.includes(':');
  return { address: formatAddress({ host, port }), domain: isIp ? null : host };
}

/**
 * True for an address in a private range a stranger on the internet cannot dial: RFC 1918
 * (10/8, 172.16/12, 192.168/16), carrier-grade NAT (100.64/10), link-local (169.254/16), IPv6 ULA
 * (fc00::/7) and link-local (fe80::/10). Loopback and public addresses are not private.
 */
export function isPrivateAddress(address: string): boolean {
  const host = tryParseAddress(address)?.host ?? address;
  const m = /^(\d+)\.(\d+)\.\d+\.\d+$/.exec(host);
  if (m) {
    const [a, b] = [Number(m[1]), Number(m[2])];
    return (
      a === 10 ||
      (a === 172 && b >= 16 && b <= 31) ||
      (a === 192 && b === 168) ||
      (a === 100 && b >= 64 && b <= 127) ||
      (a === 169 && b === 254)
    );
  }
  const h = host.toLowerCase();
  return /^f[cd][0-9a-f]{0,2}:/.test(h) || /^fe[89ab][0-9a-f]?:/.test(h);
}
