/**
 * Writing the edge's replies (src/transport/edge.ts) on the HTTPS server: through fastify, or raw on
 * a socket (an upgrade refused before fastify saw it).
 */
import type { Socket } from 'node:net';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { type EdgeReply, formatRemote } from '../edge.ts';

/** The remote "ip:port" of a request's socket. */
export function remoteOf(req: FastifyRequest): string {
  const s = req.raw.socket;
  return formatRemote(s.remoteAddress ?? req.ip ?? '0.0.0.0', s.remotePort ?? 0);
}

/** Writes an edge reply (status, headers, body) through fastify. */
export function sendReply(reply: FastifyReply, r: EdgeReply): FastifyReply {
  return reply
    .code(r.status)
    .headers(r.headers)
    .send(Buffer.from(r.body.buffer, r.body.byteOffset, r.body.byteLength));
}

/** Writes an edge reply straight to a socket fastify never saw (a refused upgrade): then closes. */
export function writeRawReply(socket: Socket, r: EdgeReply): void {
  const head = [`HTTP/1.1 ${r.status} Bad Request`, `content-length: ${r.body.byteLength}`, 'connection: close'];
  for (const [k, v] of Object.entries(r.headers)) head.push(`${k}: ${v}`);
  socket.write(`${head.join('\r\n')}\r\n\r\n`);
  socket.write(r.body);
}
