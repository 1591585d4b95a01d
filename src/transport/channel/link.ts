/**
 * What a binding (WebSocket over TLS, or the memory network) gives the channel engine: an ordered,
 * message-framed, bidirectional pipe plus the session's exporter value. The engine
 * (`channel.ts`, `hub.ts`) does the handshake, framing and multiplexing once for every binding.
 */

/** One connection under a channel, already pinned (dialer) or accepted (listener), not yet authenticated. */
export interface ChannelLink {
  /**
   * 32 bytes both ends of this one connection share and nobody else has: the TLS 1.3 exporter
   * (RFC 8446 §7.5, label `EXPORTER-mesh-channel`), or a random value per connection in memory.
   */
  readonly exporter: Uint8Array;
  /** Remote socket address "ip:port" as this end sees it. */
  readonly remote: string;
  /** Sends one message (a frame). Dropped silently once the link is closing. */
  send(bytes: Uint8Array): void;
  /** Closes with a close code and a short reason (both reach the other end). */
  close(code: number, reason: string): void;
  /** Drops the connection at once without a close handshake (dead peer). */
  terminate(): void;
  /** Sends a keep-alive ping; the answer arrives as `onPong`. */
  ping(): void;
  /** Stops reading from the connection (backpressure: the peer's sends wait in TCP buffers). Optional. */
  pause?(): void;
  /** Reads again after `pause`. Optional. */
  resume?(): void;
  /** Set by the engine: one whole message arrived. */
  onMessage: (bytes: Uint8Array) => void;
  /** Set by the engine: the link closed (called once) with the close code and reason. */
  onClose: (code: number, reason: string) => void;
  /** Set by the engine: a pong arrived. */
  onPong: () => void;
}

/** A binding's dialer: connects to `address`, checks the server key against `signPub`, resolves with the link. */
export type ChannelDialer = (address: string, signPub: Uint8Array) => Promise<ChannelLink>;
