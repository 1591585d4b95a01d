/**
 * Store adapters (the `Store` port of src/ports.ts): MemoryStore for tests and the simulator,
 * SqliteStore for real nodes. Both have the same semantics (test/conformance/store.test.ts).
 *
 * @example
 * import { MemoryStore, SqliteStore } from './store/index.ts';
 *
 * const store = SqliteStore.open(path.join(dataDir, 'mesh.db')); // or: new MemoryStore()
 * store.apply([{ op: 'inbox:put', message: { id, from, text, sentAt, receivedAt: Date.now() } }]);
 * store.hasInbox(id); // true
 * store.listInbox({ limit: 50 }); // the newest 50 messages, oldest first
 * store.close();
 */

export { MemoryStore } from './memory-store.ts';
export { MIGRATIONS, type Migration, SCHEMA_VERSION } from './sqlite-schema.ts';
export { SqliteStore } from './sqlite-store.ts';
