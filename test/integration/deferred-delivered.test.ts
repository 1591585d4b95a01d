/**
 * The sender's `delivered` write is deferred (src/runtime/group-commit.ts): it rides the next
 * commit instead of getting its own. This checks what that costs after a crash, on two real nodes
 * (HTTPS on 127.0.0.88–89, SQLite stores, the channel binding on): the sender's database is copied
 * at the moment its last message is acknowledged — what a kill -9 at that moment leaves on disk —
 * and a node started from that copy resends what it had not yet marked delivered; the receiver
 * de-duplicates, so every message is in its inbox exactly once and the sender ends all delivered.
 */
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import type { SelfRecord } from '../../src/protocol/types.ts';
import { MeshNode } from '../../src/runtime/mesh-node.ts';
import { SqliteStore } from '../../src/store/index.ts';
import { HttpsTransport } from '../../src/transport/https/index.ts';
import { pairIdentities, seedContact, waitFor } from '../helpers/seeded-pair.ts';

const HOSTS = ['127.0.0.88', '127.0.0.89'] as const;
const PORT = 27593;
const N = 5;
const dir = mkdtempSync(join(tmpdir(), 'mesh-deferred-'));
/** Every node started, stopped at the end even when an assertion failed (else the run would hang). */
const nodes: MeshNode[] = [];
after(async () => {
  for (const n of nodes) await n.stop().catch(() => {});
  rmSync(dir, { recursive: true, force: true });
});

describe('deferred delivered writes across a crash', () => {
  it('a sender killed between the acknowledgement and its commit resends; the receiver keeps each message once', async () => {
    const { ids, secret } = pairIdentities();
    const open = (i: number, file: string, seed: boolean) => {
      const self = ids[i] as SelfRecord;
      const store = SqliteStore.open(file);
      if (seed) seedContact(store, self, ids[1 - i] as SelfRecord, secret, `${HOSTS[1 - i]}:${PORT}`);
      const transport = new HttpsTransport({
        host: HOSTS[i],
        port: PORT,
        signPriv: self.signPriv,
        signPub: self.signPub,
        boxPub: self.boxPub,
      });
      const node = new MeshNode({ store, transport });
      nodes.push(node);
      return node;
    };
    const aFile = join(dir, 'a.db');
    const crashed = join(dir, 'a-crashed.db');
    const b = open(1, join(dir, 'b.db'), true);
    let a = open(0, aFile, true);
    const got: string[] = [];
    b.on('message', (m: { text: string }) => got.push(m.text));
    await b.start();
    await a.start();
    await waitFor(() => !!a.contacts()[0]?.channel, 5000, 'the channel');

    // Copy A's files in the same turn as the last acknowledgement is reported: the deferred
    // `delivered` writes of this turn cannot have been committed yet (no commit runs in between).
    let delivered = 0;
    a.on('message:state', (e: { state: string }) => {
      if (e.state !== 'delivered' || ++delivered !== N) return;
      copyFileSync(aFile, crashed);
      if (existsSync(`${aFile}-wal`)) copyFileSync(`${aFile}-wal`, `${crashed}-wal`);
    });
    for (let i = 0; i < N; i++) await a.send(ids[1].uuid, `m${i}`);
    await waitFor(() => delivered === N && got.length === N, 10_000, 'all delivered');
    await a.stop();

    const snapshot = SqliteStore.open(crashed, { readonly: true });
    const states = snapshot.listOutbox().map((m) => m.state);
    snapshot.close();
    assert.equal(states.length, N, 'every message was stored before it went out');
    assert.ok(
      states.includes('sent'),
      `at the crash some acknowledged messages were not yet stored as delivered (the deferral): ${states}`,
    );

    // A "restarts" from what the crash left: it resends; B answers from its de-duplication memory.
    a = open(0, crashed, false);
    const again: string[] = [];
    a.on('message:state', (e: { id: string; state: string }) => {
      if (e.state === 'delivered') again.push(e.id);
    });
    await a.start();
    await waitFor(() => a.store.listOutbox().every((m) => m.state === 'delivered'), 10_000, 'the resends acknowledged');
    assert.equal(again.length, states.filter((s) => s !== 'delivered').length, 'exactly the unmarked ones went again');
    assert.deepEqual(
      b.inbox().map((m) => m.text),
      Array.from({ length: N }, (_, i) => `m${i}`),
      'each message once in the inbox',
    );
    assert.equal(got.length, N, 'the app was told of each message once');
    await a.stop();
    await b.stop();
  });
});
