/** src/daemon/identity-cert.ts: the data dir keeps the node's self-signed certificate across starts. */
import assert from 'node:assert/strict';
import { randomBytes, X509Certificate } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { loadOrCreateIdentityCert } from '../../src/daemon/identity-cert.ts';
import { dataPaths } from '../../src/daemon/paths.ts';
import { createIdentity } from '../../src/protocol/identity.ts';

const seeded = (seed: number) => (n: number) => new Uint8Array(n).map((_, i) => (seed * 31 + i * 7) & 0xff);
const spkiOf = (certPem: string) => new X509Certificate(certPem).publicKey.export({ format: 'der', type: 'spki' });

describe('loadOrCreateIdentityCert', () => {
  const dir = mkdtempSync(join(tmpdir(), 'mesh-cert-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const alice = createIdentity('alice', { random: seeded(1), now: 0 });
  const bob = createIdentity('bob', { random: seeded(2), now: 0 });

  test('creates the certificate for the identity key and stores it (0600)', async () => {
    const { certPem, keyPem } = await loadOrCreateIdentityCert(dir, alice);
    const path = dataPaths(dir).cert;
    assert.ok(existsSync(path));
    assert.equal(readFileSync(path, 'utf8'), certPem);
    assert.equal(statSync(path).mode & 0o777, 0o600);
    assert.deepEqual(new Uint8Array(spkiOf(certPem).subarray(12)), alice.signPub);
    assert.match(keyPem, /^-----BEGIN PRIVATE KEY-----/);
    assert.ok(!readFileSync(path, 'utf8').includes('PRIVATE KEY'), 'the private key is not written');
  });

  test('a second start reuses the stored certificate', async () => {
    const first = readFileSync(dataPaths(dir).cert, 'utf8');
    const again = await loadOrCreateIdentityCert(dir, alice);
    assert.equal(again.certPem, first);
  });

  test("another identity's or a corrupt file is replaced", async () => {
    const forBob = await loadOrCreateIdentityCert(dir, bob);
    assert.deepEqual(new Uint8Array(spkiOf(forBob.certPem).subarray(12)), bob.signPub);
    writeFileSync(dataPaths(dir).cert, `not a certificate ${randomBytes(8).toString('hex')}`);
    const fresh = await loadOrCreateIdentityCert(dir, bob);
    assert.deepEqual(new Uint8Array(spkiOf(fresh.certPem).subarray(12)), bob.signPub);
  });
});
