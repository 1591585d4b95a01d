/** Key pairs (Ed25519 for signing, X25519 for boxes) from raw 32-byte keys, with a KeyObject cache. */
import {
  createPrivateKey,
  createPublicKey,
  diffieHellman,
  type KeyObject,
  sign as nodeSign,
  verify as nodeVerify,
} from 'node:crypto';
import { MeshError } from '../errors.ts';
import { asBytes } from './b64u.ts';

/** A source of random bytes (e.g. `crypto.randomBytes`), injectable for deterministic tests. */
export type Random = (n: number) => Uint8Array;

/** A node's long-term keys, all raw 32-byte arrays. */
export interface KeyPairs {
  /** Ed25519 public key. */
  signPub: Uint8Array;
  /** Ed25519 private seed. */
  signPriv: Uint8Array;
  /** X25519 public key. */
  boxPub: Uint8Array;
  /** X25519 private scalar. */
  boxPriv: Uint8Array;
}

type Kind = 'edPriv' | 'edPub' | 'xPriv' | 'xPub';
const CURVE: Record<Kind, 'Ed25519' | 'X25519'> = {
  edPriv: 'Ed25519',
  edPub: 'Ed25519',
  xPriv: 'X25519',
  xPub: 'X25519',
};
const CACHE_MAX = 4096;
const cache = new Map<string, KeyObject>();

function check32(raw: Uint8Array, what: string): void {
  if (!(raw instanceof Uint8Array) || raw.length !== 32) throw MeshError.invalidArgument(`${what} must be 32 bytes`);
}

/**
 * Raw keys are imported as JWK, not DER: OpenSSL 3's DER decoder costs ~400 µs a key, the JWK path
 * ~50 µs for the same KeyObject (bench/sim-perf.ts measures the simulator, where this dominated).
 * A private JWK needs some `x`; Node derives the public half from `d` and ignores it.
 */
function buildKey(kind: Kind, raw: Uint8Array): KeyObject {
  const b64 = Buffer.from(raw.buffer, raw.byteOffset, 32).toString('base64url');
  return kind === 'edPriv' || kind === 'xPriv'
    ? createPrivateKey({ key: { kty: 'OKP', crv: CURVE[kind], d: b64, x: '' }, format: 'jwk' })
    : createPublicKey({ key: { kty: 'OKP', crv: CURVE[kind], x: b64 }, format: 'jwk' });
}

/**
 * KeyObjects by the identity of the raw key array: a node keeps its key arrays for its whole life,
 * so this never thrashes however many nodes share the process (the simulator runs 10⁵), and entries
 * go away with the arrays. Raw key arrays must not be mutated after use (none are).
 */
const byArray: Record<Kind, WeakMap<Uint8Array, KeyObject>> = {
  edPriv: new WeakMap(),
  edPub: new WeakMap(),
  xPriv: new WeakMap(),
  xPub: new WeakMap(),
};

/** Returns a (cached) KeyObject for a raw 32-byte key: by array identity first, then by content (bounded FIFO). */
function keyObject(kind: Kind, raw: Uint8Array, useCache = true): KeyObject {
  check32(raw, 'key');
  if (!useCache) return buildKey(kind, raw);
  let k = byArray[kind].get(raw);
  if (k) return k;
  const id = kind + Buffer.from(raw.buffer, raw.byteOffset, 32).toString('latin1');
  k = cache.get(id);
  if (!k) {
    k = buildKey(kind, raw);
    if (cache.size >= CACHE_MAX) cache.delete(cache.keys().next().value as string);
    cache.set(id, k);
  }
  byArray[kind].set(raw, k);
  return k;
}

function rawPublic(priv: KeyObject): Uint8Array {
  const x = priv.export({ format: 'jwk' }).x;
  if (typeof x !== 'string') throw MeshError.invalidArgument('key has no public half');
  return new Uint8Array(Buffer.from(x, 'base64url'));
}

/** Derives all four keys from a 64-byte seed: bytes 0..31 = Ed25519 seed, 32..63 = X25519 private key. */
export function keyPairsFromSeed(seed: Uint8Array): KeyPairs {
  if (!(seed instanceof Uint8Array) || seed.length !== 64) throw MeshError.invalidArgument('seed must be 64 bytes');
  const signPriv = seed.slice(0, 32);
  const boxPriv = seed.slice(32, 64);
  const signPub = rawPublic(keyObject('edPriv', signPriv, false));
  const boxPub = rawPublic(keyObject('xPriv', boxPriv, false));
  return { signPub, signPriv, boxPub, boxPriv };
}

/** Generates fresh key pairs from 64 random bytes. */
export function generateKeyPairs(random: Random): KeyPairs {
  return keyPairsFromSeed(random(64));
}

/** X25519 public key for a raw private scalar. */
export function x25519Public(priv: Uint8Array): Uint8Array {
  return rawPublic(keyObject('xPriv', priv, false));
}

/** Raw X25519 shared secret; throws MeshError.invalidArgument on a bad key or an all-zero result. */
export function x25519(priv: Uint8Array, pub: Uint8Array, cachePriv = true, cachePub = true): Uint8Array {
  let out: Buffer;
  try {
    out = diffieHellman({
      privateKey: keyObject('xPriv', priv, cachePriv),
      publicKey: keyObject('xPub', pub, cachePub),
    });
  } catch (e) {
    if (e instanceof MeshError) throw e;
    throw MeshError.invalidArgument('X25519 failed (low-order public key?)');
  }
  let acc = 0;
  for (let i = 0; i < out.length; i++) acc |= out[i];
  if (acc === 0) throw MeshError.invalidArgument('X25519 result is all zero');
  return asBytes(out);
}

/** Ed25519 signature (64 bytes) of data with a raw 32-byte seed. */
export function signEd25519(signPriv: Uint8Array, data: Uint8Array): Uint8Array {
  return asBytes(nodeSign(null, data, keyObject('edPriv', signPriv)));
}

/** Verifies an Ed25519 signature; false on any bad input, never throws. */
export function verifyEd25519(signPub: Uint8Array, data: Uint8Array, sig: Uint8Array): boolean {
  try {
    if (!(sig instanceof Uint8Array) || sig.length !== 64 || !(data instanceof Uint8Array)) return false;
    return nodeVerify(null, data, keyObject('edPub', signPub), sig);
  } catch {
    return false;
  }
}
