/**
 * The key every per-source budget is counted under (connections, TLS handshakes, requests): one
 * IPv4 address, or one IPv6 /64. An IPv6 host normally gets a whole /64 and picks addresses in it at
 * will (privacy addresses, RFC 8981), so per-address limits on IPv6 are no limits (issue 12 #10).
 * Pure: no I/O.
 *
 *   ipGroup('203.0.113.5')          // '203.0.113.5'
 *   ipGroup('2001:db8:1:2:a::1')    // '2001:db8:1:2::/64'
 *   ipGroup('::ffff:203.0.113.5')   // '203.0.113.5' (an IPv4 client on a dual-stack socket)
 */
import { isIP } from 'node:net';

/** The budget key of an IP: IPv4 → the address, IPv6 → its /64, IPv4-mapped IPv6 → the IPv4; other text as given. */
export function ipGroup(ip: string): string {
  const bare = ip.includes('%') ? ip.slice(0, ip.indexOf('%')) : ip; // a zone id names an interface, not a host
  const family = isIP(bare);
  if (family === 4) return bare;
  if (family !== 6) return ip;
  const h = hextets(bare.toLowerCase());
  if (!h) return ip;
  if (h[0] === 0 && h[1] === 0 && h[2] === 0 && h[3] === 0 && h[4] === 0 && h[5] === 0xffff) {
    return `${h[6] >> 8}.${h[6] & 0xff}.${h[7] >> 8}.${h[7] & 0xff}`;
  }
  return `${h
    .slice(0, 4)
    .map((x) => x.toString(16))
    .join(':')}::/64`;
}

/** The eight 16-bit groups of a valid IPv6 address (`isIP` said 6), dotted IPv4 tail included. */
function hextets(ip: string): number[] | null {
  const parse = (part: string): number[] => {
    if (part === '') return [];
    const out: number[] = [];
    for (const g of part.split(':')) {
      if (g.includes('.')) {
        const [a, b, c, d] = g.split('.').map(Number);
        out.push((a << 8) | b, (c << 8) | d);
      } else out.push(Number.parseInt(g, 16));
    }
    return out;
  };
  const gap = ip.indexOf('::');
  const head = parse(gap < 0 ? ip : ip.slice(0, gap));
  const tail = gap < 0 ? [] : parse(ip.slice(gap + 2));
  const zeros = 8 - head.length - tail.length;
  if (zeros < 0 || (gap < 0 && zeros !== 0)) return null;
  return [...head, ...new Array<number>(zeros).fill(0), ...tail];
}
