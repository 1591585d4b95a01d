/**
 * Connection and handshake budgets against a real daemon (issue 12 #7): `bin/mesh start` on
 * 127.0.0.90:7575 with a real contact Carol (a second daemon on 127.0.0.91, channel open) and a
 * contact "Lee" whose keys the test holds and who speaks from 127.0.0.93. Attackers speak from
 * 127.0.0.92 and from Carol's own address 127.0.0.91 (a neighbour behind the same NAT). While each
 * attack runs, Lee's requests, each on a new TLS connection, must all be served, and Carol's channel
 * must stay open and carry her messages. Asserts counts, never timings.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { type Socket, connect as tcpConnect } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { type TLSSocket, connect as tlsConnect } from 'node:tls';
import { Agent, request } from 'undici';
import { deriveLinkKey, deriveUuid, generateKeyPairs, utf8 } from '../../src/crypto/index.ts';
import { HANDSHAKES_PER_S_PER_IP, MAX_CONNECTIONS_PER_IP } from '../../src/protocol/constants.ts';
import { SqliteStore } from '../../src/store/index.ts';
import { befriend, cleanup, initNode, meshJson, type RunningNode, startNode, waitFor } from './cli-helpers.ts';
import { meshHeaders } from './raw-mesh.ts';

const V_HOST = '127.0.0.90';
const C_HOST = '127.0.0.91';
const ATTACKER = '127.0.0.92';
const LEE_HOST = '127.0.0.93';
const PORT = 7575;
const rand = (n: number) => new Uint8Array(randomBytes(n));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

type Status = { drops: Record<string, number> };
type Contact = { uuid: string; channel?: boolean; status: string };
type Msg = { id: string };

describe('connection and handshake budgets against a real node', { timeout: 300_000 }, () => {
  let V: RunningNode;
  let C: RunningNode;
  let lee: { uuid: string; signPriv: Uint8Array; signPub: Uint8Array; boxPub: Uint8Array; link: Uint8Array };
  const drops = async () => (await meshJson<Status>(V.dir, 'status')).drops;
  const channelOpen = async (dir: string, uuid: string) =>
    (await meshJson<Contact[]>(dir, 'contacts')).find((c) => c.uuid === uuid)?.channel === true;

  /** Lee's presence announce on a new TLS connection from his own address; the HTTP status, or 0. */
  const leeAnnounce = async (): Promise<number> => {
    const agent = new Agent({ localAddress: LEE_HOST, connect: { rejectUnauthorized: false }, pipelining: 0 });
    try {
      const body = utf8(JSON.stringify({ referent: lee.uuid, hops: 0 }));
      const r = await request(`https://${V_HOST}:${PORT}/mesh`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...meshHeaders(lee, 'referral', body, lee.link) },
        body,
        dispatcher: agent,
      });
      await r.body.text();
      return r.statusCode;
    } catch {
      return 0;
    } finally {
      await agent.destroy();
      // A client that opens a new connection per request stays within its own handshake budget.
      await sleep(1000 / (HANDSHAKES_PER_S_PER_IP / 2));
    }
  };

  /** Carol sends Victor a message through her daemon; resolves once it is in Victor's inbox. */
  const carolDelivers = async (text: string) => {
    const m = await meshJson<{ id: string }>(C.dir, 'send', V.uuid, text);
    await waitFor(
      async () => (await meshJson<Msg[]>(V.dir, 'inbox')).some((x) => x.id === m.id),
      20_000,
      `Carol's message "${text}"`,
    );
  };

  before(async () => {
    const v = await initNode('victor');
    const store = SqliteStore.open(join(v.dir, 'mesh.db'));
    const vSelf = store.getSelf()!;
    const k = generateKeyPairs(rand);
    const uuid = deriveUuid(k.signPub, k.boxPub);
    const secret = rand(32);
    lee = { ...k, uuid, link: deriveLinkKey(k.boxPriv, vSelf.boxPub, secret, uuid, vSelf.uuid) };
    const now = Date.now();
    store.apply([
      {
        op: 'contact:put',
        contact: {
          uuid,
          name: 'lee',
          signPub: k.signPub,
          boxPub: k.boxPub,
          secret,
          address: `${LEE_HOST}:${PORT}`,
          status: 'active',
          lastSeen: now,
          addedAt: now,
          domain: null,
        },
      },
    ]);
    store.close();
    V = await startNode(v.dir, V_HOST, 17801);
    const c = await initNode('carol');
    C = await startNode(c.dir, C_HOST, 17802);
    await befriend(V, C);
    await waitFor(
      async () => (await channelOpen(V.dir, C.uuid)) && (await channelOpen(C.dir, V.uuid)),
      20_000,
      'channel',
    );
    assert.equal(await leeAnnounce(), 200, 'Lee is a contact: his announce is accepted');
  });

  after(async () => {
    await cleanup();
  });

  test('one address holding connections gets at most MAX_CONNECTIONS_PER_IP; others are still served', async () => {
    const before = await drops();
    const open = new Set<TLSSocket>();
    const all: (Socket | TLSSocket)[] = [];
    let refused = 0;
    /** A hog's connection: TLS, then one request so keep-alive holds it (30 s) past the headers timeout. */
    const hold = () =>
      new Promise<void>((resolve) => {
        const s = tlsConnect({ host: V_HOST, port: PORT, rejectUnauthorized: false, ...{ localAddress: ATTACKER } });
        all.push(s);
        s.once('secureConnect', () => {
          open.add(s);
          s.write(`POST /mesh HTTP/1.1\r\nhost: ${V_HOST}\r\ncontent-length: 0\r\n\r\n`);
          resolve();
        });
        s.on('data', () => {});
        s.once('error', () => {
          refused++;
          resolve();
        });
        s.once('close', () => {
          open.delete(s);
          resolve();
        });
      });
    try {
      // 150 connections at ≈ 12 a second: within the handshake budget, so the open-connection cap is
      // what stops them.
      for (let wave = 0; wave < 15; wave++) {
        await Promise.all(Array.from({ length: 10 }, hold));
        await sleep(800);
      }
      assert.equal(open.size, MAX_CONNECTIONS_PER_IP, 'the attacker holds exactly its share');
      // Then 1,000 more at once (with those held, more than the server's 1,024 slots): all refused.
      await Promise.all(
        Array.from(
          { length: 1000 },
          () =>
            new Promise<void>((resolve) => {
              const s = tcpConnect({ host: V_HOST, port: PORT, localAddress: ATTACKER });
              all.push(s);
              s.once('error', () => resolve());
              s.once('close', () => resolve());
            }),
        ),
      );
      assert.ok(open.size <= MAX_CONNECTIONS_PER_IP, `the attacker holds ${open.size} connections`);

      // While the attacker holds its share, Lee's 40 requests, each on a new connection, are all served.
      let ok = 0;
      for (let i = 0; i < 40; i++) if ((await leeAnnounce()) === 200) ok++;
      assert.equal(ok, 40, 'every request of the legitimate client was served');
      // Carol's channel was not cut, and carries her messages.
      assert.equal(await channelOpen(V.dir, C.uuid), true);
      await carolDelivers('during the connection hog');
    } finally {
      for (const s of all) s.destroy();
    }
    const after = await drops();
    const counted = (after.LIMIT_CONNECTIONS ?? 0) - (before.LIMIT_CONNECTIONS ?? 0);
    assert.ok(counted >= 1000 + 150 - MAX_CONNECTIONS_PER_IP - refused, `LIMIT_CONNECTIONS counted ${counted}`);
  });

  test('a handshake flood from one address — Carol’s own — does not starve others or cut her channel', async () => {
    const before = (await drops()).LIMIT_HANDSHAKES ?? 0;
    let stop = false;
    let completed = 0;
    let refused = 0;
    /** One flooding loop: full TLS handshakes back to back from Carol's address, each closed at once. */
    const flood = async () => {
      while (!stop) {
        await new Promise<void>((resolve) => {
          const s = tlsConnect({ host: V_HOST, port: PORT, rejectUnauthorized: false, ...{ localAddress: C_HOST } });
          s.once('secureConnect', () => {
            completed++;
            s.destroy();
            resolve();
          });
          s.once('error', () => {
            refused++;
            s.destroy();
            resolve();
          });
        });
      }
    };
    const floods = Array.from({ length: 8 }, flood);
    let ok = 0;
    try {
      // Wait until the flood is past its burst and being refused, then measure the others.
      await waitFor(async () => refused > 100, 20_000, 'the flood to be refused');
      for (let i = 0; i < 60; i++) if ((await leeAnnounce()) === 200) ok++;
      await carolDelivers('during the handshake flood');
    } finally {
      stop = true;
      await Promise.all(floods);
    }
    assert.equal(ok, 60, 'every request of the legitimate client was served');
    assert.ok(completed > 0, 'the flood got its budget');
    assert.ok(refused > completed, `most of the flood was refused (${refused} refused, ${completed} completed)`);
    assert.equal(await channelOpen(V.dir, C.uuid), true, 'Carol’s channel is still open');
    assert.equal(await channelOpen(C.dir, V.uuid), true);
    const counted = ((await drops()).LIMIT_HANDSHAKES ?? 0) - before;
    assert.ok(counted >= refused * 0.9, `LIMIT_HANDSHAKES counted ${counted} of ${refused} refused`);
  });
});
