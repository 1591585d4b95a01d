/**
 * Store conformance: one suite run against MemoryStore and SqliteStore, SQLite-only durability
 * checks, and a property test that random op sequences leave both stores listing the same records.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import fc from 'fast-check';
import { MeshError } from '../../src/errors.ts';
import type { Store } from '../../src/ports.ts';
import type {
  ContactRecord,
  InboxRecord,
  InviteRecord,
  OutboxRecord,
  PendingRequestRecord,
  PersistOp,
  ReferralRecord,
  SelfRecord,
} from '../../src/protocol/types.ts';
import { MemoryStore, SCHEMA_VERSION, SqliteStore } from '../../src/store/index.ts';

/** A store under test and how to dispose of it. */
type StoreFactory = () => { store: Store; cleanup: () => void };

const tmpDirs: string[] = [];
/** A fresh temp dir, removed when the file's tests end. */
function tmpDir(): string {
  const dir = fs.mkdtempSync(os.tmpdir() + '/mesh-store-');
  tmpDirs.push(dir);
  return dir;
}
after(() => {
  for (const d of tmpDirs) fs.rmSync(d, { recursive: true, force: true });
});

const key = (seed: number, len = 32): Uint8Array =>
  Uint8Array.from({ length: len }, (_, i) => (seed * 31 + i * 7) & 0xff);

const self = (over: Partial<SelfRecord> = {}): SelfRecord => ({
  uuid: 'self-uuid',
  name: 'Alice',
  signPub: key(1),
  signPriv: key(2),
  boxPub: key(3),
  boxPriv: key(4),
  createdAt: 1_700_000_000_000,
  ...over,
});
const contact = (uuid: string, over: Partial<ContactRecord> = {}): ContactRecord => ({
  uuid,
  name: `name-${uuid}`,
  signPub: key(10),
  boxPub: key(11),
  secret: key(12),
  address: '10.0.0.1:4433',
  status: 'active',
  lastSeen: 1_700_000_000_500,
  addedAt: 1_700_000_000_000,
  domain: null,
  ...over,
});
const referral = (referent: string, via: string, over: Partial<ReferralRecord> = {}): ReferralRecord => ({
  referent,
  via,
  hops: 1,
  updatedAt: 1_700_000_000_000,
  expiresAt: 1_700_000_100_000,
  ...over,
});
const invite = (id: string, over: Partial<InviteRecord> = {}): InviteRecord => ({
  id,
  secret: key(20),
  createdAt: 1_700_000_000_000,
  expiresAt: 1_700_000_900_000,
  ...over,
});
const request = (uuid: string, over: Partial<PendingRequestRecord> = {}): PendingRequestRecord => ({
  uuid,
  name: `req-${uuid}`,
  signPub: key(30),
  boxPub: key(31),
  secret: key(32),
  authPhrase: 'apple banana cherry',
  address: '[2001:db8::1]:4433',
  receivedAt: 1_700_000_000_000,
  ...over,
});
const outbox = (id: string, over: Partial<OutboxRecord> = {}): OutboxRecord => ({
  id,
  to: 'bob',
  text: `hello ${id}`,
  createdAt: 1_700_000_000_000,
  attempts: 0,
  nextAttemptAt: 1_700_000_000_000,
  state: 'queued',
  deliveredAt: null,
  ...over,
});
const inbox = (id: string, receivedAt: number, over: Partial<InboxRecord> = {}): InboxRecord => ({
  id,
  from: 'bob',
  text: `msg ${id}`,
  sentAt: receivedAt - 10,
  receivedAt,
  ...over,
});

/** Every list of a store, for whole-state comparisons. */
function snapshot(s: Store) {
  return {
    self: s.getSelf(),
    contacts: s.listContacts(),
    referrals: s.listReferrals(),
    invites: s.listInvites(),
    requests: s.listRequests(),
    outbox: s.listOutbox(),
    inbox: s.listInbox(),
  };
}

const isStoreError = (err: unknown): boolean => err instanceof MeshError && err.code === 'STORE';

/** The Store contract; run once per implementation. */
export function storeConformance(name: string, makeStore: StoreFactory): void {
  describe(`Store conformance: ${name}`, () => {
    const withStore = (fn: (s: Store) => void) => () => {
      const { store, cleanup } = makeStore();
      try {
        fn(store);
      } finally {
        cleanup();
      }
    };

    it(
      'starts empty',
      withStore((s) => {
        assert.deepEqual(snapshot(s), {
          self: null,
          contacts: [],
          referrals: [],
          invites: [],
          requests: [],
          outbox: [],
          inbox: [],
        });
        assert.equal(s.hasInbox('bob', 'x'), false);
        assert.deepEqual(s.listDelivered(), []);
      }),
    );

    it(
      'self: put and replace',
      withStore((s) => {
        s.apply([{ op: 'self:put', self: self() }]);
        assert.deepEqual(s.getSelf(), self());
        s.apply([{ op: 'self:put', self: self({ name: 'Alice 2', uuid: 'other' }) }]);
        assert.deepEqual(s.getSelf(), self({ name: 'Alice 2', uuid: 'other' }));
      }),
    );

    it(
      'contacts: put, replace, delete',
      withStore((s) => {
        s.apply([
          { op: 'contact:put', contact: contact('a') },
          { op: 'contact:put', contact: contact('b') },
        ]);
        assert.deepEqual(s.listContacts(), [contact('a'), contact('b')]);
        s.apply([{ op: 'contact:put', contact: contact('a', { status: 'inactive', address: '10.0.0.9:1' }) }]);
        assert.deepEqual(s.listContacts(), [contact('a', { status: 'inactive', address: '10.0.0.9:1' }), contact('b')]);
        s.apply([
          { op: 'contact:delete', uuid: 'a' },
          { op: 'contact:delete', uuid: 'missing' },
        ]);
        assert.deepEqual(s.listContacts(), [contact('b')]);
      }),
    );

    it(
      'referrals: put, replace, delete by (referent, via)',
      withStore((s) => {
        s.apply([
          { op: 'referral:put', referral: referral('x', 'a') },
          { op: 'referral:put', referral: referral('x', 'b', { hops: 2 }) },
          { op: 'referral:put', referral: referral('y', 'a') },
        ]);
        assert.equal(s.listReferrals().length, 3);
        s.apply([{ op: 'referral:put', referral: referral('x', 'a', { hops: 3, expiresAt: 5 }) }]);
        assert.deepEqual(s.listReferrals(), [
          referral('x', 'b', { hops: 2 }),
          referral('x', 'a', { hops: 3, expiresAt: 5 }),
          referral('y', 'a'),
        ]);
        s.apply([{ op: 'referral:delete', referent: 'x', via: 'a' }]);
        assert.deepEqual(s.listReferrals(), [referral('x', 'b', { hops: 2 }), referral('y', 'a')]);
      }),
    );

    it(
      'invites: put, replace, delete',
      withStore((s) => {
        s.apply([
          { op: 'invite:put', invite: invite('i1') },
          { op: 'invite:put', invite: invite('i2', { createdAt: 1 }) },
        ]);
        assert.deepEqual(s.listInvites(), [invite('i2', { createdAt: 1 }), invite('i1')]);
        s.apply([{ op: 'invite:put', invite: invite('i1', { secret: key(99, 16) }) }]);
        assert.deepEqual(s.listInvites()[1], invite('i1', { secret: key(99, 16) }));
        s.apply([{ op: 'invite:delete', id: 'i2' }]);
        assert.deepEqual(s.listInvites(), [invite('i1', { secret: key(99, 16) })]);
      }),
    );

    it(
      'requests: put, replace, delete',
      withStore((s) => {
        s.apply([
          { op: 'request:put', request: request('r1') },
          { op: 'request:put', request: request('r2', { receivedAt: 5 }) },
        ]);
        assert.deepEqual(s.listRequests(), [request('r2', { receivedAt: 5 }), request('r1')]);
        s.apply([{ op: 'request:put', request: request('r1', { authPhrase: 'x y z', address: null }) }]);
        assert.deepEqual(s.listRequests()[1], request('r1', { authPhrase: 'x y z', address: null }));
        s.apply([{ op: 'request:delete', uuid: 'r1' }]);
        assert.deepEqual(s.listRequests(), [request('r2', { receivedAt: 5 })]);
      }),
    );

    it(
      'outbox: put, state updates, delete',
      withStore((s) => {
        s.apply([
          { op: 'outbox:put', message: outbox('m1') },
          { op: 'outbox:put', message: outbox('m2', { createdAt: 2_000_000_000_000 }) },
        ]);
        const sent = outbox('m1', { state: 'sent', attempts: 1, nextAttemptAt: 1_700_000_005_000 });
        s.apply([{ op: 'outbox:put', message: sent }]);
        const delivered = { ...sent, state: 'delivered' as const, deliveredAt: 1_700_000_006_000 };
        s.apply([{ op: 'outbox:put', message: delivered }]);
        assert.deepEqual(s.listOutbox(), [delivered, outbox('m2', { createdAt: 2_000_000_000_000 })]);
        s.apply([{ op: 'outbox:delete', id: 'm2' }]);
        assert.deepEqual(s.listOutbox(), [delivered]);
      }),
    );

    it(
      'inbox: put, replace, hasInbox',
      withStore((s) => {
        s.apply([{ op: 'inbox:put', message: inbox('a', 10) }]);
        assert.equal(s.hasInbox('bob', 'a'), true);
        assert.equal(s.hasInbox('bob', 'b'), false);
        assert.equal(s.hasInbox('carol', 'a'), false);
        s.apply([{ op: 'inbox:put', message: inbox('a', 10, { text: 'edited' }) }]);
        assert.deepEqual(s.listInbox(), [inbox('a', 10, { text: 'edited' })]);
      }),
    );

    it(
      'inbox: keyed by (from, id): the same id from two senders is two messages (issue 12 #18)',
      withStore((s) => {
        const fromCarol = inbox('a', 5, { from: 'carol', text: 'carol first' });
        const fromBob = inbox('a', 10, { text: 'bob second' });
        s.apply([{ op: 'inbox:put', message: fromCarol }]);
        s.apply([{ op: 'inbox:put', message: fromBob }]);
        assert.deepEqual(s.listInbox(), [fromCarol, fromBob]);
        assert.equal(s.hasInbox('carol', 'a'), true);
        assert.equal(s.hasInbox('bob', 'a'), true);
        // Same receivedAt and id: ordered by sender.
        const tie = inbox('a', 5, { from: 'alice' });
        s.apply([{ op: 'inbox:put', message: tie }]);
        assert.deepEqual(
          s.listInbox().map((m) => m.from),
          ['alice', 'carol', 'bob'],
        );
      }),
    );

    it(
      'clearInbox: deletes before a time (or all), counts, and keeps the de-duplication memory until pruned',
      withStore((s) => {
        const msgs = [inbox('a', 10), inbox('b', 20), inbox('c', 30, { from: 'carol' })];
        s.apply(msgs.map((message) => ({ op: 'inbox:put', message })));
        const keys = () => s.listDelivered().map((d) => `${d.from}/${d.id}@${d.receivedAt}`);
        assert.deepEqual(keys(), ['bob/a@10', 'bob/b@20', 'carol/c@30']);
        assert.equal(s.clearInbox(20), 1, 'before is exclusive');
        assert.deepEqual(
          s.listInbox().map((m) => m.id),
          ['b', 'c'],
        );
        assert.equal(s.hasInbox('bob', 'a'), false);
        assert.deepEqual(keys(), ['bob/a@10', 'bob/b@20', 'carol/c@30'], 'the cleared row is still remembered');
        assert.equal(s.clearInbox(20), 0);
        assert.equal(s.clearInbox(null), 2);
        assert.deepEqual(s.listInbox(), []);
        assert.deepEqual(keys(), ['bob/a@10', 'bob/b@20', 'carol/c@30']);
        s.apply([{ op: 'delivered:prune', before: 20 }]);
        assert.deepEqual(keys(), ['bob/b@20', 'carol/c@30']);
        s.apply([{ op: 'inbox:put', message: inbox('d', 5) }]);
        s.apply([{ op: 'delivered:prune', before: 1000 }]);
        assert.deepEqual(keys(), ['bob/d@5'], 'prune forgets cleared rows only: the inbox is the user’s');
        assert.throws(
          () => s.clearInbox(Number.NaN),
          (e: unknown) => e instanceof MeshError,
        );
      }),
    );

    it(
      'inbox: oldest first, since is exclusive, limit keeps the newest N',
      withStore((s) => {
        // Inserted out of order; two share receivedAt 30 (tie broken by id).
        const msgs = [inbox('e', 50), inbox('a', 10), inbox('d', 30), inbox('c', 30), inbox('b', 20)];
        s.apply(msgs.map((message) => ({ op: 'inbox:put', message })));
        const ids = (list: InboxRecord[]) => list.map((m) => m.id);
        assert.deepEqual(ids(s.listInbox()), ['a', 'b', 'c', 'd', 'e']);
        assert.deepEqual(ids(s.listInbox({})), ['a', 'b', 'c', 'd', 'e']);
        assert.deepEqual(ids(s.listInbox({ since: 20 })), ['c', 'd', 'e']);
        assert.deepEqual(ids(s.listInbox({ since: 50 })), []);
        assert.deepEqual(ids(s.listInbox({ limit: 2 })), ['d', 'e']);
        assert.deepEqual(ids(s.listInbox({ limit: 0 })), []);
        assert.deepEqual(ids(s.listInbox({ limit: 100 })), ['a', 'b', 'c', 'd', 'e']);
        assert.deepEqual(ids(s.listInbox({ since: 10, limit: 3 })), ['c', 'd', 'e']);
        assert.deepEqual(ids(s.listInbox({ since: 10, limit: 1 })), ['e']);
        assert.deepEqual(ids(s.listInbox({ since: 0, limit: 10 })), ['a', 'b', 'c', 'd', 'e']);
      }),
    );

    it(
      'lists are ordered (contacts by addedAt, outbox by createdAt, referrals by referent then hops)',
      withStore((s) => {
        s.apply([
          { op: 'contact:put', contact: contact('z', { addedAt: 1 }) },
          { op: 'contact:put', contact: contact('b', { addedAt: 3 }) },
          { op: 'contact:put', contact: contact('a', { addedAt: 3 }) },
          { op: 'outbox:put', message: outbox('z', { createdAt: 1 }) },
          { op: 'outbox:put', message: outbox('a', { createdAt: 2 }) },
          { op: 'referral:put', referral: referral('r', 'v1', { hops: 3 }) },
          { op: 'referral:put', referral: referral('r', 'v2', { hops: 1 }) },
          { op: 'referral:put', referral: referral('q', 'v3', { hops: 9 }) },
        ]);
        assert.deepEqual(
          s.listContacts().map((c) => c.uuid),
          ['z', 'a', 'b'],
        );
        assert.deepEqual(
          s.listOutbox().map((m) => m.id),
          ['z', 'a'],
        );
        assert.deepEqual(
          s.listReferrals().map((r) => r.via),
          ['v3', 'v2', 'v1'],
        );
      }),
    );

    it(
      'Uint8Array fields round-trip byte-exact (all byte values, empty, odd lengths, subarray views)',
      withStore((s) => {
        const all = Uint8Array.from({ length: 256 }, (_, i) => i);
        const view = all.subarray(100, 132); // a view with a non-zero byteOffset
        s.apply([
          {
            op: 'self:put',
            self: self({ signPub: all, signPriv: view, boxPub: new Uint8Array(0), boxPriv: Uint8Array.of(0) }),
          },
          { op: 'contact:put', contact: contact('a', { secret: Uint8Array.of(0, 0, 0, 255, 0) }) },
        ]);
        const got = s.getSelf()!;
        assert.ok(got.signPub instanceof Uint8Array);
        assert.deepEqual(got.signPub, all);
        assert.deepEqual(
          got.signPriv,
          Uint8Array.from({ length: 32 }, (_, i) => 100 + i),
        );
        assert.deepEqual(got.boxPub, new Uint8Array(0));
        assert.deepEqual(got.boxPriv, Uint8Array.of(0));
        assert.deepEqual(s.listContacts()[0].secret, Uint8Array.of(0, 0, 0, 255, 0));
      }),
    );

    it(
      'null fields round-trip as null',
      withStore((s) => {
        const c = contact('a', { address: null, lastSeen: null, domain: null, status: 'pending' });
        const cd = contact('b', { domain: 'mesh.example.org', lastSeen: 0 });
        const r = request('r', { address: null });
        const m = outbox('m', { deliveredAt: null });
        s.apply([
          { op: 'contact:put', contact: c },
          { op: 'contact:put', contact: cd },
          { op: 'request:put', request: r },
          { op: 'outbox:put', message: m },
        ]);
        assert.deepEqual(s.listContacts(), [c, cd]);
        assert.strictEqual(s.listContacts()[0].address, null);
        assert.strictEqual(s.listContacts()[0].lastSeen, null);
        assert.strictEqual(s.listContacts()[0].domain, null);
        assert.deepEqual(s.listRequests(), [r]);
        assert.deepEqual(s.listOutbox(), [m]);
      }),
    );

    it(
      'strings round-trip exactly (unicode, empty)',
      withStore((s) => {
        const m = inbox('ü-😀', 1, { text: 'héllo 😀 \u0000 \n end', from: '' });
        s.apply([{ op: 'inbox:put', message: m }]);
        assert.deepEqual(s.listInbox(), [m]);
        assert.equal(s.hasInbox('', 'ü-😀'), true);
      }),
    );

    it(
      'apply is atomic: a batch whose last op is invalid leaves nothing applied',
      withStore((s) => {
        s.apply([{ op: 'contact:put', contact: contact('keep') }]);
        const before = snapshot(s);
        const good: PersistOp[] = [
          { op: 'self:put', self: self() },
          { op: 'contact:put', contact: contact('new') },
          { op: 'contact:delete', uuid: 'keep' },
          { op: 'referral:put', referral: referral('x', 'a') },
          { op: 'invite:put', invite: invite('i') },
          { op: 'request:put', request: request('r') },
          { op: 'outbox:put', message: outbox('o') },
          { op: 'inbox:put', message: inbox('m', 1) },
        ];
        const bad: unknown[] = [
          { op: 'nope:put' },
          { op: 'contact:put', contact: { ...contact('c'), status: 'bogus' } },
          { op: 'contact:put', contact: { ...contact('c'), signPub: 'not bytes' } },
          { op: 'outbox:put', message: { ...outbox('o'), attempts: Number.NaN } },
          { op: 'inbox:put' },
          { op: 'invite:delete', id: 42 },
          null,
        ];
        for (const b of bad) {
          assert.throws(() => s.apply([...good, b as PersistOp]), isStoreError, JSON.stringify(b));
          assert.deepEqual(snapshot(s), before);
        }
        assert.equal(s.hasInbox('bob', 'm'), false);
        s.apply([]); // empty batch is fine
        assert.deepEqual(snapshot(s), before);
      }),
    );

    it(
      'returned objects are copies; stored state cannot be mutated through them',
      withStore((s) => {
        const me = self();
        const c = contact('a');
        s.apply([
          { op: 'self:put', self: me },
          { op: 'contact:put', contact: c },
          { op: 'inbox:put', message: inbox('m', 1) },
        ]);
        // Mutating the inputs after apply must not change the store.
        me.signPriv[0] ^= 0xff;
        me.name = 'mutated';
        c.secret.fill(0);
        c.name = 'mutated';
        assert.deepEqual(s.getSelf(), self());
        assert.deepEqual(s.listContacts(), [contact('a')]);
        // Mutating the outputs must not change the store either.
        const got = s.getSelf()!;
        got.boxPriv.fill(7);
        got.uuid = 'x';
        const list = s.listContacts();
        list[0].signPub[0] ^= 0xff;
        list[0].status = 'inactive';
        list.push(contact('b'));
        const msgs = s.listInbox();
        msgs[0].text = 'changed';
        assert.deepEqual(s.getSelf(), self());
        assert.deepEqual(s.listContacts(), [contact('a')]);
        assert.deepEqual(s.listInbox(), [inbox('m', 1)]);
        assert.notEqual(s.getSelf(), s.getSelf());
        assert.notEqual(s.getSelf()!.signPub, s.getSelf()!.signPub);
      }),
    );

    it(
      'only the record fields are stored (extra properties are dropped)',
      withStore((s) => {
        const extra = { ...inbox('m', 1), junk: 'x' } as InboxRecord;
        s.apply([{ op: 'inbox:put', message: extra }]);
        assert.deepEqual(s.listInbox(), [inbox('m', 1)]);
      }),
    );

    it(
      'close() is idempotent and later calls throw STORE',
      withStore((s) => {
        s.close();
        s.close();
        assert.throws(() => s.listContacts(), isStoreError);
        assert.throws(() => s.apply([]), isStoreError);
      }),
    );
  });
}

/** A fresh SqliteStore in its own temp dir. */
function makeSqlite(): { store: SqliteStore; file: string; cleanup: () => void } {
  const dir = tmpDir();
  const file = path.join(dir, 'mesh.db');
  const store = SqliteStore.open(file);
  return {
    store,
    file,
    cleanup: () => {
      store.close();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

storeConformance('MemoryStore', () => ({ store: new MemoryStore(), cleanup: () => {} }));
storeConformance('SqliteStore', makeSqlite);

describe('SqliteStore durability', () => {
  it('reopening the same path keeps every record', () => {
    const { store, file, cleanup } = makeSqlite();
    try {
      const ops: PersistOp[] = [
        { op: 'self:put', self: self() },
        { op: 'contact:put', contact: contact('a', { domain: 'x.example' }) },
        { op: 'referral:put', referral: referral('x', 'a') },
        { op: 'invite:put', invite: invite('i') },
        { op: 'request:put', request: request('r') },
        { op: 'outbox:put', message: outbox('o') },
        { op: 'inbox:put', message: inbox('m', 1) },
      ];
      store.apply(ops);
      const before = snapshot(store);
      store.close();
      const again = SqliteStore.open(file);
      try {
        assert.deepEqual(snapshot(again), before);
        assert.equal(again.hasInbox('bob', 'm'), true);
      } finally {
        again.close();
      }
      const ro = SqliteStore.open(file, { readonly: true });
      try {
        assert.deepEqual(snapshot(ro), before);
        assert.throws(() => ro.apply([{ op: 'invite:delete', id: 'i' }]), isStoreError);
      } finally {
        ro.close();
      }
    } finally {
      cleanup();
    }
  });

  it('schema_version is at the latest version, recorded once', () => {
    const { store, file, cleanup } = makeSqlite();
    try {
      store.close();
      SqliteStore.open(file).close(); // a second open must not re-run migrations
      const db = new Database(file, { readonly: true });
      try {
        const rows = db.prepare('SELECT version, applied_at FROM schema_version ORDER BY version').all() as {
          version: number;
          applied_at: number;
        }[];
        assert.equal(rows.at(-1)!.version, SCHEMA_VERSION);
        assert.equal(new Set(rows.map((r) => r.version)).size, rows.length);
        assert.ok(rows.every((r) => Number.isInteger(r.applied_at) && r.applied_at > 0));
        assert.equal(db.pragma('journal_mode', { simple: true }), 'wal');
      } finally {
        db.close();
      }
    } finally {
      cleanup();
    }
  });

  it('the DB file and its -wal/-shm files have mode 0600; a missing dir is created 0700', () => {
    const base = tmpDir();
    const dir = path.join(base, 'nested', 'data');
    const file = path.join(dir, 'mesh.db');
    const oldUmask = process.umask(0o000); // even with a permissive umask
    let store: SqliteStore;
    try {
      store = SqliteStore.open(file);
    } finally {
      process.umask(oldUmask);
    }
    try {
      store.apply([{ op: 'self:put', self: self() }]);
      assert.equal(fs.statSync(dir).mode & 0o777, 0o700);
      assert.equal(fs.statSync(file).mode & 0o777, 0o600);
      for (const suffix of ['-wal', '-shm']) {
        assert.ok(fs.existsSync(file + suffix), `${suffix} exists while open`);
        assert.equal(fs.statSync(file + suffix).mode & 0o777, 0o600, suffix);
      }
    } finally {
      store.close();
    }
    // An existing file with loose permissions is tightened at open.
    fs.chmodSync(file, 0o644);
    SqliteStore.open(file).close();
    assert.equal(fs.statSync(file).mode & 0o777, 0o600);
  });

  it('a file that is not a database is refused with STORE', () => {
    const file = path.join(tmpDir(), 'mesh.db');
    fs.writeFileSync(file, 'this is not sqlite'.repeat(100));
    assert.throws(() => SqliteStore.open(file), isStoreError);
  });
});

// ---- property test: random op sequences give the same lists in both stores ----

const ids = fc.constantFrom('a', 'b', 'c', 'd', 'é', 'Z');
const time = fc.integer({ min: 0, max: 20 });
const bigTime = fc.integer({ min: 0, max: 2 ** 50 });
const bytesArb = fc.uint8Array({ minLength: 0, maxLength: 40 });
const text = fc.string({ maxLength: 12, unit: 'binary' });
const nullableStr = fc.option(text, { nil: null });

const selfArb: fc.Arbitrary<SelfRecord> = fc.record({
  uuid: ids,
  name: text,
  signPub: bytesArb,
  signPriv: bytesArb,
  boxPub: bytesArb,
  boxPriv: bytesArb,
  createdAt: bigTime,
});
const contactArb: fc.Arbitrary<ContactRecord> = fc.record({
  uuid: ids,
  name: text,
  signPub: bytesArb,
  boxPub: bytesArb,
  secret: bytesArb,
  address: nullableStr,
  status: fc.constantFrom('active', 'inactive', 'pending'),
  lastSeen: fc.option(bigTime, { nil: null }),
  addedAt: time,
  domain: nullableStr,
});
const referralArb: fc.Arbitrary<ReferralRecord> = fc.record({
  referent: ids,
  via: ids,
  hops: fc.integer({ min: 0, max: 4 }),
  updatedAt: bigTime,
  expiresAt: bigTime,
});
const inviteArb: fc.Arbitrary<InviteRecord> = fc.record({
  id: ids,
  secret: bytesArb,
  createdAt: time,
  expiresAt: bigTime,
});
const requestArb: fc.Arbitrary<PendingRequestRecord> = fc.record({
  uuid: ids,
  name: text,
  signPub: bytesArb,
  boxPub: bytesArb,
  secret: bytesArb,
  authPhrase: text,
  address: nullableStr,
  receivedAt: time,
});
const outboxArb: fc.Arbitrary<OutboxRecord> = fc.record({
  id: ids,
  to: ids,
  text,
  createdAt: time,
  attempts: fc.nat(10),
  nextAttemptAt: bigTime,
  state: fc.constantFrom('queued', 'sent', 'delivered', 'failed'),
  deliveredAt: fc.option(bigTime, { nil: null }),
});
const inboxArb: fc.Arbitrary<InboxRecord> = fc.record({
  id: ids,
  from: ids,
  text,
  sentAt: bigTime,
  receivedAt: time,
});

const opArb: fc.Arbitrary<PersistOp> = fc.oneof(
  selfArb.map((s): PersistOp => ({ op: 'self:put', self: s })),
  contactArb.map((contact): PersistOp => ({ op: 'contact:put', contact })),
  ids.map((uuid): PersistOp => ({ op: 'contact:delete', uuid })),
  referralArb.map((referral): PersistOp => ({ op: 'referral:put', referral })),
  fc.tuple(ids, ids).map(([referent, via]): PersistOp => ({ op: 'referral:delete', referent, via })),
  inviteArb.map((i): PersistOp => ({ op: 'invite:put', invite: i })),
  ids.map((id): PersistOp => ({ op: 'invite:delete', id })),
  requestArb.map((r): PersistOp => ({ op: 'request:put', request: r })),
  ids.map((uuid): PersistOp => ({ op: 'request:delete', uuid })),
  outboxArb.map((message): PersistOp => ({ op: 'outbox:put', message })),
  ids.map((id): PersistOp => ({ op: 'outbox:delete', id })),
  inboxArb.map((message): PersistOp => ({ op: 'inbox:put', message })),
  time.map((before): PersistOp => ({ op: 'delivered:prune', before })),
);
/** A batch; sometimes poisoned with an invalid trailing op (then neither store may change). */
const batchArb = fc.record({
  ops: fc.array(opArb, { maxLength: 6 }),
  poison: fc.boolean(),
  /** Then clear the inbox before this time (null: all; undefined: no clear). */
  clear: fc.option(fc.option(time, { nil: null }), { nil: undefined }),
});

describe('MemoryStore and SqliteStore agree (property)', () => {
  it('random op sequences give equal list*() results', () => {
    fc.assert(
      fc.property(
        fc.array(batchArb, { maxLength: 8 }),
        fc.option(time, { nil: undefined }),
        fc.option(fc.nat(8), { nil: undefined }),
        (batches, since, limit) => {
          const mem = new MemoryStore();
          const sql = makeSqlite();
          try {
            for (const { ops, poison, clear } of batches) {
              const batch = poison ? [...ops, { op: 'bogus' } as unknown as PersistOp] : ops;
              const results = [mem, sql.store].map((s) => {
                try {
                  s.apply(batch);
                  return 'ok';
                } catch (err) {
                  assert.ok(isStoreError(err));
                  return 'STORE';
                }
              });
              assert.equal(results[0], results[1]);
              assert.equal(results[0], poison ? 'STORE' : 'ok');
              if (clear !== undefined) assert.equal(sql.store.clearInbox(clear), mem.clearInbox(clear));
            }
            assert.deepEqual(snapshot(sql.store), snapshot(mem));
            assert.deepEqual(sql.store.listInbox({ since, limit }), mem.listInbox({ since, limit }));
            assert.deepEqual(sql.store.listDelivered(), mem.listDelivered());
            for (const from of ['a', 'b'])
              for (const id of ['a', 'b', 'é']) assert.equal(sql.store.hasInbox(from, id), mem.hasInbox(from, id));
          } finally {
            mem.close();
            sql.cleanup();
          }
        },
      ),
      { numRuns: 150 },
    );
  });
});
