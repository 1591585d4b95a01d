/**
 * Self-signed TLS certificate whose key is the node's Ed25519 identity key, so a client that knows
 * a contact's signPub can pin the server certificate to it.
 */
import { createPrivateKey, createPublicKey, randomBytes, webcrypto } from 'node:crypto';
import type { TLSSocket } from 'node:tls';

/**
 * @peculiar/x509 (with the reflect-metadata polyfill it needs) costs ~14 MB and ~0.3 s to load, and
 * only certificate creation uses it: load it on first use so the transport, the CLI and a daemon
 * that reuses its stored certificate never pay for it.
 */
async function loadX509(): Promise<typeof import('@peculiar/x509')> {
  await import('reflect-metadata');
  const x509 = await import('@peculiar/x509');
  x509.cryptoProvider.set(webcrypto as unknown as Crypto);
  return x509;
}

/** PKCS#8 DER prefix for a raw 32-byte Ed25519 seed. */
const PKCS8_ED25519_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');
/** SPKI DER prefix for a raw 32-byte Ed25519 public key. */
const SPKI_ED25519_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');

/** Default validity start: fixed and in the past so clock skew never makes a fresh cert "not yet valid". */
export const CERT_NOT_BEFORE = new Date('2024-01-01T00:00:00Z');
/** Default validity end: RFC 5280 §4.1.2.5 "no well-defined expiration" (the pin, not the date, is the trust). */
export const CERT_NOT_AFTER = new Date('9999-12-31T23:59:59Z');

/** A certificate and its private key, both PEM. */
export interface CertPem {
  certPem: string;
  keyPem: string;
}

/** PKCS#8 DER of an Ed25519 private key from its raw 32-byte seed. */
export function ed25519Pkcs8(seed: Uint8Array): Buffer {
  if (seed.byteLength !== 32) throw new TypeError('Ed25519 private key (seed) must be 32 bytes');
  return Buffer.concat([PKCS8_ED25519_PREFIX, seed]);
}

/** SPKI DER of an Ed25519 public key from its raw 32 bytes. */
export function ed25519Spki(pub: Uint8Array): Buffer {
  if (pub.byteLength !== 32) throw new TypeError('Ed25519 public key must be 32 bytes');
  return Buffer.concat([SPKI_ED25519_PREFIX, pub]);
}

/** Raw 32-byte Ed25519 public key from an SPKI DER, or null when the key is not Ed25519. */
export function rawEd25519FromSpki(spki: Uint8Array): Uint8Array | null {
  if (spki.byteLength !== 44) return null;
  if (!Buffer.from(spki.subarray(0, 12)).equals(SPKI_ED25519_PREFIX)) return null;
  return spki.subarray(12);
}

/** PEM-encodes DER bytes under `label`. */
export function toPem(der: Uint8Array, label: string): string {
  const b64 = Buffer.from(der).toString('base64');
  const lines = b64.match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`;
}

/** Random positive 16-byte serial number, hex. */
export function randomSerial(): string {
  const b = randomBytes(16);
  b[0] &= 0x7f;
  b[0] |= 0x01;
  return b.toString('hex');
}

/**
 * Creates a self-signed X.509 certificate for the Ed25519 identity key (`signPriv` = raw seed,
 * `signPub` = raw public key; they must match). Async because WebCrypto signing is.
 */
export async function createSelfSignedCert(
  signPriv: Uint8Array,
  signPub: Uint8Array,
  opts: { commonName?: string; notBefore?: Date; notAfter?: Date } = {},
): Promise<CertPem> {
  const pkcs8 = ed25519Pkcs8(signPriv);
  const spki = ed25519Spki(signPub);
  const derived = createPublicKey(createPrivateKey({ key: pkcs8, format: 'der', type: 'pkcs8' })).export({
    format: 'der',
    type: 'spki',
  });
  if (!derived.equals(spki)) throw new TypeError('signPub does not belong to signPriv');

  const x509 = await loadX509();
  const alg = { name: 'Ed25519' };
  const privateKey = await webcrypto.subtle.importKey('pkcs8', pkcs8, alg, false, ['sign']);
  const publicKey = await webcrypto.subtle.importKey('spki', spki, alg, true, ['verify']);
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: randomSerial(),
    name: `CN=${opts.commonName ?? 'mesh-node'}`,
    notBefore: opts.notBefore ?? CERT_NOT_BEFORE,
    notAfter: opts.notAfter ?? CERT_NOT_AFTER,
    signingAlgorithm: alg,
    keys: { privateKey, publicKey } as CryptoKeyPair,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth, x509.ExtendedKeyUsage.clientAuth]),
    ],
  });
  return { certPem: cert.toString('pem'), keyPem: toPem(pkcs8, 'PRIVATE KEY') };
}

/** Raw Ed25519 key of a TLS peer's certificate, or null (absent / not Ed25519). */
export function peerEd25519(socket: TLSSocket): Buffer | null {
  const cert = socket.getPeerX509Certificate?.();
  if (!cert) return null;
  const raw = rawEd25519FromSpki(cert.publicKey.export({ format: 'der', type: 'spki' }));
  return raw ? Buffer.from(raw) : null;
}
