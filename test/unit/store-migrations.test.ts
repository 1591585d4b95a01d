/** SqliteStore schema migrations: reopening at the current version, refusing a newer schema. */
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { MeshError } from '../../src/errors.ts';
import type { InboxRecord } from '../../src/protocol/types.ts';
import { MIGRATIONS, SCHEMA_VERSION, SqliteStore } from '../../src/store/index.ts';

const dirs: string[] = [];
/** A fresh temp DB path, removed when the file's tests end. */
function tmpDb(): string {
  const dir = fs.mkdtempSync(os.tmpdir() + '/mesh-store-');
  dirs.push(dir);
  return path.join(dir, 'mesh.db');
}
after(() => {
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

const msg: InboxRecord = { id: 'm1', from: 'bob', text: 'hi', sentAt: 1, receivedAt: 2 };
const versions = (file: string): number[] => {
  const db = new Database(file, { readonly: true });
  try {
    return (db.prepare('SELECT version FROM schema_version ORDER BY rowid').all() as { version: number }[]).map(
      (r) => r.version,
    );
  } finally {
    db.close();
  }
};
const sha256 = (file: string): string => crypto.createHash('sha256').update(fs.readFileSync(file)).digest('hex');

describe('SqliteStore migrations', () => {
  it('migrations are strictly increasing and SCHEMA_VERSION is the last one', () => {
    assert.ok(MIGRATIONS.length > 0);
    for (let i = 1; i < MIGRATIONS.length; i++) assert.ok(MIGRATIONS[i].version > MIGRATIONS[i - 1].version);
    assert.equal(SCHEMA_VERSION, MIGRATIONS.at(-1)!.version);
  });

  it('a fresh DB records every migration once, in order', () => {
    const file = tmpDb();
    SqliteStore.open(file).close();
    assert.deepEqual(
      versions(file),
      MIGRATIONS.map((m) => m.version),
    );
  });

  it(`a DB created at version ${SCHEMA_VERSION} opens again fine, without re-migrating`, () => {
    const file = tmpDb();
    const s1 = SqliteStore.open(file);
    s1.apply([{ op: 'inbox:put', message: msg }]);
    s1.close();
    const before = versions(file);
    const s2 = SqliteStore.open(file);
    try {
      assert.deepEqual(s2.listInbox(), [msg]);
    } finally {
      s2.close();
    }
    assert.deepEqual(versions(file), before);
  });

  it('a DB whose schema_version says 999 is refused with STORE and left untouched', () => {
    const file = tmpDb();
    const s1 = SqliteStore.open(file);
    s1.apply([{ op: 'inbox:put', message: msg }]);
    s1.close();
    const raw = new Database(file);
    raw.prepare('INSERT INTO schema_version (version, applied_at) VALUES (999, 1)').run();
    raw.close();
    const hash = sha256(file);

    for (const opts of [undefined, { readonly: true }]) {
      assert.throws(
        () => SqliteStore.open(file, opts),
        (err: unknown) =>
          err instanceof MeshError && err.code === 'STORE' && /newer Mesh/.test(err.message) && /999/.test(err.message),
      );
    }

    assert.equal(sha256(file), hash);
    const check = new Database(file, { readonly: true });
    try {
      assert.equal((check.prepare('SELECT MAX(version) AS v FROM schema_version').get() as { v: number }).v, 999);
      assert.deepEqual(check.prepare('SELECT id, text FROM inbox').all(), [{ id: 'm1', text: 'hi' }]);
    } finally {
      check.close();
    }
  });

  it('an older schema is refused read-only but migrated read-write', () => {
    // Simulate a DB from before schema_version existed at all: an empty file.
    const file = tmpDb();
    fs.writeFileSync(file, '');
    assert.throws(
      () => SqliteStore.open(file, { readonly: true }),
      (err: unknown) => err instanceof MeshError && err.code === 'STORE',
    );
    SqliteStore.open(file).close();
    assert.equal(versions(file).at(-1), SCHEMA_VERSION);
  });

  it('a version-1 DB (inbox keyed by id) migrates to (from, id) keys with every row kept', () => {
    const file = tmpDb();
    // Build the file exactly as a version-1 Mesh left it: only migration 1, then rows in every table.
    const raw = new Database(file);
    raw.exec('CREATE TABLE schema_version (version INTEGER NOT NULL, applied_at INTEGER NOT NULL)');
    raw.exec(MIGRATIONS[0].up);
    raw.prepare('INSERT INTO schema_version (version, applied_at) VALUES (1, 1)').run();
    const key = Buffer.alloc(32, 7);
    raw.prepare('INSERT INTO self VALUES (1, ?, ?, ?, ?, ?, ?, ?)').run('me-uuid', 'me', key, key, key, key, 100);
    raw
      .prepare('INSERT INTO contacts VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)')
      .run('bob', 'Bob', key, key, key, '10.0.0.2:7575', 'active', 50, 40, null);
    raw.prepare('INSERT INTO referrals VALUES (?, ?, ?, ?, ?)').run('carol', 'bob', 1, 60, 9e12);
    raw
      .prepare('INSERT INTO outbox VALUES (?, ?, ?, ?, ?, ?, ?, ?)')
      .run('o1', 'bob', 'hello bob', 70, 1, 71, 'delivered', 72);
    const old: InboxRecord[] = [
      { id: 'm1', from: 'bob', text: 'hi', sentAt: 1, receivedAt: 2 },
      { id: 'm2', from: 'bob', text: 'there 😀', sentAt: 3, receivedAt: 4 },
      { id: 'm3', from: 'carol', text: 'hey', sentAt: 5, receivedAt: 6 },
    ];
    const put = raw.prepare('INSERT INTO inbox VALUES (?, ?, ?, ?, ?)');
    for (const m of old) put.run(m.id, m.from, m.text, m.sentAt, m.receivedAt);
    raw.close();

    const store = SqliteStore.open(file);
    try {
      assert.deepEqual(versions(file), [1, 2, 3]);
      assert.deepEqual(store.listInbox(), old, 'every inbox row survives, in order');
      assert.equal(store.getSelf()?.uuid, 'me-uuid');
      assert.deepEqual(
        store.listContacts().map((c) => [c.uuid, c.address, c.status]),
        [['bob', '10.0.0.2:7575', 'active']],
      );
      assert.deepEqual(
        store.listReferrals().map((r) => [r.referent, r.via]),
        [['carol', 'bob']],
      );
      assert.deepEqual(
        store.listOutbox().map((m) => [m.id, m.state, m.deliveredAt]),
        [['o1', 'delivered', 72]],
      );
      assert.deepEqual(
        store.listDelivered().map((d) => [d.from, d.id, d.receivedAt]),
        [
          ['bob', 'm1', 2],
          ['bob', 'm2', 4],
          ['carol', 'm3', 6],
        ],
        'the de-duplication memory starts from the old inbox',
      );
      // The point of the migration: carol's message with bob's id no longer replaces bob's.
      const clash: InboxRecord = { id: 'm1', from: 'carol', text: 'same id', sentAt: 7, receivedAt: 8 };
      store.apply([{ op: 'inbox:put', message: clash }]);
      assert.deepEqual(store.listInbox(), [...old, clash]);
    } finally {
      store.close();
    }
    // And it opens again (also read-only) without migrating twice.
    SqliteStore.open(file, { readonly: true }).close();
    assert.deepEqual(versions(file), [1, 2, 3]);
  });
});
