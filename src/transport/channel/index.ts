/**
 * The channel engine shared by the HTTPS and memory transports (docs/PROTOCOL.md §13): HELLO handshake,
 * request/response multiplexing, one channel per pair, keep-alive and redial.
 *
 * @example
 * ```ts
 * const t = new HttpsTransport({ host: '127.0.0.2', port: 7575, signPriv, signPub, boxPub }); // boxPub enables channels
 * await t.listen(handler); // handler(req): req.channel = { signPub, boxPub, uuid } on a channel, null/absent on POST
 * t.onChannel((e) => console.log(e.type, e.peer.uuid)); // 'channel:open' | 'channel:close'
 * t.keepChannel('127.0.0.3:7575', { signPub: contact.signPub }); // dial now, redial with backoff on loss
 * await t.request({ address: '127.0.0.3:7575', headers, body, pin: { signPub: contact.signPub }, timeoutMs: 5000 });
 * // ↑ goes over the open channel to that key, else POST
 * ```
 */
export { buildHello, Channel, type ChannelIdentity, checkHello } from './channel.ts';
export { CHANNEL_HELLO_TIMEOUT_MS, CHANNEL_MAX, CHANNEL_PING_MS, CLOSE } from './constants.ts';
export { ChannelHub, type ChannelHubComponents, type ChannelInit } from './hub.ts';
export type { ChannelDialer, ChannelLink } from './link.ts';
