/**
 * kill -9 at speed (issue 9): two real daemons exchange a burst over the channel; the receiver and
 * then the sender are killed with SIGKILL mid-burst and restarted. Every message the sender's API
 * acknowledged (it answers only once the message is stored) arrives exactly once: 0 lost, 0 duplicated.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { befriend, cleanup, initNode, meshJson, type RunningNode, startNode, waitFor } from './cli-helpers.ts';

interface Msg {
  id: string;
  text: string;
}

const HOST_A = '127.0.0.54';
const HOST_B = '127.0.0.55';
const API_A = 17693;
const API_B = 17694;

function killed(n: RunningNode): Promise<void> {
  n.proc.kill('SIGKILL');
  return new Promise((r) => (n.proc.exitCode !== null || n.proc.signalCode ? r() : n.proc.once('exit', () => r())));
}

/** Sends `n` messages through the local API; returns the ids it acknowledged (failures while the node dies are skipped). */
async function burst(dir: string, api: number, to: string, n: number, tag: string): Promise<string[]> {
  const token = readFileSync(join(dir, 'api-token'), 'utf8').trim();
  const res = await Promise.all(
    Array.from({ length: n }, (_, i) =>
      fetch(`http://127.0.0.1:${api}/api/send`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ to, text: `${tag} ${i}` }),
      })
        .then(async (r) => (r.ok ? ((await r.json()) as { id: string }).id : null))
        .catch(() => null),
    ),
  );
  return res.filter((x): x is string => x !== null);
}

describe('e2e: kill -9 mid-burst loses and duplicates nothing', () => {
  after(cleanup);

  it('receiver killed, then sender killed, both restarted: every acknowledged message exactly once', async () => {
    const a = await initNode('ada');
    const b = await initNode('bo');
    let A = await startNode(a.dir, HOST_A, API_A);
    let B = await startNode(b.dir, HOST_B, API_B);
    await befriend(A, B);
    await waitFor(
      async () => (await meshJson<{ uuid: string; channel?: boolean }[]>(a.dir, 'contacts'))[0]?.channel === true,
      20_000,
      'channel',
    );
    // Receiver dies while messages are in flight.
    const first = burst(a.dir, API_A, b.uuid, 400, 'one');
    await new Promise((r) => setTimeout(r, 30));
    await killed(B);
    const ids = await first;
    B = await startNode(b.dir, HOST_B, API_B);
    // Sender dies while messages are in flight (some acknowledged by its API, not yet sent).
    const second = burst(a.dir, API_A, b.uuid, 400, 'two');
    await new Promise((r) => setTimeout(r, 30));
    await killed(A);
    ids.push(...(await second));
    A = await startNode(a.dir, HOST_A, API_A);
    assert.ok(ids.length > 0);
    const inbox = async () => meshJson<Msg[]>(b.dir, 'inbox', '--limit', '5000');
    await waitFor(
      async () => {
        const got = new Set((await inbox()).map((m) => m.id));
        return ids.every((id) => got.has(id));
      },
      60_000,
      `all ${ids.length} acknowledged messages`,
    );
    const all = await inbox();
    assert.equal(all.length, new Set(all.map((m) => m.id)).size, 'no id twice');
    // A message re-sent under a new id after a crash would show as the same text twice.
    assert.equal(all.length, new Set(all.map((m) => m.text)).size, 'no text twice');
  });
});
