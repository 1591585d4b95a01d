/**
 * `mesh contacts remove` (DESIGN.md §7, issue 12 item 6): the contact leaves every table of the core —
 * its record, the referrals through it and about it, its queued messages, its searches, our requests
 * to it and the relays it asked of us — and each removal is persisted. The removed node is not told;
 * afterwards its requests get the one "not a contact" answer a stranger gets (inbound.ts).
 */
import { MeshError } from '../../errors.ts';
import type { CoreContext } from '../context.ts';
import { deleteReferral, endSearch } from '../tables.ts';
import { withdrawReferrals } from './referral.ts';

/** Removes contact `uuid` and everything the core holds for it. Returns `{ uuid }`; throws CONTACT_UNKNOWN. */
export function removeContact(core: CoreContext, uuid: string): { uuid: string } {
  const { state } = core;
  const c = state.contacts.get(uuid);
  if (!c) throw MeshError.contactUnknown(uuid);
  // Our other contacts hold "reach it through us": withdraw that (to them only; `c` is not told).
  withdrawReferrals(core, c);
  state.contacts.delete(uuid);
  core.persist({ op: 'contact:delete', uuid });
  core.forgetKeys(uuid);
  for (const [referent, list] of [...state.referrals])
    for (const r of [...list]) if (r.via === uuid || referent === uuid) deleteReferral(core, referent, r.via);
  // Its messages that would still go out; delivered / failed history ages out with the retention.
  for (const m of [...state.outbox.values()]) {
    if (m.to !== uuid || (m.state !== 'queued' && m.state !== 'sent')) continue;
    state.outbox.delete(m.id);
    core.persist({ op: 'outbox:delete', id: m.id });
  }
  state.queued.delete(uuid);
  for (const s of [...state.searches.values()]) {
    const p = s.purpose;
    if (p.kind === 'locate' && p.target === uuid) endSearch(core, s.key);
    else if (p.kind === 'add' && p.inviter === uuid) {
      endSearch(core, s.key);
      core.fail(p.commandId, 'CONTACT_UNKNOWN', 'the contact was removed while this request was on its way');
    }
  }
  // Our requests to it: a late answer finds nothing to continue (a relay waiting on one times out).
  for (const [id, o] of [...state.outstanding]) if (o.contact === uuid) state.outstanding.delete(id);
  // Relays it asked of us: answered now, so its request does not wait for the relay's timeout.
  for (const [id, r] of [...state.relays]) {
    if (r.upstream.sender !== uuid) continue;
    state.relays.delete(id);
    core.clearTimer({ kind: 'relay', id });
    core.respondError(r.upstream.requestId, 'UNREACHABLE', 'no longer relayed');
  }
  // The invite it spent answers its retries no more (as after a reject): it cannot come back with it.
  for (const [id, spent] of [...state.spentInvites]) if (spent.uuid === uuid) state.spentInvites.delete(id);
  state.lastReferralSent.delete(uuid);
  state.withdrawn.delete(uuid);
  state.windows.delete(`inbox|${uuid}`);
  state.windows.delete(`probe|${uuid}`);
  return { uuid };
}
