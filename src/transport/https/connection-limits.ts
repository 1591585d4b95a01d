/**
 * Applies the per-source connection budgets (`../connection-guard.ts`) to the HTTPS server on its
 * TCP `connection` event, ahead of the TLS listener: a refused socket is destroyed before a single
 * TLS byte is read, so a flood of handshakes from one address or /64 costs an accept and a close.
 * A contact's authenticated channel is exempted once open (it no longer counts for its source).
 */
import type { Server } from 'node:https';
import type { Socket } from 'node:net';
import type { ChannelEvent, ChannelPeer, Logger } from '../../ports.ts';
import type { ConnectionGuard } from '../connection-guard.ts';
import { formatRemote } from '../edge.ts';

/** What {@link limitConnections} needs besides the server and the guard. */
export interface ConnectionLimitHooks {
  /** Whether a channel peer is a contact (its channel stops counting against its source). */
  trusted: (peer: ChannelPeer) => boolean;
  /** Subscribes to channel events of the node's hub (none without channels). */
  onChannel: (listener: (e: ChannelEvent) => void) => () => void;
  logger?: Logger;
}

/** Installs the guard on `server`; returns the uninstaller. */
export function limitConnections(server: Server, guard: ConnectionGuard, hooks: ConnectionLimitHooks): () => void {
  /** "ip:port" of each admitted socket → its exemption (the channel event names the remote, not the socket). */
  const exemptions = new Map<string, () => void>();
  const onConnection = (socket: Socket) => {
    const ip = socket.remoteAddress;
    if (!ip) return void socket.destroy(); // already gone
    const a = guard.admit(ip);
    if (!a.ok) {
      hooks.logger?.debug({ source: a.source, reason: a.reason }, 'mesh transport: connection refused');
      // resetAndDestroy: an RST, so the refused client learns at once and no TIME_WAIT stays here.
      if (typeof socket.resetAndDestroy === 'function') socket.resetAndDestroy();
      else socket.destroy();
      return;
    }
    const remote = formatRemote(ip, socket.remotePort ?? 0);
    exemptions.set(remote, a.exempt);
    socket.once('close', () => {
      a.release();
      if (exemptions.get(remote) === a.exempt) exemptions.delete(remote);
    });
  };
  // First in line: before the TLS listener wraps the socket and starts the handshake.
  server.prependListener('connection', onConnection);
  const off = hooks.onChannel((e) => {
    if (e.type !== 'channel:open' || e.dialled || !hooks.trusted(e.peer)) return;
    exemptions.get(e.remote)?.();
  });
  return () => {
    server.off('connection', onConnection);
    off();
  };
}
