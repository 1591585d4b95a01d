/**
 * Port mapping through the home router (docs/PROTOCOL.md §15.6): NAT-PMP/PCP first (one datagram
 * to the default gateway), then UPnP-IGD (SSDP discovery), with `@achingbrain/nat-port-mapper`,
 * which renews the lease before it expires. The external port is the listening port when the
 * router has it free. Loaded only when a node maps a port (`mesh start --no-port-mapping` skips it).
 */
import { readFileSync } from 'node:fs';
import { networkInterfaces } from 'node:os';
import type { Logger } from '../ports.ts';
import { PORT_MAPPING_TTL_MS } from '../protocol/constants.ts';
import { formatAddress } from '../util/address.ts';

/** A port mapping the router granted. */
export interface PortMappingStatus {
  protocol: 'nat-pmp' | 'upnp';
  /** The router we asked. */
  gateway: string;
  /** Our "ip:port" on the LAN. */
  internal: string;
  /** The router's "ip:port" that others dial. */
  external: string;
}

type Gateway = import('@achingbrain/nat-port-mapper').Gateway;

/** How long discovery may take before we decide the router offers no mapping, ms. */
const DISCOVERY_MS = 3_000;

/** The IPv4 default gateway from /proc/net/route (Linux), or null. */
export function defaultGateway(routeTable?: string): string | null {
  let text = routeTable;
  if (text === undefined) {
    try {
      text = readFileSync('/proc/net/route', 'utf8');
    } catch {
      return null;
    }
  }
  for (const line of text.split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f.length < 3 || f[1] !== '00000000' || f[2] === '00000000') continue;
    const n = Number.parseInt(f[2], 16);
    // Little-endian hex: the first octet is the lowest byte.
    return [n & 255, (n >>> 8) & 255, (n >>> 16) & 255, n >>> 24].join('.');
  }
  return null;
}

/** One port mapping kept on the router for the lifetime of a node. */
export class PortMapper {
  #gateway: Gateway | null = null;
  #status: PortMappingStatus | null = null;
  #renew: NodeJS.Timeout | undefined;

  constructor(
    private readonly port: number,
    private readonly log: Logger,
  ) {}

  /** The mapping in force, or null. */
  get status(): PortMappingStatus | null {
    return this.#status;
  }

  /** Finds the router and maps our port; null when no router offers a mapping. Never throws. */
  async start(): Promise<PortMappingStatus | null> {
    const lib = await import('@achingbrain/nat-port-mapper');
    const opts = { ttl: PORT_MAPPING_TTL_MS, description: 'mesh', autoRefresh: true };
    const gw = defaultGateway();
    if (gw) {
      const pmp = lib.pmpNat(gw, opts);
      const got = await this.#try(pmp, 'nat-pmp');
      if (got) return got;
      await pmp.stop().catch(() => {});
    }
    try {
      for await (const g of lib.upnpNat(opts).findGateways({ signal: AbortSignal.timeout(DISCOVERY_MS) })) {
        const got = await this.#try(g, 'upnp');
        if (got) return got;
        await g.stop().catch(() => {});
      }
    } catch (err) {
      this.log.debug({ err }, 'no UPnP gateway');
    }
    return null;
  }

  async #try(g: Gateway, protocol: PortMappingStatus['protocol']): Promise<PortMappingStatus | null> {
    try {
      const signal = AbortSignal.timeout(DISCOVERY_MS);
      const local = localAddressTowards(g.host);
      if (!local) return null;
      // The library's NAT-PMP client writes `ttl` into the request as seconds although it takes
      // (and refreshes by) milliseconds, so an hour became a 41-day lease: we give it seconds and
      // renew NAT-PMP leases ourselves. UPnP converts correctly and refreshes itself.
      const pmp = protocol === 'nat-pmp';
      const opts = { externalPort: this.port, protocol: 'tcp' as const, ...(pmp ? PMP_LEASE : {}) };
      const m = await g.map(this.port, local, { ...opts, signal });
      if (pmp) {
        this.#renew = setInterval(() => {
          g.map(this.port, local, { ...opts, signal: AbortSignal.timeout(DISCOVERY_MS) }).catch((err) =>
            this.log.debug({ err }, 'NAT-PMP renewal failed'),
          );
        }, PORT_MAPPING_TTL_MS / 2);
        this.#renew.unref();
      }
      const host = m.externalHost || (await g.externalIp({ signal: AbortSignal.timeout(DISCOVERY_MS) }));
      this.#gateway = g;
      this.#status = {
        protocol,
        gateway: g.host,
        internal: formatAddress({ host: local, port: this.port }),
        external: formatAddress({ host, port: m.externalPort }),
      };
      this.log.info(this.#status, 'port mapped');
      return this.#status;
    } catch (err) {
      this.log.debug({ err, protocol }, 'port mapping refused');
      return null;
    }
  }

  /** The router's external IP now (follows a WAN address change), or null. */
  async externalIp(): Promise<string | null> {
    if (!this.#gateway) return null;
    try {
      return await this.#gateway.externalIp({ signal: AbortSignal.timeout(DISCOVERY_MS) });
    } catch {
      return null;
    }
  }

  /**
   * Forgets the mapping without waiting for the router: we left its network (§15.5), so it cannot
   * answer. The unmap is still sent (it ends the lease early if the router hears it) in the background.
   */
  abandon(): void {
    const g = this.#gateway;
    this.#gateway = null;
    this.#status = null;
    clearInterval(this.#renew);
    if (g) void release(g, this.port);
  }

  /** Removes the mapping and stops lease renewal. */
  async stop(): Promise<void> {
    const g = this.#gateway;
    this.#gateway = null;
    this.#status = null;
    clearInterval(this.#renew);
    if (g) await release(g, this.port, this.log);
  }
}

/** NAT-PMP lease, in the seconds the library's NAT-PMP client actually sends; no library refresh. */
const PMP_LEASE = { ttl: PORT_MAPPING_TTL_MS / 1000, autoRefresh: false };

/**
 * Removes our mapping and closes the gateway's socket. The library unmaps by mapping with a zero
 * lease, which with autoRefresh on schedules yet another refresh; and its `stop()` closes the NAT-PMP
 * socket (bound to :5350) only when every unmap answered, so a daemon whose router was gone (or that
 * stopped mid-unmap) never exited. So: unmap without refresh (external port 0, RFC 6886 §3.4), then
 * stop, and close the socket regardless.
 */
async function release(g: Gateway, port: number, log?: Logger): Promise<void> {
  const signal = AbortSignal.timeout(DISCOVERY_MS);
  try {
    await g.unmap(port, { signal, autoRefresh: false, externalPort: 0 } as Parameters<Gateway['unmap']>[1]);
  } catch (err) {
    log?.debug({ err }, 'unmap failed');
  }
  await g.stop({ signal }).catch(() => {});
  try {
    (g as unknown as { socket?: { close(): void } }).socket?.close();
  } catch {
    // already closed
  }
}

/** Our IPv4 address on the gateway's /24 (the LAN side), or the first external IPv4. */
function localAddressTowards(gateway: string): string | null {
  const prefix = gateway.split('.').slice(0, 3).join('.');
  let first: string | null = null;
  for (const list of Object.values(networkInterfaces()))
    for (const a of list ?? []) {
      if (a.family !== 'IPv4' || a.internal) continue;
      if (a.address.startsWith(`${prefix}.`)) return a.address;
      first ??= a.address;
    }
  return first;
}
