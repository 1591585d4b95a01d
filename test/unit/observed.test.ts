/**
 * The pure rules of docs/PROTOCOL.md §15 (src/protocol/observed.ts) as tables: which public host the
 * contacts agree on, what we advertise, and which address we keep for a contact that may share our
 * LAN (no hairpinning: its LAN address instead of its public one).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { CoreContext } from '../../src/protocol/context.ts';
import { advertise, agreedHost, lanRoute, sameLan } from '../../src/protocol/observed.ts';
import type { NatState } from '../../src/protocol/state.ts';

const NOW = 10 * 3_600_000;
const obs = (...hosts: string[]) => hosts.map((host) => ({ host, at: NOW }));

test('agreedHost: local reports do not vote, one contact cannot move an agreed host, two can', () => {
  const cases: { desc: string; o: { host: string; at: number }[]; prev: string | null; want: string | null }[] = [
    { desc: 'nobody reported', o: [], prev: null, want: null },
    { desc: 'one contact, non-local', o: obs('198.18.0.21'), prev: null, want: '198.18.0.21' },
    { desc: 'only LAN contacts saw our local host', o: obs('10.77.1.10'), prev: null, want: '10.77.1.10' },
    { desc: 'two agree', o: obs('198.18.0.21', '198.18.0.21', '10.77.1.10'), prev: null, want: '198.18.0.21' },
    {
      desc: 'one dissenter keeps the previous',
      o: obs('198.18.0.21', '198.18.0.9'),
      prev: '198.18.0.21',
      want: '198.18.0.21',
    },
    {
      desc: 'two new reports move it',
      o: obs('198.18.0.31', '198.18.0.31', '198.18.0.21'),
      prev: '198.18.0.21',
      want: '198.18.0.31',
    },
    { desc: 'stale reports are ignored', o: [{ host: '198.18.0.21', at: 0 }], prev: null, want: null },
  ];
  for (const c of cases) assert.equal(agreedHost(c.o, '10.77.1.10', c.prev, NOW), c.want, c.desc);
});

test('advertise: mapping, then the observed host (dialable only once proven), else the local address', () => {
  const base = { local: '10.77.1.10:7575', observedHost: null, mapping: null, reachability: 'unknown' } as const;
  const cases: { desc: string; nat: Partial<NatState>; want: { address: string | null; dialable: boolean } }[] = [
    { desc: 'nothing known', nat: {}, want: { address: '10.77.1.10:7575', dialable: true } },
    { desc: 'mapped', nat: { mapping: '198.18.0.21:7575' }, want: { address: '198.18.0.21:7575', dialable: true } },
    {
      desc: 'a mapping proven useless',
      nat: { mapping: '198.18.0.21:7575', observedHost: '198.18.0.21', reachability: 'private' },
      want: { address: '198.18.0.21:7575', dialable: false },
    },
    {
      desc: 'behind a NAT, unknown',
      nat: { observedHost: '198.18.0.21' },
      want: { address: '198.18.0.21:7575', dialable: false },
    },
    {
      desc: 'behind a NAT, dialled back',
      nat: { observedHost: '198.18.0.21', reachability: 'public' },
      want: { address: '198.18.0.21:7575', dialable: true },
    },
    {
      desc: 'private, seen locally',
      nat: { observedHost: '10.77.1.10', reachability: 'private' },
      want: { address: '10.77.1.10:7575', dialable: false },
    },
  ];
  for (const c of cases) assert.deepEqual(advertise({ ...base, ...c.nat } as NatState, 7575), c.want, c.desc);
});

test('sameLan: private IPv4 hosts of one /24 only', () => {
  assert.equal(sameLan('10.77.1.10', '10.77.1.20'), true);
  assert.equal(sameLan('10.77.1.10', '10.77.2.20'), false);
  assert.equal(sameLan('198.18.0.11', '198.18.0.12'), false, 'public hosts are not a LAN');
  assert.equal(sameLan('192.168.1.2', '192.168.1.3'), true);
});

test('lanRoute: a contact behind our own public IP, or undialable with a LAN address on ours, is kept at its LAN address', () => {
  const core = (nat: Partial<NatState>) =>
    ({
      state: { nat: { local: '10.77.1.20:7575', observedHost: null, peers: new Map(), ...nat } },
    }) as unknown as CoreContext;
  const peers = (addr: string, dialable: boolean, lan = '10.77.1.10:7575') =>
    new Map([['alice', { addr, lan, dialable }]]);
  const cases: { desc: string; nat: Partial<NatState>; address: string; want: string }[] = [
    {
      desc: 'no LAN address known',
      nat: { observedHost: '198.18.0.21' },
      address: '198.18.0.21:7575',
      want: '198.18.0.21:7575',
    },
    {
      desc: 'same public host as ours (mapped contact)',
      nat: { observedHost: '198.18.0.21', peers: peers('198.18.0.21:7575', true) },
      address: '198.18.0.21:7575',
      want: '10.77.1.10:7575',
    },
    {
      desc: 'another public host',
      nat: { observedHost: '198.18.0.22', peers: peers('198.18.0.21:7575', true) },
      address: '198.18.0.21:7575',
      want: '198.18.0.21:7575',
    },
    {
      desc: 'our public host unknown, its address undialable, its LAN on ours',
      nat: { peers: peers('198.18.0.21:7575', false) },
      address: '198.18.0.21:7575',
      want: '10.77.1.10:7575',
    },
    {
      desc: 'undialable but its LAN is not ours (a public contact far away)',
      nat: { local: '198.18.0.11:7575', peers: peers('198.18.0.21:7575', false) },
      address: '198.18.0.21:7575',
      want: '198.18.0.21:7575',
    },
  ];
  for (const c of cases) assert.equal(lanRoute(core(c.nat), 'alice', c.address), c.want, c.desc);
});
