/**
 * End-to-end attacks on the protocol core (issue 12), each against a real daemon (bin/mesh start
 * --public on 127.0.0.130:7575) whose 40 contacts are real HTTPS listeners on 127.0.0.140–179:7575
 * holding those contacts' keys (so TLS pinning and response proofs are the real ones). The listeners
 * count what the node sends them: amplification is measured, not assumed. Contact 0 is the attacker
 * "Mallory"; the test holds every contact's keys and link secret.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Agent, request } from 'undici';
import {
  aeadSeal,
  computeProof,
  decodeInvite,
  deriveLinkKey,
  deriveUuid,
  encodeInvite,
  generateKeyPairs,
  inviteId,
  inviteKey,
  responseSigningInput,
  sealTo,
  toB64u,
  utf8,
} from '../../src/crypto/index.ts';
import {
  ADD_MAX_ASK,
  MAX_PENDING_REQUESTS,
  MAX_REFERRALS_PER_VIA,
  RELAY_FANOUT,
  RELAY_FANOUT_STRANGER,
} from '../../src/protocol/constants.ts';
import { ipAad, ipProofInput } from '../../src/protocol/handlers/locate.ts';
import type { ContactRecord, SelfRecord } from '../../src/protocol/types.ts';
import { SqliteStore } from '../../src/store/index.ts';
import { HttpsTransport } from '../../src/transport/https/index.ts';
import { cleanup, initNode, meshJson, type RunningNode, startNode, waitFor } from './cli-helpers.ts';
import { meshHeaders } from './raw-mesh.ts';

const V_HOST = '127.0.0.130';
const V2_HOST = '127.0.0.131';
const N = 40;
const rand = (n: number) => new Uint8Array(randomBytes(n));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

type Keys = { uuid: string; signPriv: Uint8Array; signPub: Uint8Array; boxPriv: Uint8Array; boxPub: Uint8Array };
function newKeys(): Keys {
  const k = generateKeyPairs(rand);
  return { ...k, uuid: deriveUuid(k.signPub, k.boxPub) };
}

/** What a listener received: Mesh-Type and the JSON body. */
type Seen = { type: string; body: Record<string, unknown>; at: number };

/** A fake contact: its keys, its link with the victim, and the HTTPS listener at its address. */
interface Peer {
  keys: Keys;
  secret: Uint8Array;
  link: Uint8Array;
  host: string;
  address: string;
  seen: Seen[];
  transport: HttpsTransport;
}

const agents = new Map<string, Agent>();
function agentFrom(localAddress: string): Agent {
  let a = agents.get(localAddress);
  if (!a) agents.set(localAddress, (a = new Agent({ localAddress, connect: { rejectUnauthorized: false } })));
  return a;
}

/** POSTs a Mesh request to `host:7575` from `from` (a local address). */
async function post(host: string, from: string, headers: Record<string, string>, body: Uint8Array) {
  const r = await request(`https://${host}:7575/mesh`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body,
    dispatcher: agentFrom(from),
  });
  const text = await r.body.text();
  return { status: r.statusCode, json: JSON.parse(text) as { error?: string; message?: string; data?: string } };
}

const json = (o: unknown) => utf8(JSON.stringify(o));

function card(k: Keys, address: string | null) {
  return { uuid: k.uuid, name: 'x', signPub: toB64u(k.signPub), boxPub: toB64u(k.boxPub), address };
}

type Contact = { uuid: string; address: string | null; status: string };
type Status = { drops: Record<string, number> };

describe('attacks on the protocol core against a real node', { timeout: 600_000 }, () => {
  let V: RunningNode;
  let vSelf: SelfRecord;
  const peers: Peer[] = [];
  let M: Peer; // Mallory, a contact gone bad
  /** Everything the listeners received since `t` (optionally of one type). */
  const received = (t: number, type?: string) =>
    peers.flatMap((p) => p.seen.filter((s) => s.at >= t && (type === undefined || s.type === type)));
  const contacts = () => meshJson<Contact[]>(V.dir, 'contacts');
  const drops = async () => (await meshJson<Status>(V.dir, 'status')).drops;

  before(async () => {
    const v = await initNode('victim');
    const store = SqliteStore.open(join(v.dir, 'mesh.db'));
    vSelf = store.getSelf()!;
    const now = Date.now();
    const records: ContactRecord[] = [];
    for (let i = 0; i < N; i++) {
      const keys = newKeys();
      const secret = rand(32);
      const host = `127.0.0.${140 + i}`;
      const link = deriveLinkKey(keys.boxPriv, vSelf.boxPub, secret, keys.uuid, vSelf.uuid);
      const peer: Peer = {
        keys,
        secret,
        link,
        host,
        address: `${host}:7575`,
        seen: [],
        transport: new HttpsTransport({ host, port: 7575, signPriv: keys.signPriv, signPub: keys.signPub }),
      };
      peers.push(peer);
      records.push({
        uuid: keys.uuid,
        name: `peer${i}`,
        signPub: keys.signPub,
        boxPub: keys.boxPub,
        secret,
        address: peer.address,
        status: 'active',
        lastSeen: now,
        addedAt: now,
        domain: null,
      });
    }
    store.apply(records.map((contact) => ({ op: 'contact:put', contact })));
    store.close();
    // Each listener answers like an honest contact that knows no route: 200, proven under its link.
    for (const p of peers) {
      await p.transport.listen(async (req) => {
        let body: Record<string, unknown> = {};
        try {
          body = JSON.parse(Buffer.from(req.body).toString('utf8'));
        } catch {}
        p.seen.push({ type: req.headers['mesh-type'] ?? '', body, at: Date.now() });
        const observed = req.remote;
        const secret = computeProof(p.link, responseSigningInput(req.headers['mesh-id'] ?? '', observed, ''));
        return { status: 200, body: json({ observed, secret }) };
      });
    }
    M = peers[0];
    V = await startNode(v.dir, V_HOST, 17690, '--public');
    // The start announces reach every listener: all 40 contacts are there.
    await waitFor(async () => peers.every((p) => p.seen.some((s) => s.type === 'referral')), 20_000, 'announces');
  });

  after(async () => {
    await V?.stop();
    for (const p of peers) await p.transport.close();
    for (const a of agents.values()) await a.close();
    await cleanup();
  });

  test('#8 no contact oracle: a junk proof under a contact’s UUID and a stranger’s UUID get the same answer', async () => {
    const body = json({ referent: M.keys.uuid, hops: 0 });
    const asContact = await post(V_HOST, '127.0.0.1', meshHeaders(M.keys, 'referral', body, rand(32)), body);
    const stranger = newKeys();
    const asStranger = await post(V_HOST, '127.0.0.1', meshHeaders(stranger, 'referral', body, rand(32)), body);
    assert.equal(asContact.status, 401);
    assert.deepEqual(asContact, asStranger, 'the stranger cannot tell a contact from a non-contact');
  });

  test('#4 junk from a contact’s ip:port changes nothing; it prompts one authenticated check', async () => {
    const target = peers[7];
    const t = Date.now();
    for (let i = 0; i < 5; i++) {
      const body = json({ referent: target.keys.uuid, hops: 0 });
      const r = await post(V_HOST, target.host, meshHeaders(newKeys(), 'referral', body, rand(32)), body);
      assert.equal(r.status, 401);
    }
    await waitFor(async () => target.seen.some((s) => s.at >= t), 10_000, 'the check');
    await sleep(500);
    const c = (await contacts()).find((x) => x.uuid === target.keys.uuid)!;
    assert.equal(c.status, 'active', 'the contact is not marked offline on unauthenticated input');
    assert.equal(received(t, 'IP').length, 0, 'no search starts');
    assert.equal(target.seen.filter((s) => s.at >= t).length, 1, 'one check for five junk requests');
    assert.ok((await drops()).LIMIT_PROBES >= 4);
  });

  test('#1 relay fan-out is bounded: 10 IP messages from a contact reach at most RELAY_FANOUT contacts each', async () => {
    const t = Date.now();
    const answers = await Promise.all(
      Array.from({ length: 10 }, async () => {
        const body = json({ to: newKeys().uuid, hops: 1, maxHops: 2, encrypted: toB64u(rand(120)) });
        return post(V_HOST, M.host, meshHeaders(M.keys, 'IP', body, M.link), body);
      }),
    );
    for (const a of answers) assert.equal(a.json.error, 'UNREACHABLE');
    const sent = received(t, 'IP').length;
    // Unbounded, each went to all 39 other contacts (390 sends).
    assert.ok(sent <= 10 * RELAY_FANOUT, `${sent} relayed IP messages for 10 requests`);
    assert.ok(sent >= 10, 'the relays did flood (bounded)');
    assert.ok((await drops()).LIMIT_FANOUT >= 10);
  });

  test('#1 a stranger’s contact_req to a --public node is relayed to at most RELAY_FANOUT_STRANGER contacts', async () => {
    const t = Date.now();
    for (let i = 0; i < 10; i++) {
      const s = newKeys();
      const body = json({ to: newKeys().uuid, hops: 1, card: card(s, null) });
      const r = await post(V_HOST, '127.0.0.1', meshHeaders(s, 'contact_req', body, null), body);
      assert.equal(r.json.error, 'UNREACHABLE');
    }
    const sent = received(t, 'contact_req').length;
    assert.ok(sent <= 10 * RELAY_FANOUT_STRANGER, `${sent} relayed contact_req for 10 stranger requests`);
  });

  test('#3 a contact alternating Mesh-Port causes one referral wave, not one per request', async () => {
    const t = Date.now();
    for (let i = 0; i < 10; i++) {
      const body = json({ referent: M.keys.uuid, hops: 0 });
      const port = i % 2 === 0 ? '7576' : '7575';
      const r = await post(V_HOST, M.host, meshHeaders(M.keys, 'referral', body, M.link, { 'mesh-port': port }), body);
      assert.equal(r.status, 200);
    }
    await sleep(1000);
    const about = received(t, 'referral').filter((s) => s.body.referent === M.keys.uuid);
    // Unbounded: 10 changes × 39 other contacts = 390 referrals.
    assert.ok(about.length <= N - 1, `${about.length} referrals about Mallory`);
    assert.ok((await drops()).LIMIT_MOVED >= 8);
    const m = (await contacts()).find((x) => x.uuid === M.keys.uuid)!;
    assert.equal(m.address, M.address, 'Mallory is back at its port');
  });

  /** An IP message for the victim from `origin`, sealed at `ts`, carried by Mallory. */
  async function ipForVictim(origin: Peer, ip: string, ts: number) {
    const id = toB64u(rand(16));
    const sealed = { from: origin.keys.uuid, ip, proof: computeProof(origin.link, ipProofInput(id, ip)), ts };
    const encrypted = toB64u(sealTo(origin.keys, vSelf.boxPub, json(sealed), ipAad(vSelf.uuid), rand));
    const body = json({ to: vSelf.uuid, hops: 2, encrypted });
    return post(V_HOST, M.host, meshHeaders(M.keys, 'IP', body, M.link, { 'mesh-id': id }), body);
  }

  test('#5 a relay replaying an old sealed IP part cannot roll the searcher’s address back', async () => {
    const origin = peers[9];
    const r = await ipForVictim(origin, '127.0.0.199:7575', Date.now() - 10 * 60_000);
    assert.equal(r.status, 409);
    assert.equal(r.json.error, 'REPLAYED');
    const c = (await contacts()).find((x) => x.uuid === origin.keys.uuid)!;
    assert.equal(c.address, origin.address);
  });

  test('#16 a sealed IP part cannot point the node at an unspecified or multicast address', async () => {
    const origin = peers[10];
    for (const ip of ['0.0.0.0:7575', '224.0.0.1:7575']) {
      const r = await ipForVictim(origin, ip, Date.now());
      assert.equal(r.status, 200, 'answered (the searcher is genuine)');
      const c = (await contacts()).find((x) => x.uuid === origin.keys.uuid)!;
      assert.equal(c.address, origin.address, `not moved to ${ip}`);
    }
    assert.ok((await drops()).BAD_ADDRESS >= 2);
  });

  test('#9 one contact cannot fill the referral table', async () => {
    // Rate limits are per IP (600/min): Mallory speaks from two addresses of its own.
    const second = new HttpsTransport({ host: '127.0.0.180', port: 7575, ...M.keys });
    await second.listen(async () => ({ status: 503, body: json({ error: 'UNAVAILABLE', message: '' }) }));
    try {
      const total = MAX_REFERRALS_PER_VIA + 40;
      let next = 0;
      const worker = async (from: string) => {
        while (next < total) {
          next++;
          const body = json({ referent: newKeys().uuid, hops: 1 });
          const r = await post(V_HOST, from, meshHeaders(M.keys, 'referral', body, M.link), body);
          assert.equal(r.status, 200);
        }
      };
      await Promise.all([worker(M.host), worker(M.host), worker('127.0.0.180'), worker('127.0.0.180')]);
      // Back at its main address.
      const body = json({ referent: M.keys.uuid, hops: 0 });
      await post(V_HOST, M.host, meshHeaders(M.keys, 'referral', body, M.link), body);
    } finally {
      await second.close();
    }
    const ro = SqliteStore.open(join(V.dir, 'mesh.db'), { readonly: true });
    const refs = ro.listReferrals();
    ro.close();
    const viaM = refs.filter((r) => r.via === M.keys.uuid).length;
    assert.equal(viaM, MAX_REFERRALS_PER_VIA, 'the oldest were evicted beyond the per-contact budget');
    assert.ok((await drops()).LIMIT_REFERRALS >= 40);
  });

  test('#19 `mesh add` asks at most ADD_MAX_ASK contacts', async () => {
    const ghost = newKeys();
    const code = encodeInvite({
      uuid: ghost.uuid,
      secret: rand(16),
      expiresAt: Date.now() + 3_600_000,
      addresses: [],
      domain: null,
    });
    const t = Date.now();
    await assert.rejects(meshJson(V.dir, 'add', code));
    const asked = received(t, 'contact_req').length;
    assert.ok(asked <= ADD_MAX_ASK, `${asked} contacts asked`);
    assert.ok(asked >= 8, 'it did ask');
  });

  /** A contact_req opened by the victim's live invite `code`, from `r`. */
  async function inviteRequest(code: string, r: Keys) {
    const inv = decodeInvite(code);
    const nonce = rand(12);
    const ct = aeadSeal(inviteKey(inv.secret), nonce, json(card(r, null)), utf8(`mesh-v1-contact_req|${inv.uuid}`));
    const packed = new Uint8Array(12 + ct.length);
    packed.set(nonce, 0);
    packed.set(ct, 12);
    const body = json({ to: inv.uuid, hops: 1, invite: inviteId(inv.secret), encrypted: toB64u(packed) });
    return post(V_HOST, '127.0.0.1', meshHeaders(r, 'contact_req', body, null), body);
  }

  test('#12 a rejected requester cannot come back with the spent invite', async () => {
    const { code } = await meshJson<{ code: string }>(V.dir, 'invite');
    const r = newKeys();
    assert.equal((await inviteRequest(code, r)).status, 200);
    await meshJson(V.dir, 'reject', r.uuid);
    const again = await inviteRequest(code, r);
    assert.equal(again.status, 401);
    assert.equal(again.json.error, 'BAD_SECRET');
    const reqs = await meshJson<{ uuid: string }[]>(V.dir, 'requests');
    assert.ok(!reqs.some((x) => x.uuid === r.uuid));
  });

  test('#6 pending requests from strangers are bounded; the next is refused with OVER_LIMIT', async () => {
    const have = (await meshJson<unknown[]>(V.dir, 'requests')).length;
    let last = { status: 0, json: {} as { error?: string } };
    for (let i = have; i <= MAX_PENDING_REQUESTS; i++) {
      const s = newKeys();
      const body = json({ to: null, hops: 1, card: card(s, null) });
      last = await post(V_HOST, `127.0.0.${2 + (i % 8)}`, meshHeaders(s, 'contact_req', body, null), body);
      if (i < MAX_PENDING_REQUESTS) assert.equal(last.status, 200);
    }
    assert.equal(last.status, 429);
    assert.equal(last.json.error, 'OVER_LIMIT');
    assert.equal((await meshJson<unknown[]>(V.dir, 'requests')).length, MAX_PENDING_REQUESTS);
    assert.ok((await drops()).LIMIT_REQUESTS >= 1);
  });

  test('#6 --accept-all stores a stranger at the socket it spoke from, not at the address its card names', async () => {
    const v2 = await initNode('acceptall');
    const V2 = await startNode(v2.dir, V2_HOST, 17691, '--public', '--accept-all');
    try {
      const victim = peers[35];
      const t = Date.now();
      const s = newKeys();
      const body = json({ to: null, hops: 1, card: card(s, victim.address) });
      const r = await post(
        V2_HOST,
        '127.0.0.1',
        meshHeaders(s, 'contact_req', body, null, { 'mesh-port': '7599' }),
        body,
      );
      assert.equal(r.status, 200);
      const c = await waitFor(
        async () => (await meshJson<Contact[]>(v2.dir, 'contacts')).find((x) => x.uuid === s.uuid),
        10_000,
        'the contact',
      );
      assert.equal(c.address, '127.0.0.1:7599');
      await sleep(1000);
      assert.equal(victim.seen.filter((x) => x.at >= t).length, 0, 'nothing aimed at the address the card named');
    } finally {
      await V2.stop();
    }
  });
});
