/**
 * Table tests for the pure routing decisions (onmessage chart: "for self / is referred to /
 * reached max hops / relay to connected peers") and the seen-id cache.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { usable } from '../../src/protocol/reachability.ts';
import {
  bestReferrals,
  floodTargets,
  type Route,
  type RoutingView,
  route,
  searchOrder,
} from '../../src/protocol/routing.ts';
import { createSeenCache, seenAdd, seenHas, seenSweep } from '../../src/protocol/seen-cache.ts';
import type { ContactRecord, ContactStatus, ReferralRecord } from '../../src/protocol/types.ts';

const NOW = 1_000_000;
const u = (n: number): string => `00000000-0000-8000-8000-${String(n).padStart(12, '0')}`;
const SELF = u(0);

function contact(
  n: number,
  o: { status?: ContactStatus; address?: string | null; lastSeen?: number | null; domain?: string | null } = {},
): ContactRecord {
  return {
    uuid: u(n),
    name: `c${n}`,
    signPub: new Uint8Array(32),
    boxPub: new Uint8Array(32),
    secret: new Uint8Array(32),
    address: o.address === undefined ? `10.0.0.${n}:7575` : o.address,
    status: o.status ?? 'active',
    lastSeen: o.lastSeen === undefined ? NOW - n : o.lastSeen,
    addedAt: 0,
    domain: o.domain ?? null,
  };
}

function ref(referent: number, via: number, hops: number, o: { updatedAt?: number; expiresAt?: number } = {}) {
  return {
    referent: u(referent),
    via: u(via),
    hops,
    updatedAt: o.updatedAt ?? NOW - 10,
    expiresAt: o.expiresAt ?? NOW + 1000,
  } satisfies ReferralRecord;
}

function view(contacts: ContactRecord[], referrals: ReferralRecord[] = []): RoutingView {
  const map = new Map(contacts.map((c) => [c.uuid, c]));
  return {
    selfUuid: SELF,
    contact: (id) => map.get(id),
    referrals: (referent) => referrals.filter((r) => r.referent === referent),
    contacts: () => map.values(),
  };
}

/** Route → a comparable shape: kind plus the uuids it names, in order. */
function shape(r: Route): { kind: Route['kind']; uuids: string[] } {
  switch (r.kind) {
    case 'self':
    case 'unreachable':
      return { kind: r.kind, uuids: [] };
    case 'direct':
      return { kind: r.kind, uuids: [r.contact.uuid] };
    case 'referral':
    case 'digest':
      return { kind: r.kind, uuids: r.vias.map((c) => c.uuid) };
    case 'flood':
      return { kind: r.kind, uuids: r.targets.map((c) => c.uuid) };
  }
}

interface RouteCase {
  desc: string;
  input: {
    contacts: ContactRecord[];
    referrals?: ReferralRecord[];
    to: string;
    from: string | null;
    hops: number;
    searchRadius?: number;
    relayFanout?: number;
    maxViaReferrals?: number;
  };
  expected: { kind: Route['kind']; uuids: string[] };
}

const routeCases: RouteCase[] = [
  {
    desc: 'to self → self, even with no contacts and no hops left',
    input: { contacts: [], to: SELF, from: u(1), hops: 99 },
    expected: { kind: 'self', uuids: [] },
  },
  {
    desc: 'to a direct active contact → direct',
    input: { contacts: [contact(1), contact(2)], to: u(2), from: u(1), hops: 1 },
    expected: { kind: 'direct', uuids: [u(2)] },
  },
  {
    desc: 'to a direct inactive contact → still direct (a relay cannot know better)',
    input: { contacts: [contact(1), contact(2, { status: 'inactive' })], to: u(2), from: u(1), hops: 1 },
    expected: { kind: 'direct', uuids: [u(2)] },
  },
  {
    desc: 'direct contact beats referrals and flooding even at the hop limit',
    input: {
      contacts: [contact(1), contact(2), contact(3)],
      referrals: [ref(2, 3, 1)],
      to: u(2),
      from: u(1),
      hops: 10,
      searchRadius: 2,
    },
    expected: { kind: 'direct', uuids: [u(2)] },
  },
  {
    desc: 'a pending contact is not direct: falls through to flooding',
    input: { contacts: [contact(1), contact(2, { status: 'pending' }), contact(3)], to: u(2), from: u(1), hops: 1 },
    expected: { kind: 'flood', uuids: [u(3)] },
  },
  {
    desc: 'a direct contact without an address is not direct',
    input: { contacts: [contact(1), contact(2, { address: null }), contact(3)], to: u(2), from: u(1), hops: 1 },
    expected: { kind: 'flood', uuids: [u(3)] },
  },
  {
    desc: 'to === from (the target asked for itself) is never sent back to it',
    input: { contacts: [contact(2), contact(3)], to: u(2), from: u(2), hops: 1 },
    expected: { kind: 'flood', uuids: [u(3)] },
  },
  {
    desc: 'referral: vias best first (fewest hops, then most recently refreshed), at most 2',
    input: {
      contacts: [contact(1), contact(3), contact(4), contact(5), contact(6)],
      referrals: [
        ref(9, 3, 3),
        ref(9, 4, 1, { updatedAt: NOW - 50 }),
        ref(9, 5, 1, { updatedAt: NOW - 5 }),
        ref(9, 6, 2),
      ],
      to: u(9),
      from: u(1),
      hops: 1,
    },
    expected: { kind: 'referral', uuids: [u(5), u(4)] },
  },
  {
    desc: 'referral: maxViaReferrals 3 keeps three vias in order',
    input: {
      contacts: [contact(1), contact(3), contact(4), contact(5)],
      referrals: [ref(9, 3, 3), ref(9, 4, 2), ref(9, 5, 1)],
      to: u(9),
      from: u(1),
      hops: 1,
      maxViaReferrals: 3,
    },
    expected: { kind: 'referral', uuids: [u(5), u(4), u(3)] },
  },
  {
    desc: 'referral: skips the sender as via',
    input: {
      contacts: [contact(1), contact(3)],
      referrals: [ref(9, 1, 1), ref(9, 3, 2)],
      to: u(9),
      from: u(1),
      hops: 1,
    },
    expected: { kind: 'referral', uuids: [u(3)] },
  },
  {
    desc: 'referral: skips inactive, pending and address-less vias',
    input: {
      contacts: [
        contact(1),
        contact(3, { status: 'inactive' }),
        contact(4, { status: 'pending' }),
        contact(5, { address: null }),
        contact(6),
      ],
      referrals: [ref(9, 3, 1), ref(9, 4, 1), ref(9, 5, 1), ref(9, 6, 3)],
      to: u(9),
      from: u(1),
      hops: 1,
    },
    expected: { kind: 'referral', uuids: [u(6)] },
  },
  {
    desc: 'referral: skips vias that are not (any more) contacts',
    input: { contacts: [contact(1), contact(3)], referrals: [ref(9, 7, 1)], to: u(9), from: u(1), hops: 1 },
    expected: { kind: 'flood', uuids: [u(3)] },
  },
  {
    desc: 'referral: skips expired referrals',
    input: {
      contacts: [contact(1), contact(3), contact(4)],
      referrals: [ref(9, 3, 1, { expiresAt: NOW }), ref(9, 4, 2)],
      to: u(9),
      from: u(1),
      hops: 1,
    },
    expected: { kind: 'referral', uuids: [u(4)] },
  },
  {
    desc: 'referral: used even when hops are exhausted (it is a known route, not a flood)',
    input: { contacts: [contact(1), contact(3)], referrals: [ref(9, 3, 1)], to: u(9), from: u(1), hops: 5 },
    expected: { kind: 'referral', uuids: [u(3)] },
  },
  {
    desc: 'flood while hops < searchRadius: all active contacts except sender, most recently seen first',
    input: {
      contacts: [
        contact(1),
        contact(2, { lastSeen: NOW - 100 }),
        contact(3, { lastSeen: NOW }),
        contact(4, { status: 'inactive' }),
        contact(5, { lastSeen: null }),
      ],
      to: u(9),
      from: u(1),
      hops: 1,
      searchRadius: 2,
    },
    expected: { kind: 'flood', uuids: [u(3), u(2), u(5)] },
  },
  {
    desc: 'flood: the originator (from = null) floods to every active contact',
    input: { contacts: [contact(1), contact(2)], to: u(9), from: null, hops: 0, searchRadius: 1 },
    expected: { kind: 'flood', uuids: [u(1), u(2)] },
  },
  {
    desc: 'flood: relayFanout caps the targets',
    input: {
      contacts: [contact(1), contact(2), contact(3), contact(4)],
      to: u(9),
      from: u(1),
      hops: 1,
      relayFanout: 2,
    },
    expected: { kind: 'flood', uuids: [u(2), u(3)] },
  },
  {
    desc: 'hops === searchRadius → unreachable (no flooding at the limit)',
    input: { contacts: [contact(1), contact(2)], to: u(9), from: u(1), hops: 2, searchRadius: 2 },
    expected: { kind: 'unreachable', uuids: [] },
  },
  {
    desc: 'hops > searchRadius → unreachable',
    input: { contacts: [contact(1), contact(2)], to: u(9), from: u(1), hops: 3, searchRadius: 2 },
    expected: { kind: 'unreachable', uuids: [] },
  },
  {
    desc: 'hops left but the only contact is the sender → unreachable',
    input: { contacts: [contact(1)], to: u(9), from: u(1), hops: 1, searchRadius: 5 },
    expected: { kind: 'unreachable', uuids: [] },
  },
  {
    desc: 'hops left but every other contact is inactive → unreachable',
    input: {
      contacts: [contact(1), contact(2, { status: 'inactive' })],
      to: u(9),
      from: u(1),
      hops: 1,
      searchRadius: 5,
    },
    expected: { kind: 'unreachable', uuids: [] },
  },
  {
    desc: 'searchRadius 0 never floods',
    input: { contacts: [contact(1), contact(2)], to: u(9), from: null, hops: 0, searchRadius: 0 },
    expected: { kind: 'unreachable', uuids: [] },
  },
];

describe('route()', () => {
  for (const { desc, input, expected } of routeCases) {
    it(desc, () => {
      const v = view(input.contacts, input.referrals);
      const r = route(v, input.to, input.from, input.hops, NOW, {
        searchRadius: input.searchRadius ?? 2,
        relayFanout: input.relayFanout ?? 0,
        maxViaReferrals: input.maxViaReferrals,
      });
      assert.deepEqual(shape(r), expected);
    });
  }
});

describe('usable()', () => {
  const cases: { desc: string; input: ContactRecord | undefined; expected: boolean }[] = [
    { desc: 'undefined', input: undefined, expected: false },
    { desc: 'active with address', input: contact(1), expected: true },
    { desc: 'inactive with address', input: contact(1, { status: 'inactive' }), expected: true },
    { desc: 'pending', input: contact(1, { status: 'pending' }), expected: false },
    { desc: 'no address', input: contact(1, { address: null }), expected: false },
  ];
  for (const { desc, input, expected } of cases)
    it(`${desc} → ${expected}`, () => assert.equal(usable(input), expected));
});

describe('bestReferrals()', () => {
  const cases: { desc: string; input: ReferralRecord[]; expected: string[] }[] = [
    { desc: 'empty', input: [], expected: [] },
    {
      desc: 'expired (expiresAt ≤ now) are dropped, the rest kept',
      input: [ref(9, 1, 1, { expiresAt: NOW }), ref(9, 2, 1, { expiresAt: NOW - 1 }), ref(9, 3, 4)],
      expected: [u(3)],
    },
    {
      desc: 'fewest hops first',
      input: [ref(9, 1, 3), ref(9, 2, 1), ref(9, 3, 2)],
      expected: [u(2), u(3), u(1)],
    },
    {
      desc: 'ties: most recently refreshed first',
      input: [ref(9, 1, 2, { updatedAt: 10 }), ref(9, 2, 2, { updatedAt: 30 }), ref(9, 3, 2, { updatedAt: 20 })],
      expected: [u(2), u(3), u(1)],
    },
  ];
  for (const { desc, input, expected } of cases)
    it(desc, () => {
      const copy = input.map((r) => ({ ...r }));
      assert.deepEqual(
        bestReferrals(input, NOW).map((r) => r.via),
        expected,
      );
      assert.deepEqual(input, copy, 'the input list is not reordered or changed');
    });
});

describe('floodTargets()', () => {
  const all = [
    contact(1, { lastSeen: 10 }),
    contact(2, { lastSeen: 30 }),
    contact(3, { lastSeen: 20 }),
    contact(4, { status: 'inactive', lastSeen: 99 }),
    contact(5, { status: 'pending', lastSeen: 99 }),
    contact(6, { address: null, lastSeen: 99 }),
    contact(7, { lastSeen: null }),
    contact(8, { lastSeen: null }),
  ];
  const cases: { desc: string; input: { exclude: (string | null)[]; fanout: number }; expected: string[] }[] = [
    {
      desc: 'all usable active contacts, most recently seen first, never-seen last by uuid',
      input: { exclude: [], fanout: 0 },
      expected: [u(2), u(3), u(1), u(7), u(8)],
    },
    {
      desc: 'exclusions (null ignored)',
      input: { exclude: [u(2), null, u(7)], fanout: 0 },
      expected: [u(3), u(1), u(8)],
    },
    { desc: 'fanout keeps the first N', input: { exclude: [], fanout: 2 }, expected: [u(2), u(3)] },
    { desc: 'fanout after exclusion', input: { exclude: [u(2)], fanout: 2 }, expected: [u(3), u(1)] },
    {
      desc: 'fanout larger than the set',
      input: { exclude: [], fanout: 50 },
      expected: [u(2), u(3), u(1), u(7), u(8)],
    },
  ];
  for (const { desc, input, expected } of cases)
    it(desc, () =>
      assert.deepEqual(
        floodTargets(all, input.exclude, input.fanout).map((c) => c.uuid),
        expected,
      ),
    );
});

describe('searchOrder()', () => {
  const cases: {
    desc: string;
    input: { contacts: ContactRecord[]; referrals: ReferralRecord[] };
    expected: string[];
  }[] = [
    {
      desc: 'no referrals: active contacts by recency, the target itself excluded',
      input: { contacts: [contact(1, { lastSeen: 1 }), contact(2, { lastSeen: 2 }), contact(9)], referrals: [] },
      expected: [u(2), u(1)],
    },
    {
      desc: 'referral vias first (best first), then the rest, then peers with a domain',
      input: {
        contacts: [
          contact(1, { lastSeen: 50 }),
          contact(2, { lastSeen: 40 }),
          contact(3, { lastSeen: 30 }),
          contact(4, { lastSeen: 60, domain: 'peer.example' }),
          contact(5, { lastSeen: 10 }),
        ],
        referrals: [ref(9, 3, 2), ref(9, 5, 1)],
      },
      expected: [u(5), u(3), u(1), u(2), u(4)],
    },
    {
      desc: 'a referral via a peer with a domain still comes last, once',
      input: {
        contacts: [contact(1, { lastSeen: 5 }), contact(4, { domain: 'peer.example' })],
        referrals: [ref(9, 4, 1)],
      },
      expected: [u(1), u(4)],
    },
    {
      desc: 'expired referrals and inactive vias do not go first; inactive contacts are not asked',
      input: {
        contacts: [
          contact(1, { lastSeen: 5 }),
          contact(2, { lastSeen: 4 }),
          contact(3, { status: 'inactive', lastSeen: 3 }),
        ],
        referrals: [ref(9, 2, 1, { expiresAt: NOW - 1 }), ref(9, 3, 1)],
      },
      expected: [u(1), u(2)],
    },
    {
      desc: 'a referral via the target itself is not used',
      input: { contacts: [contact(1, { lastSeen: 5 }), contact(9)], referrals: [ref(9, 9, 1)] },
      expected: [u(1)],
    },
  ];
  for (const { desc, input, expected } of cases)
    it(desc, () =>
      assert.deepEqual(
        searchOrder(view(input.contacts, input.referrals), u(9), NOW).map((c) => c.uuid),
        expected,
      ),
    );
});

describe('SeenCache', () => {
  type Step = ['add', string, number] | ['has', string, number, boolean] | ['sweep', number] | ['size', number];
  const cases: { desc: string; input: { max: number; ttl: number; steps: Step[] }; expected: 'ok' }[] = [
    {
      desc: 'an id is seen until now + ttl (exclusive)',
      input: {
        max: 10,
        ttl: 100,
        steps: [
          ['has', 'a', 0, false],
          ['add', 'a', 0],
          ['has', 'a', 0, true],
          ['has', 'a', 99, true],
          ['has', 'a', 100, false],
          ['has', 'b', 50, false],
        ],
      },
      expected: 'ok',
    },
    {
      desc: 're-adding refreshes the expiry',
      input: {
        max: 10,
        ttl: 100,
        steps: [
          ['add', 'a', 0],
          ['add', 'a', 80],
          ['has', 'a', 150, true],
          ['has', 'a', 180, false],
        ],
      },
      expected: 'ok',
    },
    {
      desc: 'beyond max the oldest inserted is evicted',
      input: {
        max: 2,
        ttl: 1000,
        steps: [
          ['add', 'a', 0],
          ['add', 'b', 1],
          ['add', 'c', 2],
          ['size', 2],
          ['has', 'a', 3, false],
          ['has', 'b', 3, true],
          ['has', 'c', 3, true],
        ],
      },
      expected: 'ok',
    },
    {
      desc: 're-adding moves an id to the young end (the other one is evicted)',
      input: {
        max: 2,
        ttl: 1000,
        steps: [
          ['add', 'a', 0],
          ['add', 'b', 1],
          ['add', 'a', 2],
          ['add', 'c', 3],
          ['has', 'a', 4, true],
          ['has', 'b', 4, false],
          ['has', 'c', 4, true],
        ],
      },
      expected: 'ok',
    },
    {
      desc: 'sweep drops expired entries only',
      input: {
        max: 10,
        ttl: 100,
        steps: [
          ['add', 'a', 0],
          ['add', 'b', 50],
          ['size', 2],
          ['sweep', 100],
          ['size', 1],
          ['has', 'b', 100, true],
        ],
      },
      expected: 'ok',
    },
    {
      desc: 'max 0 keeps nothing',
      input: {
        max: 0,
        ttl: 100,
        steps: [
          ['add', 'a', 0],
          ['size', 0],
          ['has', 'a', 0, false],
        ],
      },
      expected: 'ok',
    },
  ];
  for (const { desc, input, expected } of cases)
    it(desc, () => {
      const cache = createSeenCache(input.max, input.ttl);
      for (const s of input.steps) {
        if (s[0] === 'add') seenAdd(cache, s[1], s[2]);
        else if (s[0] === 'has') assert.equal(seenHas(cache, s[1], s[2]), s[3], `has(${s[1]}, ${s[2]})`);
        else if (s[0] === 'sweep') seenSweep(cache, s[1]);
        else assert.equal(cache.entries.size, s[1], 'size');
      }
      assert.equal('ok', expected);
    });

  it('stays bounded under many distinct ids', () => {
    const cache = createSeenCache(100, 1_000_000);
    for (let i = 0; i < 10_000; i++) seenAdd(cache, `id${i}`, i);
    assert.equal(cache.entries.size, 100);
    assert.equal(seenHas(cache, 'id9899', 10_000), false);
    assert.equal(seenHas(cache, 'id9900', 10_000), true);
  });
});
