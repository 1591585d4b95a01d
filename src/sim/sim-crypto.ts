/**
 * The simulator's cost-free stand-in for the core's keyed primitives (src/protocol/core-crypto.ts).
 * It keeps what routing can observe — every output length, the random bytes drawn, and every
 * accept/refuse: a proof checks only under the key and input it was made with, a sealed box opens
 * only for its recipient and its associated data, an AEAD only under its key, nonce and data — and
 * drops the secrecy, which a simulation of honest nodes never tests. A 64-bit non-cryptographic hash
 * replaces HMAC, X25519 and ChaCha20-Poly1305; the link key is the pair's shared secret itself, so a
 * link costs no allocation.
 *
 * test/integration/sim-crypto.test.ts runs one simulation with REAL_CRYPTO and one with this and
 * asserts the same result document (apart from wall time and RSS); `npm run sim:crypto-check` does
 * it on 1,000 nodes.
 */
import type { RequestProofFields } from '../crypto/index.ts';
import type { CoreCrypto } from '../protocol/core-crypto.ts';

/** Two independent 32-bit lanes (FNV-1a and a multiply–xor mix) over several byte arrays and strings. */
class Hash64 {
  a = 0x811c9dc5;
  b = 0x9e3779b9;
  bytes(x: Uint8Array): this {
    let a = this.a;
    let b = this.b;
    for (let i = 0; i < x.length; i++) {
      const c = x[i];
      a = Math.imul(a ^ c, 0x01000193);
      b = Math.imul(b ^ c, 0x85ebca6b) ^ (b >>> 13);
    }
    // The length, so that ("ab","c") and ("a","bc") differ.
    a = Math.imul(a ^ x.length, 0x01000193);
    b = Math.imul(b ^ x.length, 0xc2b2ae35);
    this.a = a;
    this.b = b;
    return this;
  }
  text(s: string): this {
    let a = this.a;
    let b = this.b;
    for (let i = 0; i < s.length; i++) {
      const c = s.charCodeAt(i);
      a = Math.imul(a ^ c, 0x01000193);
      b = Math.imul(b ^ c, 0x85ebca6b) ^ (b >>> 13);
    }
    a = Math.imul(a ^ s.length, 0x01000193);
    b = Math.imul(b ^ s.length, 0xc2b2ae35);
    this.a = a;
    this.b = b;
    return this;
  }
  /** Writes the 8 hash bytes twice into `out` at `at` (a 16-byte tag). */
  tag(out: Uint8Array, at: number): void {
    const a = fmix(this.a ^ this.b);
    const b = fmix(this.b + Math.imul(this.a, 0x27d4eb2d));
    for (let k = 0; k < 2; k++) {
      const o = at + 8 * k;
      out[o] = a;
      out[o + 1] = a >>> 8;
      out[o + 2] = a >>> 16;
      out[o + 3] = a >>> 24;
      out[o + 4] = b;
      out[o + 5] = b >>> 8;
      out[o + 6] = b >>> 16;
      out[o + 7] = b >>> 24;
    }
  }
  /** 16 hex digits. */
  hex(): string {
    const a = fmix(this.a ^ this.b);
    const b = fmix(this.b + Math.imul(this.a, 0x27d4eb2d));
    return (
      HEX[a >>> 24] +
      HEX[(a >>> 16) & 255] +
      HEX[(a >>> 8) & 255] +
      HEX[a & 255] +
      HEX[b >>> 24] +
      HEX[(b >>> 16) & 255] +
      HEX[(b >>> 8) & 255] +
      HEX[b & 255]
    );
  }
}

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

function fmix(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return h ^ (h >>> 16);
}

/** 27 zero sextets: pads a 16-hex-digit hash to the 43 base64url characters of a real proof (32 bytes). */
const PROOF_PAD = 'A'.repeat(27);
const TAG = 16;
/** Real sealed box: ephemeral key 32 ‖ sealed sender key 32 + 16 ‖ ciphertext + 16. */
const HEAD = 32 + 32 + TAG;

function proof(key: Uint8Array, input: Uint8Array): string {
  return new Hash64().bytes(key).bytes(input).hex() + PROOF_PAD;
}

function tagEquals(x: Uint8Array, at: number, want: Uint8Array): boolean {
  for (let i = 0; i < TAG; i++) if (x[at + i] !== want[i]) return false;
  return true;
}

/** The stand-in (see the file comment). Stateless: one object serves every core of a run. */
export const SIM_CRYPTO: CoreCrypto = Object.freeze({
  deriveLinkKey(_ownBoxPriv: Uint8Array, _peerBoxPub: Uint8Array, secret: Uint8Array): Uint8Array {
    // Both ends hold the same per-pair secret: symmetric, distinct per pair, and no copy.
    return secret;
  },
  messageKey(linkKey: Uint8Array, senderUuid: string): Uint8Array {
    const out = new Uint8Array(32);
    out.set(linkKey.subarray(0, 16));
    new Hash64().bytes(linkKey).text(senderUuid).tag(out, 16);
    return out;
  },
  requestSigningInput(f: RequestProofFields): Uint8Array {
    const out = new Uint8Array(TAG);
    new Hash64()
      .text(`${f.version}\n${f.type}\n${f.from}\n${f.id}\n${f.ts}\n${f.port ?? ''}`)
      .bytes(f.body)
      .tag(out, 0);
    return out;
  },
  responseSigningInput(requestId: string, observed: string, data: string): Uint8Array {
    const out = new Uint8Array(TAG);
    new Hash64().text(requestId).text(observed).text(data).tag(out, 0);
    return out;
  },
  computeProof: proof,
  checkProof(linkKey: Uint8Array, input: Uint8Array, p: string): boolean {
    return typeof p === 'string' && p.length === 43 && p === proof(linkKey, input);
  },
  sealTo(
    sender: { boxPub: Uint8Array },
    recipientBoxPub: Uint8Array,
    plaintext: Uint8Array,
    aad: Uint8Array,
    random: (n: number) => Uint8Array,
  ): Uint8Array {
    const eph = random(32); // drawn as the real box draws its ephemeral key: the run's random stream stays aligned
    const out = new Uint8Array(HEAD + plaintext.length + TAG);
    out.set(eph, 0);
    out.set(sender.boxPub, 32);
    new Hash64().bytes(recipientBoxPub).bytes(eph).bytes(sender.boxPub).tag(out, 64);
    out.set(plaintext, HEAD);
    new Hash64()
      .bytes(recipientBoxPub)
      .bytes(eph)
      .bytes(aad)
      .bytes(plaintext)
      .tag(out, HEAD + plaintext.length);
    return out;
  },
  openSealed(recipient: { boxPub: Uint8Array }, sealed: Uint8Array, aad: Uint8Array) {
    if (sealed.length < HEAD + TAG) return null;
    const eph = sealed.subarray(0, 32);
    const senderBoxPub = sealed.slice(32, 64);
    const want = new Uint8Array(TAG);
    new Hash64().bytes(recipient.boxPub).bytes(eph).bytes(senderBoxPub).tag(want, 0);
    if (!tagEquals(sealed, 64, want)) return null;
    const n = sealed.length - TAG;
    const plaintext = sealed.slice(HEAD, n);
    new Hash64().bytes(recipient.boxPub).bytes(eph).bytes(aad).bytes(plaintext).tag(want, 0);
    if (!tagEquals(sealed, n, want)) return null;
    return { plaintext, senderBoxPub };
  },
  aeadSeal(key: Uint8Array, nonce: Uint8Array, plaintext: Uint8Array, aad: Uint8Array): Uint8Array {
    const out = new Uint8Array(plaintext.length + TAG);
    out.set(plaintext, 0);
    new Hash64().bytes(key).bytes(nonce).bytes(aad).bytes(plaintext).tag(out, plaintext.length);
    return out;
  },
  aeadOpen(key: Uint8Array, nonce: Uint8Array, sealed: Uint8Array, aad: Uint8Array): Uint8Array | null {
    if (key.length !== 32 || nonce.length !== 12 || sealed.length < TAG) return null;
    const n = sealed.length - TAG;
    const plaintext = sealed.slice(0, n);
    const want = new Uint8Array(TAG);
    new Hash64().bytes(key).bytes(nonce).bytes(aad).bytes(plaintext).tag(want, 0);
    return tagEquals(sealed, n, want) ? plaintext : null;
  },
  digestTransportKey(linkKey: Uint8Array, from: string): Uint8Array {
    // Distinct per link and direction, like the real HKDF: a digest opens only where it would.
    const out = new Uint8Array(32);
    const h = new Hash64().bytes(linkKey).text(from);
    h.tag(out, 0);
    h.text('2').tag(out, 16);
    return out;
  },
});
