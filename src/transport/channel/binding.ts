/**
 * The ChannelTransport methods both transports share: they only forward to the node's channel hub
 * (and the edge's contact trust). A transport without an identity's box key has no hub: POST only.
 */
import type { ChannelEvent, ChannelPeer } from '../../ports.ts';
import type { Edge } from '../edge.ts';
import type { ChannelHub } from './hub.ts';

/** Base of the HTTPS and memory transports: the channel half of `ChannelTransport`. */
export abstract class ChannelBinding {
  /** The channel binding; null without the identity's box key (a POST-only node, like a v1 peer). */
  protected abstract readonly hub: ChannelHub | null;
  /** The edge shared by both bindings (limits, budgets, handler guard). */
  protected abstract readonly edge: Edge;

  /** True when the channel binding is on (an identity's box key was given). */
  get channelsEnabled(): boolean {
    return this.hub !== null;
  }

  /** Keeps a channel to the node at `address` holding `pin.signPub`: dials now, redials with backoff on loss. */
  keepChannel(address: string, pin: { signPub: Uint8Array }): void {
    if (!this.hub) throw new TypeError(`${this.constructor.name}: channels need the identity's boxPub`);
    this.hub.keep(address, pin.signPub);
  }

  /** Stops keeping the channel to `signPub` and closes it. */
  releaseChannel(signPub: Uint8Array): void {
    this.hub?.release(signPub);
  }

  /** The peer of the open channel to `signPub`, or null. */
  channelTo(signPub: Uint8Array): ChannelPeer | null {
    return this.hub?.channelTo(signPub) ?? null;
  }

  /** Trusted channel peers (contacts) skip the per-IP limit and are held to a budget instead. */
  trustChannels(trusted: (peer: ChannelPeer) => boolean): void {
    this.hub?.trust(trusted);
  }

  /** Contacts' POSTs (Mesh-Secret from these uuids) get a budget instead of the per-IP limit. */
  trustSenders(trusted: (uuid: string) => boolean): void {
    this.edge.trustSenders(trusted);
  }

  /** Our local address changed: connections from the old one are dead; drop them and redial kept channels now. */
  networkChanged(): void {
    this.hub?.reset();
  }

  /** Pings one channel we dialled to a public address (a new WAN address shows as its reset); false when none. */
  probeChannel(): boolean {
    return this.hub?.probeOne() ?? false;
  }

  /** Subscribes to `channel:open` / `channel:close`. */
  onChannel(listener: (event: ChannelEvent) => void): () => void {
    return this.hub ? this.hub.on(listener) : () => {};
  }
}
