/**
 * First contact: requests signed with Mesh-Pub-Key (no shared secret yet), and issuing invites.
 */

import { checkUuid, encodeInvite, fromB64u, inviteId, verifyEd25519 } from '../../crypto/index.ts';
import { MeshError } from '../../errors.ts';
import type { CoreContext } from '../context.ts';
import type { RequestHeaders } from '../messages.ts';
import { inviteHints } from '../observed.ts';

/** Checks Mesh-Pub-Key against Mesh-From (self-certifying UUID) and the Ed25519 signature; returns the keys or null. */
export function verifyStranger(
  h: RequestHeaders,
  input: Uint8Array,
): { signPub: Uint8Array; boxPub: Uint8Array } | null {
  if (!h.pubKey || !h.signature) return null;
  const pub = fromB64u(h.pubKey);
  const signPub = pub.subarray(0, 32);
  const boxPub = pub.subarray(32, 64);
  if (!checkUuid(h.from, signPub, boxPub)) return null;
  if (!verifyEd25519(signPub, input, fromB64u(h.signature))) return null;
  return { signPub: Uint8Array.from(signPub), boxPub: Uint8Array.from(boxPub) };
}

/** `mesh invite`: a one-time invite secret with an expiry, and the code that carries it. */
export function inviteCommand(
  core: CoreContext,
  ttlMs: number | undefined,
  addresses: string[] | undefined,
  domain: string | null,
): { code: string; expiresAt: number; id: string } {
  const ttl = ttlMs ?? core.cfg.inviteTtlMs;
  if (!Number.isFinite(ttl) || ttl <= 0)
    throw MeshError.invalidArgument('the invite lifetime must be a positive duration, e.g. 24h');
  const secret = core.random(16);
  const id = inviteId(secret);
  // Invite codes carry whole seconds: round the expiry down so both sides agree on it.
  const expiresAt = Math.floor((core.now + ttl) / 1000) * 1000;
  core.state.invites.set(id, { id, secret, createdAt: core.now, expiresAt });
  core.persist({ op: 'invite:put', invite: { id, secret, createdAt: core.now, expiresAt } });
  const addrs = addresses ?? inviteHints(core);
  const code = encodeInvite({ uuid: core.self.uuid, secret, expiresAt, addresses: addrs, domain });
  return { code, expiresAt, id };
}
