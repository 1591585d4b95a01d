/**
 * The node's self-signed TLS certificate (key = the Ed25519 identity key), kept in the data dir.
 *
 *   const tls = await loadOrCreateIdentityCert(dir, self);   // { certPem, keyPem }
 *   new HttpsTransport({ ..., tls });
 *
 * Creating a certificate needs an X.509 library that costs ~14 MB of memory and ~0.3 s to load, so
 * `mesh init` (or the first start) creates it once and every start reuses it. Only the certificate
 * (public) is written; the private key PEM is rebuilt from the identity in the store each time.
 * Contacts pin the key, not the certificate, so reusing it changes nothing on the wire.
 */
import { X509Certificate } from 'node:crypto';
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import type { SelfRecord } from '../protocol/types.ts';
import {
  type CertPem,
  createSelfSignedCert,
  ed25519Pkcs8,
  rawEd25519FromSpki,
  toPem,
} from '../transport/https/certificate.ts';
import { dataPaths } from './paths.ts';

/** True when `certPem` parses and carries exactly `signPub` (a stale or foreign file is replaced). */
function certMatches(certPem: string, signPub: Uint8Array): boolean {
  try {
    const spki = new X509Certificate(certPem).publicKey.export({ format: 'der', type: 'spki' });
    const raw = rawEd25519FromSpki(spki);
    return raw !== null && Buffer.from(raw).equals(Buffer.from(signPub));
  } catch {
    return false;
  }
}

/** Reads the data dir's identity certificate, creating (and storing) it when missing or not this identity's. */
export async function loadOrCreateIdentityCert(dir: string, self: SelfRecord): Promise<CertPem> {
  const path = dataPaths(dir).cert;
  const keyPem = toPem(ed25519Pkcs8(self.signPriv), 'PRIVATE KEY');
  if (existsSync(path)) {
    const certPem = readFileSync(path, 'utf8');
    if (certMatches(certPem, self.signPub)) return { certPem, keyPem };
  }
  const { certPem } = await createSelfSignedCert(self.signPriv, self.signPub);
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, certPem, { mode: 0o600 });
  renameSync(tmp, path);
  return { certPem, keyPem };
}
