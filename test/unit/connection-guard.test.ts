/** Per-source budgets (issue 12 #7, #10): the IPv4 / IPv6-/64 grouping and the connection guard. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConnectionGuard } from '../../src/transport/connection-guard.ts';
import { ipGroup } from '../../src/transport/ip-group.ts';

describe('ipGroup: the source a budget is counted under', () => {
  const table: { desc: string; input: string; expected: string }[] = [
    { desc: 'IPv4 is the address', input: '203.0.113.5', expected: '203.0.113.5' },
    { desc: 'loopback IPv4', input: '127.0.0.2', expected: '127.0.0.2' },
    { desc: 'IPv6 → its /64', input: '2001:db8:1:2:a:b:c:d', expected: '2001:db8:1:2::/64' },
    { desc: 'compressed IPv6', input: '2001:db8::1', expected: '2001:db8:0:0::/64' },
    { desc: 'upper case and leading zeros', input: '2001:0DB8:0001:0002::FFFF', expected: '2001:db8:1:2::/64' },
    { desc: 'another host of the same /64', input: '2001:db8:1:2:ffff:ffff:ffff:ffff', expected: '2001:db8:1:2::/64' },
    { desc: 'the next /64', input: '2001:db8:1:3::1', expected: '2001:db8:1:3::/64' },
    { desc: 'IPv6 loopback', input: '::1', expected: '0:0:0:0::/64' },
    { desc: 'link-local with a zone id', input: 'fe80::1%eth0', expected: 'fe80:0:0:0::/64' },
    { desc: 'IPv4-mapped → the IPv4', input: '::ffff:198.51.100.7', expected: '198.51.100.7' },
    { desc: 'IPv4-mapped in hex', input: '::ffff:c633:6407', expected: '198.51.100.7' },
    { desc: 'IPv4-mapped, upper case', input: '::FFFF:10.0.0.1', expected: '10.0.0.1' },
    { desc: 'NAT64 keeps its /64 (a shared gateway prefix)', input: '64:ff9b::1.2.3.4', expected: '64:ff9b:0:0::/64' },
    { desc: 'a v4-compatible tail is IPv6', input: '::1.2.3.4', expected: '0:0:0:0::/64' },
    { desc: 'not an IP: as given', input: 'peer.example', expected: 'peer.example' },
    { desc: 'garbage: as given', input: '1.2.3', expected: '1.2.3' },
    { desc: 'empty', input: '', expected: '' },
  ];
  for (const { desc, input, expected } of table) {
    it(desc, () => assert.equal(ipGroup(input), expected));
  }
});

describe('ConnectionGuard', () => {
  const clock = () => {
    let t = 1_000_000;
    return { now: () => t, advance: (ms: number) => (t += ms) };
  };

  it('caps open connections per source; a release frees a slot; other sources are untouched', () => {
    const c = clock();
    const g = new ConnectionGuard({ maxPerSource: 3, handshakesPerS: 1000, handshakeBurst: 1000, now: c.now });
    const held = [g.admit('10.0.0.1'), g.admit('10.0.0.1'), g.admit('10.0.0.1')];
    assert.ok(held.every((a) => a.ok));
    const refused = g.admit('10.0.0.1');
    assert.deepEqual(refused.ok ? null : refused.reason, 'LIMIT_CONNECTIONS');
    assert.ok(g.admit('10.0.0.2').ok, 'another IPv4 address is another source');
    const first = held[0];
    if (first.ok) {
      first.release();
      first.release(); // twice is harmless
    }
    assert.equal(g.openFrom('10.0.0.1'), 2);
    assert.ok(g.admit('10.0.0.1').ok);
    assert.deepEqual(g.drops, { LIMIT_CONNECTIONS: 1 });
  });

  it('counts an IPv6 /64 as one source and a v4-mapped client as its IPv4', () => {
    const g = new ConnectionGuard({ maxPerSource: 2, handshakesPerS: 1000, handshakeBurst: 1000 });
    assert.ok(g.admit('2001:db8:1:2::1').ok);
    assert.ok(g.admit('2001:db8:1:2::2').ok);
    assert.equal(g.admit('2001:db8:1:2:dead:beef::1').ok, false, 'a third address of the /64');
    assert.ok(g.admit('2001:db8:1:3::1').ok);
    assert.ok(g.admit('::ffff:10.0.0.9').ok);
    assert.ok(g.admit('10.0.0.9').ok);
    assert.equal(g.admit('10.0.0.9').ok, false);
  });

  it('refills handshakes at the set rate up to the burst', () => {
    const c = clock();
    const g = new ConnectionGuard({ maxPerSource: 1000, handshakesPerS: 10, handshakeBurst: 5, now: c.now });
    let ok = 0;
    for (let i = 0; i < 20; i++) if (g.admit('10.0.0.1').ok) ok++;
    assert.equal(ok, 5, 'the burst');
    c.advance(500); // 0.5 s × 10/s = 5 tokens
    ok = 0;
    for (let i = 0; i < 20; i++) if (g.admit('10.0.0.1').ok) ok++;
    assert.equal(ok, 5);
    c.advance(60_000); // long idle: back to the burst, not 600
    ok = 0;
    for (let i = 0; i < 20; i++) if (g.admit('10.0.0.1').ok) ok++;
    assert.equal(ok, 5);
    assert.equal(g.drops.LIMIT_HANDSHAKES, 45);
    assert.ok(g.admit('10.0.0.2').ok, 'another source has its own bucket');
  });

  it('an exempted connection (a contact’s channel) stops counting; its release is then a no-op', () => {
    const g = new ConnectionGuard({ maxPerSource: 1, handshakesPerS: 1000, handshakeBurst: 1000 });
    const a = g.admit('10.0.0.1');
    assert.ok(a.ok);
    assert.equal(g.admit('10.0.0.1').ok, false);
    a.exempt();
    assert.equal(g.openFrom('10.0.0.1'), 0);
    const b = g.admit('10.0.0.1');
    assert.ok(b.ok);
    a.release();
    assert.equal(g.openFrom('10.0.0.1'), 1, 'the exempted socket closing does not free the other’s slot');
  });

  it('stays bounded under connections from many sources', () => {
    const c = clock();
    const g = new ConnectionGuard({ maxPerSource: 4, handshakesPerS: 10, handshakeBurst: 4, now: c.now });
    for (let i = 0; i < 50_000; i++) {
      const a = g.admit(`2001:db8:${(i >> 16) & 0xffff}:${i & 0xffff}::1`);
      if (a.ok) a.release();
      c.advance(1);
    }
    assert.ok(g.size <= 4_096 + 1, `${g.size} sources tracked`);
  });
});
