/**
 * The one reachability rule (src/protocol/reachability.ts) and the timer ids (src/protocol/timers.ts),
 * as tables.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { FailureCode } from '../../src/errors.ts';
import { type Leg, reachable, unreachableAfter, usable } from '../../src/protocol/reachability.ts';
import { type TimerId, timerKey } from '../../src/protocol/timers.ts';
import type { ContactRecord, ContactStatus } from '../../src/protocol/types.ts';

const contact = (status: ContactStatus, address: string | null): ContactRecord => ({
  uuid: '00000000-0000-8000-8000-000000000001',
  name: 'x',
  signPub: new Uint8Array(32),
  boxPub: new Uint8Array(32),
  secret: new Uint8Array(32),
  address,
  status,
  lastSeen: null,
  addedAt: 0,
  domain: null,
});

describe('usable() / reachable()', () => {
  const cases: { desc: string; input: ContactRecord | undefined; usable: boolean; reachable: boolean }[] = [
    { desc: 'active with an address', input: contact('active', '10.0.0.1:7575'), usable: true, reachable: true },
    { desc: 'inactive with an address', input: contact('inactive', '10.0.0.1:7575'), usable: true, reachable: false },
    { desc: 'pending with an address', input: contact('pending', '10.0.0.1:7575'), usable: false, reachable: false },
    { desc: 'active without an address', input: contact('active', null), usable: false, reachable: false },
    { desc: 'no contact', input: undefined, usable: false, reachable: false },
  ];
  for (const c of cases) {
    it(`${c.desc} → usable ${c.usable}, reachable ${c.reachable}`, () => {
      assert.equal(usable(c.input), c.usable);
      assert.equal(reachable(c.input), c.reachable);
    });
  }
});

describe('unreachableAfter()', () => {
  // [code, own request on the link, a message relayed for someone else]
  const cases: [FailureCode, boolean, boolean][] = [
    ['CONNECT_FAILED', true, true],
    ['TIMEOUT', true, true],
    ['TLS_PIN', true, true],
    // The node there does not share our link — unless it judges a relayed payload's origin.
    ['UNKNOWN_SENDER', true, false],
    ['BAD_SECRET', true, false],
    // The contact answered: it is there.
    ['DUPLICATE', false, false],
    ['REPLAYED', false, false],
    ['UNREACHABLE', false, false],
    ['RATE_LIMITED', false, false],
    ['INTERNAL', false, false],
    ['BAD_REQUEST', false, false],
    ['BAD_RESPONSE', false, false],
    ['HTTP_502', false, false],
    // Our own shutdown says nothing about the contact.
    ['ABORTED', false, false],
  ];
  for (const [code, own, relayed] of cases) {
    for (const [leg, expected] of [
      ['own', own],
      ['relayed', relayed],
    ] as [Leg, boolean][]) {
      it(`${code} on an ${leg} request → ${expected ? 'unreachable' : 'still there'}`, () =>
        assert.equal(unreachableAfter(code, leg), expected));
    }
  }
});

describe('timerKey()', () => {
  const ids: TimerId[] = [
    { kind: 'announce' },
    { kind: 'outbox' },
    { kind: 'sweep' },
    { kind: 'search', key: 'a' },
    { kind: 'search', key: 'b' },
    // A search key may contain colons (add:<uuid>:<id>): still one key per id.
    { kind: 'search', key: 'relay:1' },
    { kind: 'relay', id: 1 },
    { kind: 'relay', id: 2 },
  ];
  it('gives distinct ids distinct keys', () => {
    const keys = ids.map(timerKey);
    assert.equal(new Set(keys).size, ids.length, keys.join(' '));
  });
  it('gives equal ids equal keys', () => {
    for (const t of ids) assert.equal(timerKey(structuredClone(t)), timerKey(t));
  });
});
