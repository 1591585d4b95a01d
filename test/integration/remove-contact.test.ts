/**
 * MeshNode.removeContact and clearInbox on two real nodes (HTTPS on 127.0.0.86–87, SQLite stores,
 * the channel binding on): removal closes the channel whoever dialled it, the removed node's
 * messages are no longer delivered, and a cleared inbox still remembers what it delivered.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import type { InboxRecord, SelfRecord } from '../../src/protocol/types.ts';
import { MeshNode } from '../../src/runtime/mesh-node.ts';
import { SqliteStore } from '../../src/store/index.ts';
import { HttpsTransport } from '../../src/transport/https/index.ts';
import { pairIdentities, seedContact, waitFor } from '../helpers/seeded-pair.ts';

const HOSTS = ['127.0.0.86', '127.0.0.87'] as const;
const PORT = 27591;
const dir = mkdtempSync(join(tmpdir(), 'mesh-remove-'));
after(() => rmSync(dir, { recursive: true, force: true }));

describe('removing a contact and clearing the inbox on real nodes', () => {
  it('removal closes the channel, refuses the removed node’s messages, and persists; a cleared message is not redelivered', async () => {
    const { ids, secret } = pairIdentities();
    const files = ids.map((self) => join(dir, `${self.name}.db`));
    const make = (i: number, seed: boolean) => {
      const self = ids[i] as SelfRecord;
      const store = SqliteStore.open(files[i] as string);
      if (seed) seedContact(store, self, ids[1 - i] as SelfRecord, secret, `${HOSTS[1 - i]}:${PORT}`);
      const transport = new HttpsTransport({
        host: HOSTS[i],
        port: PORT,
        signPriv: self.signPriv,
        signPub: self.signPub,
        boxPub: self.boxPub,
        channel: { redialMinMs: 100, redialMaxMs: 400 },
      });
      return new MeshNode({ store, transport });
    };
    let a = make(0, true);
    const b = make(1, true);
    try {
      await Promise.all([a.start(), b.start()]);
      const got: InboxRecord[] = [];
      a.on('message', (m: InboxRecord) => got.push(m));
      const bOnA = a.contacts()[0];
      await waitFor(() => a.contacts()[0].channel && b.contacts()[0].channel, 10_000, 'the channel');
      const first = await b.send(ids[0].uuid, 'before removal');
      await waitFor(() => got.length === 1, 10_000, 'the first message');

      assert.throws(
        () => a.findContact('nobody'),
        (e: unknown) => (e as { code?: string }).code === 'CONTACT_UNKNOWN',
      );
      await assert.rejects(
        a.removeContact('nobody'),
        (e: unknown) => (e as { code?: string }).code === 'CONTACT_UNKNOWN',
      );
      assert.deepEqual(await a.removeContact('b'), { uuid: bOnA.uuid });
      assert.deepEqual(a.contacts(), []);
      // The channel goes whoever dialled it (the pair rule may have kept b's).
      await waitFor(() => a.transport && b.contacts()[0].channel === false, 10_000, 'the channel to close');
      assert.equal((a.transport as HttpsTransport).channelTo(ids[1].signPub), null);

      const states: string[] = [];
      b.on('message:state', (s: { id: string; state: string }) => states.push(s.state));
      const second = await b.send(ids[0].uuid, 'after removal');
      await waitFor(() => states.filter((s) => s === 'queued').length >= 2, 10_000, 'b to get its refusal');
      assert.equal(got.length, 1, 'nothing more delivered');
      assert.notEqual(b.core.outbox.get(second)?.state, 'delivered');
      assert.equal(b.core.outbox.get(first)?.state, 'delivered');

      // Clear a's inbox and restart a: the removal and the de-duplication memory are both on disk.
      assert.deepEqual(a.clearInbox({ before: Date.now() + 1 }), { deleted: 1 });
      assert.deepEqual(a.inbox(), []);
      await a.stop();
      a = make(0, false);
      await a.start();
      assert.deepEqual(a.contacts(), []);
      assert.deepEqual(
        a.store.listDelivered().map((d) => [d.from, d.id]),
        [[ids[1].uuid, first]],
      );
      assert.ok(a.core.state.delivered.has(JSON.stringify([ids[1].uuid, first])));
    } finally {
      await Promise.all([a.stop(), b.stop()]);
    }
  });
});
