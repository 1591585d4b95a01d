/**
 * End-to-end channel (docs/PROTOCOL.md §13) with real `mesh` daemons (bin/mesh, the built dist/):
 * two contacts open a channel; one is killed (kill -9) → the other sees the channel close and its
 * messages queue; after the restart the channel comes back and the queued message arrives (by POST
 * or the channel, whichever is first). A burst of 1,000 messages through the CLI's daemon then all
 * arrive with the shipped rate limit (the per-IP wall of 600/min would stall it).
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { befriend, cleanup, initNode, meshJson, type RunningNode, startNode, waitFor } from './cli-helpers.ts';

interface Contact {
  uuid: string;
  status: string;
  channel?: boolean;
}
interface Msg {
  id: string;
  text: string;
}

const HOST_A = '127.0.0.52';
const HOST_B = '127.0.0.53';

async function channelTo(dir: string, uuid: string): Promise<boolean | undefined> {
  return (await meshJson<Contact[]>(dir, 'contacts')).find((c) => c.uuid === uuid)?.channel;
}

describe('e2e: the channel between two daemons', () => {
  after(cleanup);

  it('opens, is lost when a daemon dies (messages queue), and comes back after its restart', async () => {
    const a = await initNode('ann');
    const b = await initNode('ben');
    const A: RunningNode = await startNode(a.dir, HOST_A, 17691);
    let B: RunningNode = await startNode(b.dir, HOST_B, 17692);
    await befriend(A, B);
    await waitFor(async () => (await channelTo(a.dir, b.uuid)) === true, 20_000, 'A: channel to B');
    await waitFor(async () => (await channelTo(b.dir, a.uuid)) === true, 20_000, 'B: channel to A');

    const m1 = await meshJson<{ id: string }>(a.dir, 'send', b.uuid, 'over the channel');
    await waitFor(
      async () => (await meshJson<Msg[]>(b.dir, 'inbox')).some((m) => m.id === m1.id),
      10_000,
      'first message',
    );

    // kill -9: no close frame; the kernel resets the connection, A notices at once.
    B.proc.kill('SIGKILL');
    await new Promise<void>((r) =>
      B.proc.exitCode !== null || B.proc.signalCode ? r() : B.proc.once('exit', () => r()),
    );
    await waitFor(async () => (await channelTo(a.dir, b.uuid)) === false, 20_000, 'A: channel closed');
    const m2 = await meshJson<{ id: string }>(a.dir, 'send', b.uuid, 'while you were down');
    const st = await meshJson<{ outbox: number }>(a.dir, 'status');
    assert.ok(st.outbox >= 1, 'the message waits in the outbox');

    B = await startNode(b.dir, HOST_B, 17692);
    await waitFor(async () => (await channelTo(a.dir, b.uuid)) === true, 30_000, 'A: channel back');
    await waitFor(
      async () => (await meshJson<Msg[]>(b.dir, 'inbox')).some((m) => m.id === m2.id),
      30_000,
      'queued message after restart',
    );
    const inbox = await meshJson<Msg[]>(b.dir, 'inbox');
    assert.equal(inbox.filter((m) => m.id === m2.id).length, 1, 'exactly once');

    // A burst through A's local API: the contact's budget, not the per-IP wall (600/min would stall).
    const token = readFileSync(join(a.dir, 'api-token'), 'utf8').trim();
    const N = 1000;
    const t0 = Date.now();
    const sent = await Promise.all(
      Array.from({ length: N }, (_, i) =>
        fetch('http://127.0.0.1:17691/api/send', {
          method: 'POST',
          headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
          body: JSON.stringify({ to: b.uuid, text: `burst ${i}` }),
        }).then((r) => r.json() as Promise<{ id: string }>),
      ),
    );
    const ids = new Set(sent.map((r) => r.id));
    assert.equal(ids.size, N);
    await waitFor(
      async () => {
        const got = new Set((await meshJson<Msg[]>(b.dir, 'inbox', '--limit', String(N + 10))).map((m) => m.id));
        return [...ids].every((id) => got.has(id));
      },
      30_000,
      `${N} burst messages`,
    );
    assert.ok(Date.now() - t0 < 30_000);
  });
});
