/**
 * The domain-peer address directory (issue 11 item 3; the seed's "send IP message to peers with
 * domain"): a node stores its current address at the peers with a domain it bootstrapped to, as a
 * record only its contacts can find and read. Pure functions: keys, sealing and opening.
 *
 * - key    = b64u(HKDF(cs, ∅, "mesh-v1-dir-key|" + epoch)), epoch = ⌊now / DIRECTORY_EPOCH_MS⌋:
 *            blinded, computable only by holders of the node's contact secret `cs` (its contacts,
 *            from its digest), and unlinkable from one epoch to the next for everyone else.
 * - record = b64u(nonce(12) ‖ ChaCha20-Poly1305(HKDF(cs, ∅, "mesh-v1-dir-seal"), nonce,
 *            {"ip","ts","sig"}, aad "mesh-v1-dir|" + key)), sig = Ed25519 over
 *            "mesh-v1-dir-rec\n" + key + "\n" + ip + "\n" + ts: a contact can read it, only the node
 *            can have written it (a contact knows `cs` too, so the seal alone would not prove that).
 */
import {
  aeadOpen,
  aeadSeal,
  concatBytes,
  fromB64u,
  hkdf,
  signEd25519,
  toB64u,
  utf8,
  verifyEd25519,
} from '../crypto/index.ts';
import { decodeJson } from './codec.ts';
import { DIRECTORY_EPOCH_MS } from './constants.ts';

const EMPTY = new Uint8Array(0);

/** The directory epoch of time `now`. */
export const directoryEpoch = (now: number): number => Math.floor(now / DIRECTORY_EPOCH_MS);

/** The blinded key of a node's record in `epoch` (43 base64url chars). */
export function directoryKey(cs: Uint8Array, epoch: number): string {
  return toB64u(hkdf(cs, EMPTY, utf8(`mesh-v1-dir-key|${epoch}`)));
}

const sealKey = (cs: Uint8Array) => hkdf(cs, EMPTY, utf8('mesh-v1-dir-seal'));
const aad = (key: string) => utf8(`mesh-v1-dir|${key}`);
const signInput = (key: string, ip: string, ts: number) => utf8(`mesh-v1-dir-rec\n${key}\n${ip}\n${ts}`);

/** A node's record: its address `ip` at time `ts`, signed by it and sealed under its contact secret. */
export function sealDirectoryRecord(
  cs: Uint8Array,
  signPriv: Uint8Array,
  key: string,
  ip: string,
  ts: number,
  nonce: Uint8Array,
): string {
  const sig = toB64u(signEd25519(signPriv, signInput(key, ip, ts)));
  const plain = utf8(JSON.stringify({ ip, ts, sig }));
  return toB64u(concatBytes(nonce, aeadSeal(sealKey(cs), nonce, plain, aad(key))));
}

/** Opens a record found under `key` and checks the node's signature; null when anything is off. */
export function openDirectoryRecord(
  cs: Uint8Array,
  signPub: Uint8Array,
  key: string,
  record: string,
): { ip: string; ts: number } | null {
  try {
    const raw = fromB64u(record);
    if (raw.length < 12 + 16) return null;
    const plain = aeadOpen(sealKey(cs), raw.subarray(0, 12), raw.subarray(12), aad(key));
    if (!plain) return null;
    const o = decodeJson(plain) as { ip?: unknown; ts?: unknown; sig?: unknown } | null;
    if (!o || typeof o.ip !== 'string' || typeof o.ts !== 'number' || typeof o.sig !== 'string') return null;
    if (!verifyEd25519(signPub, signInput(key, o.ip, o.ts), fromB64u(o.sig))) return null;
    return { ip: o.ip, ts: o.ts };
  } catch {
    return null;
  }
}
