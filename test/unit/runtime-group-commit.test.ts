/** Group commit (src/runtime/group-commit.ts): one transaction per loop turn, effects only after it. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Logger, Store } from '../../src/ports.ts';
import type { Effect } from '../../src/protocol/events.ts';
import type { OutboxRecord, PersistOp } from '../../src/protocol/types.ts';
import { coalesce, GroupCommit, isDeferrable, LAZY_FLUSH_MS } from '../../src/runtime/group-commit.ts';
import { MemoryStore } from '../../src/store/index.ts';

const quiet: Logger = { debug() {}, info() {}, warn() {}, error() {}, child: () => quiet };
const msg = (id: string, state: OutboxRecord['state']): OutboxRecord => ({
  id,
  to: '11111111-1111-1111-1111-111111111111',
  text: 't',
  createdAt: 1,
  attempts: 0,
  nextAttemptAt: 0,
  state,
  deliveredAt: null,
});
const put = (id: string, state: OutboxRecord['state']): PersistOp => ({ op: 'outbox:put', message: msg(id, state) });

describe('group commit', () => {
  it('commits the writes of every event of one turn in ONE transaction, then carries out their effects', async () => {
    const store = new MemoryStore();
    const log: string[] = [];
    const apply = store.apply.bind(store);
    (store as Store).apply = (ops) => {
      log.push(`apply ${ops.length}`);
      apply(ops);
    };
    const gc = new GroupCommit(
      store,
      (e) => log.push(`${e.type} stored=${store.listOutbox().length}`),
      () => {},
      () => {},
      quiet,
    );
    for (let i = 0; i < 5; i++) {
      gc.add([
        { type: 'persist', ops: [put(`m${i}`, 'sent')] },
        { type: 'respond', requestId: i, status: 200, body: new Uint8Array() },
      ]);
    }
    assert.deepEqual(log, [], 'nothing goes out before the commit');
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(log, ['apply 5', ...Array(5).fill('respond stored=5')]);
  });

  it('a failed commit withholds the answers of its batch', async () => {
    const store = new MemoryStore();
    (store as Store).apply = () => {
      throw new Error('disk full');
    };
    const out: Effect[] = [];
    const withheld: Effect[] = [];
    const gc = new GroupCommit(
      store,
      (e) => out.push(e),
      () => {},
      (fx) => withheld.push(...fx),
      quiet,
    );
    gc.add([
      { type: 'persist', ops: [put('m', 'sent')] },
      { type: 'respond', requestId: 1, status: 200, body: new Uint8Array() },
    ]);
    gc.flush();
    assert.equal(out.length, 0);
    assert.equal(withheld.length, 1);
  });

  it('coalesce keeps only the last put of one message, in order, and keeps deletes', () => {
    const ops = [
      put('a', 'queued'),
      put('b', 'queued'),
      put('a', 'sent'),
      { op: 'outbox:delete', id: 'b' } as PersistOp,
    ];
    const c = coalesce(ops);
    assert.deepEqual(
      c.map((o) => (o.op === 'outbox:put' ? `${o.message.id}:${o.message.state}` : o.op)),
      ['b:queued', 'a:sent', 'outbox:delete'],
    );
    const s1 = new MemoryStore();
    const s2 = new MemoryStore();
    s1.apply(ops);
    s2.apply(c);
    assert.deepEqual(s1.listOutbox(), s2.listOutbox(), 'same end state');
  });
});

describe('group commit: deferred delivered writes', () => {
  const counting = () => {
    const store = new MemoryStore();
    const applied: number[] = [];
    const apply = store.apply.bind(store);
    (store as Store).apply = (ops) => {
      applied.push(ops.length);
      apply(ops);
    };
    return { store, applied };
  };

  it('a turn whose only writes are `delivered` rows commits nothing; its effects still go out at once', async () => {
    const { store, applied } = counting();
    const out: string[] = [];
    const gc = new GroupCommit(
      store,
      (e) => out.push(e.type),
      () => {},
      () => {},
      quiet,
    );
    gc.add([
      { type: 'persist', ops: [put('m', 'delivered')] },
      { type: 'emit', data: { event: 'message:state', id: 'm', to: 'x', state: 'delivered' } },
    ]);
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(out, ['emit']);
    assert.deepEqual(applied, [], 'no commit of its own');
    // The next turn with a write that must be durable takes the deferred row along, in order.
    gc.add([
      { type: 'persist', ops: [put('n', 'sent')] },
      { type: 'respond', requestId: 1, status: 200, body: new Uint8Array() },
    ]);
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(applied, [2], 'one commit for both');
    assert.deepEqual(
      store.listOutbox().map((m) => `${m.id}:${m.state}`),
      ['m:delivered', 'n:sent'],
    );
  });

  it('deferred rows alone are committed by the idle flush, and by flush() (stop)', async () => {
    const { store, applied } = counting();
    const gc = new GroupCommit(
      store,
      () => {},
      () => {},
      () => {},
      quiet,
    );
    gc.add([{ type: 'persist', ops: [put('a', 'delivered')] }]);
    await new Promise((r) => setTimeout(r, LAZY_FLUSH_MS + 30));
    assert.deepEqual(applied, [1], 'committed after LAZY_FLUSH_MS without another commit to ride');
    gc.add([{ type: 'persist', ops: [put('b', 'delivered')] }]);
    gc.flush();
    assert.deepEqual(applied, [1, 1], 'flush() (stop, clearInbox) commits what is deferred');
    assert.equal(store.listOutbox().length, 2);
  });

  it('only `delivered` outbox rows are deferrable', () => {
    assert.equal(isDeferrable(put('a', 'delivered')), true);
    for (const s of ['queued', 'sent', 'failed'] as const) assert.equal(isDeferrable(put('a', s)), false, s);
    assert.equal(isDeferrable({ op: 'outbox:delete', id: 'a' }), false);
  });
});
