/**
 * Notices address changes (docs/PROTOCOL.md §15.5) and keeps the port mapping: polls the local
 * interfaces (a move to another network) and the router's external IP (a new WAN address) every
 * ADDRESS_POLL_MS, and hands changes to the core as `address` / `mapping` commands, which announce
 * them through the IP-change flow. Changes seen by contacts (NAT rebinding) reach the core through
 * their answers' `observed` instead.
 */

import { setTimeout as sleep } from 'node:timers/promises';
import type { ChannelTransport, Logger } from '../ports.ts';
import { ADDRESS_POLL_MS, WAN_PROBE_MS } from '../protocol/constants.ts';
import type { Command } from '../protocol/events.ts';
import type { NatState } from '../protocol/state.ts';
import { formatAddress, hostOf, parseAddress } from '../util/address.ts';
import type { PortMapper, PortMappingStatus } from './port-mapping.ts';

/**
 * After a move, how long the announce waits for the new router's port mapping so that one announce
 * carries it, ms. NAT-PMP answers in one round trip; a slower router's mapping follows in a second announce.
 */
const MOVE_MAPPING_WAIT_MS = 1_000;

/** The watcher of one running node. */
export class NatWatch {
  #timer: NodeJS.Timeout | null = null;
  #busy = false;
  #local: string;
  #external: string | null = null;
  #stopped = false;
  #probedAt = Date.now();

  constructor(
    private readonly localAddress: () => string,
    private readonly command: (c: Command) => Promise<unknown>,
    private readonly mapper: PortMapper | null,
    private readonly log: Logger,
    /** Poll the interfaces (only when listening on a wildcard address). */
    private readonly watchInterfaces: boolean,
    private readonly pollMs = ADDRESS_POLL_MS,
    /**
     * The node's transport (a move drops its connections: `networkChanged`; behind a NAT without a
     * mapping, `probeChannel` every WAN_PROBE_MS finds a new WAN address) and the core's NAT state.
     */
    private readonly node: { transport: Partial<ChannelTransport>; nat: () => NatState } | null = null,
  ) {
    this.#local = localAddress();
  }

  /** The port mapping in force, or null. */
  get mapping(): PortMappingStatus | null {
    return this.mapper?.status ?? null;
  }

  /** Maps the port (when asked to) and starts polling. */
  async start(): Promise<void> {
    await this.#map();
    this.#timer = setInterval(() => void this.#poll(), this.pollMs);
    this.#timer.unref();
  }

  async #map(): Promise<void> {
    if (!this.mapper) return;
    const m = await this.mapper.start();
    // Stopped while the router answered: remove what it just granted (stop() found nothing yet).
    if (this.#stopped) return void (await this.mapper.stop());
    this.#external = m?.external ?? null;
    await this.command({ kind: 'mapping', external: this.#external }).catch(() => {});
  }

  async #poll(): Promise<void> {
    if (this.#busy || this.#stopped) return;
    if (this.node && Date.now() - this.#probedAt >= WAN_PROBE_MS) {
      this.#probedAt = Date.now();
      // Only behind a NAT without a mapping: others see their address locally or at the router.
      const nat = this.node.nat();
      if (!nat.mapping && nat.observedHost !== null && nat.local && nat.observedHost !== hostOf(nat.local))
        this.node.transport.probeChannel?.();
    }
    this.#busy = true;
    try {
      if (this.watchInterfaces) {
        const local = this.localAddress();
        if (local !== this.#local) {
          this.log.info({ from: this.#local, to: local }, 'local address changed');
          this.#local = local;
          // Every connection from the old address is dead without a word: drop them, redial now.
          this.node?.transport.networkChanged?.();
          if (!this.mapper) {
            await this.command({ kind: 'address', addresses: [local] }).catch(() => {});
            return;
          }
          // Another network, maybe another router: the old mapping went with the old one. A router
          // that maps at once (NAT-PMP answers in one round trip) makes one announce carry both.
          this.mapper.abandon();
          this.#external = null;
          const mapping = this.mapper.start();
          const quick = await Promise.race([mapping, sleep(MOVE_MAPPING_WAIT_MS).then(() => undefined)]);
          if (this.#stopped) {
            await mapping;
            return void (await this.mapper.stop());
          }
          this.#external = quick?.external ?? null;
          await this.command({ kind: 'address', addresses: [local], mapping: this.#external }).catch(() => {});
          if (quick === undefined) {
            const m = await mapping;
            if (this.#stopped) return void (await this.mapper.stop());
            if (!m) return;
            this.#external = m.external;
            await this.command({ kind: 'mapping', external: m.external }).catch(() => {});
          }
          return;
        }
      }
      if (this.mapper?.status) {
        const ip = await this.mapper.externalIp();
        const current = this.#external;
        if (ip && current && parseAddress(current).host !== ip) {
          const next = formatAddress({ host: ip, port: parseAddress(current).port });
          this.log.info({ from: current, to: next }, 'router external address changed');
          this.#external = next;
          // Every connection through the router used the old address: outbound ones reset on their
          // next packet, inbound mapped ones go half dead (our side still reaches the peer from the
          // old address; nothing comes back). Drop them all and redial, as after a move.
          this.node?.transport.networkChanged?.();
          await this.command({ kind: 'mapping', external: next }).catch(() => {});
        }
      }
    } finally {
      this.#busy = false;
    }
  }

  /** Stops polling and removes the mapping. */
  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer) clearInterval(this.#timer);
    await this.mapper?.stop();
  }
}
