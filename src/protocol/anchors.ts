/**
 * Move anchors (issue 11, PROTOCOL.md §8 "Announces"): the few contacts a node that moved tells at
 * once. The order is a rendezvous hash of (mover, contact), so any other contact of the mover computes
 * the same order over the mutual contacts it knows (from their digests) and asks the anchors first.
 */
import { sha256, utf8 } from '../crypto/index.ts';

/** The rank of `contact` among the anchors of `mover` (higher first): u32 of SHA-256("mesh-v1-anchor|" + mover + "|" + contact). */
export function anchorScore(mover: string, contact: string): number {
  const h = sha256(utf8(`mesh-v1-anchor|${mover}|${contact}`));
  return ((h[0] << 24) | (h[1] << 16) | (h[2] << 8) | h[3]) >>> 0;
}

/** `list` in the anchor order of `mover` (highest score first, uuid on ties); a new array. */
export function byAnchorRank<T extends { uuid: string }>(mover: string, list: readonly T[]): T[] {
  const score = new Map<string, number>();
  for (const c of list) score.set(c.uuid, anchorScore(mover, c.uuid));
  return [...list].sort(
    (a, b) => (score.get(b.uuid) as number) - (score.get(a.uuid) as number) || (a.uuid < b.uuid ? -1 : 1),
  );
}
