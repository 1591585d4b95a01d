/**
 * The part of the `ws` (v8) API the channel binding uses. `ws` ships no types and `@types/ws` is not
 * installed; these declarations follow ws/doc/ws.md for the members used here.
 */
declare module 'ws' {
  import type { EventEmitter } from 'node:events';
  import type { ClientRequest, IncomingMessage } from 'node:http';
  import type { Duplex } from 'node:stream';

  class WebSocket extends EventEmitter {
    /** readyState value of an open connection. */
    static readonly OPEN: 1;
    constructor(address: string, options?: WebSocket.ClientOptions);
    readonly readyState: 0 | 1 | 2 | 3;
    /** Bytes queued but not yet written to the socket. */
    readonly bufferedAmount: number;
    send(data: Uint8Array, options?: { binary?: boolean }, cb?: (err?: Error) => void): void;
    close(code?: number, reason?: string): void;
    terminate(): void;
    ping(data?: Uint8Array): void;
    on(event: 'message', listener: (data: Buffer, isBinary: boolean) => void): this;
    on(event: 'close', listener: (code: number, reason: Buffer) => void): this;
    on(event: 'error', listener: (err: Error) => void): this;
    on(event: 'open' | 'pong', listener: () => void): this;
    on(event: 'unexpected-response', listener: (req: ClientRequest, res: IncomingMessage) => void): this;
    once(event: 'open', listener: () => void): this;
    once(event: 'error', listener: (err: Error) => void): this;
    once(event: 'unexpected-response', listener: (req: ClientRequest, res: IncomingMessage) => void): this;
  }

  namespace WebSocket {
    /** Client options (a subset). */
    interface ClientOptions {
      /** Returns the (already connected) socket the upgrade request is written to. */
      createConnection?: (...args: unknown[]) => Duplex;
      perMessageDeflate?: boolean;
      maxPayload?: number;
      handshakeTimeout?: number;
      headers?: Record<string, string>;
    }
    /** Server options (a subset). */
    interface ServerOptions {
      perMessageDeflate?: boolean;
      maxPayload?: number;
    }
    /** The server type @fastify/websocket exposes. */
    interface Server {
      clients: Set<WebSocket>;
    }
    type WebSocketInstance = InstanceType<typeof WebSocket>;

    export { WebSocketInstance as WebSocket };
  }

  export = WebSocket;
}
