/**
 * The SQLite store's schema: append-only migrations recorded in a `schema_version` table, applied
 * in one transaction when a file is opened (docs/ARCHITECTURE.md, the Store port).
 */
import type Database from 'better-sqlite3';

/** One schema step: `up` is run (as a script) when the DB is below `version`. */
export interface Migration {
  version: number;
  up: string;
}

/** Schema history, oldest first. Append only: never edit a released step, add a new one. */
export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    up: `
      CREATE TABLE self (
        id         INTEGER PRIMARY KEY CHECK (id = 1),
        uuid       TEXT    NOT NULL,
        name       TEXT    NOT NULL,
        sign_pub   BLOB    NOT NULL,
        sign_priv  BLOB    NOT NULL,
        box_pub    BLOB    NOT NULL,
        box_priv   BLOB    NOT NULL,
        created_at INTEGER NOT NULL
      );
      CREATE TABLE contacts (
        uuid      TEXT    PRIMARY KEY,
        name      TEXT    NOT NULL,
        sign_pub  BLOB    NOT NULL,
        box_pub   BLOB    NOT NULL,
        secret    BLOB    NOT NULL,
        address   TEXT,
        status    TEXT    NOT NULL CHECK (status IN ('active', 'inactive', 'pending')),
        last_seen INTEGER,
        added_at  INTEGER NOT NULL,
        domain    TEXT
      );
      CREATE TABLE referrals (
        referent   TEXT    NOT NULL,
        via        TEXT    NOT NULL,
        hops       INTEGER NOT NULL,
        updated_at INTEGER NOT NULL,
        expires_at INTEGER NOT NULL,
        PRIMARY KEY (referent, via)
      );
      CREATE TABLE invites (
        id         TEXT    PRIMARY KEY,
        secret     BLOB    NOT NULL,
        created_at INTEGER NOT NULL,
        expires_at INTEGER NOT NULL
      );
      CREATE TABLE requests (
        uuid        TEXT    PRIMARY KEY,
        name        TEXT    NOT NULL,
        sign_pub    BLOB    NOT NULL,
        box_pub     BLOB    NOT NULL,
        secret      BLOB    NOT NULL,
        auth_phrase TEXT    NOT NULL,
        address     TEXT,
        received_at INTEGER NOT NULL
      );
      CREATE TABLE outbox (
        id              TEXT    PRIMARY KEY,
        to_uuid         TEXT    NOT NULL,
        text            TEXT    NOT NULL,
        created_at      INTEGER NOT NULL,
        attempts        INTEGER NOT NULL,
        next_attempt_at INTEGER NOT NULL,
        state           TEXT    NOT NULL CHECK (state IN ('queued', 'sent', 'delivered', 'failed')),
        delivered_at    INTEGER
      );
      CREATE INDEX outbox_state ON outbox (state);
      CREATE TABLE inbox (
        id          TEXT    PRIMARY KEY,
        from_uuid   TEXT    NOT NULL,
        text        TEXT    NOT NULL,
        sent_at     INTEGER NOT NULL,
        received_at INTEGER NOT NULL
      );
      CREATE INDEX inbox_received_at ON inbox (received_at);
    `,
  },
  {
    // Issue 12 #18: message ids are chosen by each sender, so the inbox is keyed by (from, id) — with
    // `id` alone one contact could pre-empt (and overwrite) another's message by reusing its id.
    // `delivered` keeps the de-duplication memory of inbox rows the user cleared, until retention.
    version: 2,
    up: `
      CREATE TABLE inbox_v2 (
        id          TEXT    NOT NULL,
        from_uuid   TEXT    NOT NULL,
        text        TEXT    NOT NULL,
        sent_at     INTEGER NOT NULL,
        received_at INTEGER NOT NULL,
        PRIMARY KEY (from_uuid, id)
      );
      INSERT INTO inbox_v2 (id, from_uuid, text, sent_at, received_at)
        SELECT id, from_uuid, text, sent_at, received_at FROM inbox;
      DROP TABLE inbox;
      ALTER TABLE inbox_v2 RENAME TO inbox;
      CREATE INDEX inbox_received_at ON inbox (received_at);
      CREATE TABLE delivered (
        from_uuid   TEXT    NOT NULL,
        id          TEXT    NOT NULL,
        received_at INTEGER NOT NULL,
        PRIMARY KEY (from_uuid, id)
      );
      CREATE INDEX delivered_received_at ON delivered (received_at);
    `,
  },
  {
    // Contact digests (issue 11): the digest payload a contact sent us (its contact secret and filter).
    version: 3,
    up: 'ALTER TABLE contacts ADD COLUMN digest BLOB;',
  },
];

/** Schema version this code writes (the last migration's). */
export const SCHEMA_VERSION: number = MIGRATIONS[MIGRATIONS.length - 1].version;

/** Reads the DB's schema version (0 = no schema yet) without writing anything. */
export function readVersion(db: Database.Database): number {
  const table = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_version'").get();
  if (table === undefined) return 0;
  const row = db.prepare('SELECT MAX(version) AS v FROM schema_version').get() as { v: number | null };
  return row.v ?? 0;
}

/** Applies the migrations above `current` in one transaction, recording each in schema_version. */
export function migrate(db: Database.Database, current: number): void {
  const pending = MIGRATIONS.filter((m) => m.version > current);
  db.transaction(() => {
    db.exec('CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL, applied_at INTEGER NOT NULL)');
    const record = db.prepare('INSERT INTO schema_version (version, applied_at) VALUES (?, ?)');
    for (const m of pending) {
      db.exec(m.up);
      record.run(m.version, Date.now());
    }
  })();
}
