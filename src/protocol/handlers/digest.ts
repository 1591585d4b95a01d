/**
 * Receiving a contact's digest (issue 11 item 1): it rides on the contact's presence announce,
 * sealed to us; we keep the payload with the contact record (persisted), the search and relays read it.
 */
import type { CoreContext } from '../context.ts';
import { isDigestPayload, openDigest } from '../digest.ts';
import { saveContact } from '../tables.ts';
import type { ContactRecord } from '../types.ts';

/** A contact's presence carried its digest: keep it (persisted with the contact) when it opens and parses. */
export function digestReceived(ctx: CoreContext, c: ContactRecord, field: string): void {
  const payload = openDigest(ctx.linkKey(c), c.uuid, ctx.self.uuid, field, ctx.crypto);
  // Checked for form only: the member key is derived when a search first tests the digest.
  if (!payload || !isDigestPayload(payload)) return ctx.drop('BAD_SECRET', `digest from ${c.uuid} does not open`);
  if (c.digest && equalBytes(c.digest, payload)) return;
  c.digest = payload;
  saveContact(ctx, c);
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
