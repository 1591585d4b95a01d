/**
 * HTTPS transport for Mesh nodes.
 *
 * @example
 * ```ts
 * import { HttpsTransport } from './src/transport/https/index.ts';
 * const t = new HttpsTransport({ host: '0.0.0.0', port: 7575, signPriv, signPub });
 * const bound = await t.listen(async (req) => ({ status: 200, body: new TextEncoder().encode('{}') }));
 * const res = await t.request({
 *   address: '203.0.113.7:7575', headers: { 'mesh-version': '1' }, body, timeoutMs: 5000,
 *   pin: { signPub: contact.signPub }, // or { domain: 'peer.example' } for a peer with a CA certificate
 * });
 * await t.close();
 * ```
 */
export { CERT_NOT_AFTER, CERT_NOT_BEFORE, type CertPem, createSelfSignedCert } from './certificate.ts';
export { HttpsTransport, type HttpsTransportInit } from './https-transport.ts';
export { channelOverSocket, type PunchOptions, type PunchResult, type PunchRole, simultaneousOpen } from './punch.ts';
