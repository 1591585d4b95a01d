/**
 * The engine of routed requests we originate (sendmessage chart "try → send IP message to contacts
 * → catch → try → all fail → send IP message to peers with domain"; addcontact chart likewise for
 * contact_req). A search is a `SearchRecord`: its targets are asked in batches of `searchFanout`,
 * the first good answer wins; what "good" means and what happens then depends on its purpose.
 */
import type { FailureCode } from '../../errors.ts';
import { DIGEST_SEARCH_FANOUT } from '../constants.ts';
import type { CoreContext, SendTarget } from '../context.ts';
import type { OkResponse } from '../messages.ts';
import { unreachableAfter } from '../reachability.ts';
import type { SearchRecord, Via } from '../state.ts';
import { endSearch } from '../tables.ts';
import { addAnswered, addExhausted, bootstrapAnswered, bootstrapExhausted } from './contact-request.ts';
import { directoryAnswered, directoryExhausted } from './directory.ts';
import { locateAnswered, locateExhausted } from './locate.ts';

/** Starts a search built by a handler: records it and asks the first batch. */
export function startRouted(core: CoreContext, s: SearchRecord): void {
  core.state.searches.set(s.key, s);
  nextBatch(core, s);
}

/** The send target of a `Via` now (null when that contact is gone). */
function targetOf(core: CoreContext, via: Via): SendTarget | null {
  if (!('contact' in via)) return via;
  const contact = core.state.contacts.get(via.contact);
  return contact ? { contact } : null;
}

function running(core: CoreContext, s: SearchRecord): boolean {
  return core.state.searches.get(s.key) === s;
}

function nextBatch(core: CoreContext, s: SearchRecord): void {
  if (!running(core, s)) return;
  if (s.queue.length === 0) {
    endSearch(core, s.key);
    return exhausted(core, s);
  }
  // Digest hits know the target: ask them one or two at a time, widening only when they fail.
  const narrow = s.narrow ?? 0;
  const size = narrow > 0 ? Math.min(DIGEST_SEARCH_FANOUT, narrow) : Math.max(1, core.cfg.searchFanout);
  const batch = s.queue.splice(0, size);
  if (narrow > 0) s.narrow = narrow - batch.length;
  for (const via of batch) {
    const target = targetOf(core, via);
    if (!target) continue;
    const then = { kind: 'search', key: s.key, meshId: s.meshId, via } as const;
    s.inFlight.push(core.send(target, s.type, s.body, s.kind, then, s.meshId, core.cfg.searchTimeoutMs));
  }
  s.deadline = core.now + core.cfg.searchTimeoutMs;
  core.setTimer({ kind: 'search', key: s.key }, s.deadline);
}

function maybeNext(core: CoreContext, s: SearchRecord): void {
  if (s.inFlight.length === 0) nextBatch(core, s);
}

/** One target of a search answered (`resp`) or failed (`failure`). */
export function searchAnswered(
  core: CoreContext,
  requestId: number,
  then: { key: string; meshId: string; via: Via },
  resp: OkResponse | null,
  failure: FailureCode | null,
): void {
  const s = core.state.searches.get(then.key);
  if (!s || s.meshId !== then.meshId) return; // that search ended
  s.inFlight = s.inFlight.filter((id) => id !== requestId);
  if (resp) {
    if (answered(core, s, resp, then.via)) endSearch(core, s.key);
    else maybeNext(core, s);
    return;
  }
  // A contact we asked directly is not at its address any more: note it.
  if (failure !== null && 'contact' in then.via && unreachableAfter(failure, 'own')) {
    const c = core.state.contacts.get(then.via.contact);
    if (c) core.contactUnreachable(c);
  }
  maybeNext(core, s);
}

/** The current batch timed out: ask the next one (late answers of this batch are still welcome). */
export function searchTimedOut(core: CoreContext, key: string): void {
  const s = core.state.searches.get(key);
  if (!s) return;
  s.inFlight = [];
  nextBatch(core, s);
}

/** True when the answer is the one the search wanted (it then ends). */
function answered(core: CoreContext, s: SearchRecord, resp: OkResponse, via: Via): boolean {
  switch (s.purpose.kind) {
    case 'locate':
      return locateAnswered(core, s, s.purpose, resp, via);
    case 'add':
      return addAnswered(core, s, s.purpose, resp, via);
    case 'directory':
      return directoryAnswered(core, s, s.purpose, resp);
    case 'bootstrap':
      return bootstrapAnswered(core, s, s.purpose, resp);
  }
}

/** Every target was asked and none answered well. */
function exhausted(core: CoreContext, s: SearchRecord): void {
  switch (s.purpose.kind) {
    case 'locate':
      return locateExhausted(core, s.purpose);
    case 'add':
      return addExhausted(core, s.purpose);
    case 'directory':
      return directoryExhausted(core, s.purpose);
    case 'bootstrap':
      return bootstrapExhausted(core, s.purpose);
  }
}
