/**
 * A throwaway certificate authority for tests of "peers with a domain": the peer serves a
 * CA-issued certificate for its DNS name and clients verify it normally (not by key pin).
 * ECDSA P-256 / SHA-256, which every TLS stack accepts in a chain.
 */
import 'reflect-metadata';
import { generateKeyPairSync, webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';
import { type CertPem, randomSerial, toPem } from './certificate.ts';

x509.cryptoProvider.set(webcrypto as unknown as Crypto);

const ALG = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' };

/** A test CA: its certificate (trust anchor) and signing key. */
export interface TestCa {
  certPem: string;
  keyPem: string;
  cert: x509.X509Certificate;
  keys: CryptoKeyPair;
}

const NOT_BEFORE = new Date('2024-01-01T00:00:00Z');

async function exportKeyPem(key: CryptoKey): Promise<string> {
  return toPem(new Uint8Array(await webcrypto.subtle.exportKey('pkcs8', key as webcrypto.CryptoKey)), 'PRIVATE KEY');
}

function generateKeys(): Promise<CryptoKeyPair> {
  return webcrypto.subtle.generateKey(ALG, true, ['sign', 'verify']) as unknown as Promise<CryptoKeyPair>;
}

/** Creates a self-signed test root CA (valid 2024–2124). */
export async function createTestCa(name = 'Mesh Test CA'): Promise<TestCa> {
  const keys = await generateKeys();
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: randomSerial(),
    name: `CN=${name}`,
    notBefore: NOT_BEFORE,
    notAfter: new Date('2124-01-01T00:00:00Z'),
    signingAlgorithm: ALG,
    keys,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return { certPem: cert.toString('pem'), keyPem: await exportKeyPem(keys.privateKey), cert, keys };
}

/** Issues a server certificate for DNS name `domain` signed by `ca`; usable as HttpsTransportInit.tls. */
export async function issueCert(ca: TestCa, domain: string): Promise<CertPem> {
  const keys = await generateKeys();
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: randomSerial(),
    subject: `CN=${domain}`,
    issuer: ca.cert.subject,
    notBefore: NOT_BEFORE,
    notAfter: new Date('2123-01-01T00:00:00Z'),
    signingAlgorithm: ALG,
    publicKey: keys.publicKey,
    signingKey: ca.keys.privateKey,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
      new x509.SubjectAlternativeNameExtension([{ type: 'dns', value: domain }]),
      await x509.AuthorityKeyIdentifierExtension.create(ca.cert),
    ],
  });
  return { certPem: cert.toString('pem'), keyPem: await exportKeyPem(keys.privateKey) };
}

/** A fresh random Ed25519 identity as raw bytes (`signPriv` = 32-byte seed), for tests. */
export function testIdentity(): { signPriv: Uint8Array; signPub: Uint8Array } {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  return {
    signPriv: new Uint8Array(privateKey.export({ format: 'der', type: 'pkcs8' }).subarray(16)),
    signPub: new Uint8Array(publicKey.export({ format: 'der', type: 'spki' }).subarray(12)),
  };
}
