/**
 * Minimal reproductions of the crashes the fuzzer found (issue 12 finding 18, already reported):
 * a base64url field of length ≡ 1 (mod 4) passes `decodeBody`, then `fromB64u` throws inside the
 * handler — MeshCore.handle throws, the node answers 500 INTERNAL, and the in-memory changes made
 * before the throw (seen-cache entry, the sender's refreshed contact) are kept while their writes
 * are lost. Fixed: `isB64u` (codec.ts) refuses length % 4 === 1, so such bodies get 400
 * BAD_REQUEST before any handler runs; these tests keep it that way.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Effect } from '../../src/protocol/events.ts';
import { buildRig, reprove, type Seed } from './corpus.ts';
import { Rng } from './rng.ts';

const T0 = 1_767_225_600_000;

/** The seed `name` with its JSON `field` made one character longer than a multiple of 4, re-proved by its sender. */
function poisoned(name: string, field: string) {
  const rig = buildRig(new Rng(7), T0);
  const seed = rig.seeds.find((s) => s.name === name) as Seed;
  const body = JSON.parse(new TextDecoder().decode(seed.body));
  let v = String(body[field]);
  while (v.length % 4 !== 1) v = v.slice(0, -1);
  body[field] = v;
  const bytes = new TextEncoder().encode(JSON.stringify(body));
  const headers = { ...seed.headers, 'mesh-id': 'Zm9yIHRoZSBmdXp6IHRlcw', 'mesh-ts': String(T0) };
  reprove(headers, bytes, seed.signer);
  return { rig, event: { type: 'request' as const, requestId: 1, remote: '10.7.9.9:40000', headers, body: bytes } };
}

function answerOf(fx: Effect[]) {
  const r = fx.filter((e) => e.type === 'respond');
  assert.equal(r.length, 1);
  const only = r[0] as Extract<Effect, { type: 'respond' }>;
  return { status: only.status, error: JSON.parse(new TextDecoder().decode(only.body)).error as string };
}

describe('crashes found by the fuzzer (issue 12 finding 18)', () => {
  it('a message from a real contact whose "ct" has length ≡ 1 (mod 4) → 400 BAD_REQUEST, no throw', {}, () => {
    const { rig, event } = poisoned('message', 'ct');
    const fx = rig.A.core.handle(event, T0);
    assert.deepEqual(answerOf(fx), { status: 400, error: 'BAD_REQUEST' });
  });

  it('an IP for us, relayed by a contact, whose "encrypted" has length ≡ 1 (mod 4) → 400, no throw', {}, () => {
    const { rig, event } = poisoned('ip-for-self', 'encrypted');
    const fx = rig.A.core.handle(event, T0);
    assert.deepEqual(answerOf(fx), { status: 400, error: 'BAD_REQUEST' });
  });

  it('a signed contact_req naming a live invite whose "encrypted" has length ≡ 1 (mod 4) → 400, no throw', {}, () => {
    const { rig, event } = poisoned('contact_req-invite', 'encrypted');
    const fx = rig.A.core.handle(event, T0);
    assert.deepEqual(answerOf(fx), { status: 400, error: 'BAD_REQUEST' });
  });

  it('a relay does not forward such an IP to the target (which would crash there too)', () => {
    const { rig, event } = poisoned('ip-relay', 'encrypted');
    const fx = rig.A.core.handle(event, T0);
    assert.equal(fx.filter((e) => e.type === 'send').length, 0);
    assert.deepEqual(answerOf(fx), { status: 400, error: 'BAD_REQUEST' });
  });
});
