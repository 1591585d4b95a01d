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
});
