/**
 * Attacks on the relay and the introducer (docs/PROTOCOL.md §16, docs/SECURITY.md "Relays through a
 * mutual contact and introducers"), against a real daemon: `bin/mesh start` (not --public) on
 * 127.0.0.210:7575. Its contacts are raw channel peers run by this test: each dials the daemon from
 * its own loopback address with the real TLS pin and HELLO, answers the daemon's requests on the
 * channel like an honest contact, and counts what the daemon sends it — forwarding is measured, not
 * assumed. Mallory (M) is a contact gone bad; B is the relay target (a contact with a channel); X an
 * honest contact; I an inviter that registers invites with the daemon (its introducer); Z a contact
 * without a channel; strangers POST from 127.0.0.216.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Agent, request } from 'undici';
import {
  aeadSeal,
  authPhrase,
  deriveLinkKey,
  deriveUuid,
  encodeInvite,
  generateKeyPairs,
  inviteId,
  inviteKey,
  responseSigningInput,
  sealTo,
  signEd25519,
  toB64u,
  utf8,
} from '../../src/crypto/index.ts';
import {
  INTRODUCE_MAX_PER_CONTACT,
  INTRODUCE_MAX_PER_INVITE,
  RELAY_PATH_MAX_PER_CONTACT,
} from '../../src/protocol/constants.ts';
import type { ContactRecord, SelfRecord } from '../../src/protocol/types.ts';
import { SqliteStore } from '../../src/store/index.ts';
import { buildHello } from '../../src/transport/channel/channel.ts';
import type { ChannelLink } from '../../src/transport/channel/link.ts';
import { decodeFrame, encodeFrame } from '../../src/transport/channel-frames.ts';
import { dialWs } from '../../src/transport/https/channel-ws.ts';
import { HttpsTransport } from '../../src/transport/https/index.ts';
import { storeSnapshot } from '../fuzz/https.ts';
import { cleanup, initNode, meshJson, type RunningNode, startNode, waitFor } from './cli-helpers.ts';
import { meshHeaders } from './raw-mesh.ts';

const R_HOST = '127.0.0.210';
const API_PORT = 17720;
const STRANGER_HOST = '127.0.0.216';
const rand = (n: number) => new Uint8Array(randomBytes(n));
const json = (o: unknown) => utf8(JSON.stringify(o));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

type Answer = { status: number; json: { error?: string; message?: string; data?: string } };
type Seen = { type: string; body: Record<string, unknown>; at: number };

function identity(name: string): SelfRecord {
  const k = generateKeyPairs(rand);
  return { uuid: deriveUuid(k.signPub, k.boxPub), name, ...k, createdAt: Date.now() };
}

/**
 * A contact of the daemon played by the test over a real channel: it answers every request of the
 * daemon 200 (a relayed one with `data` naming itself), and sends its own requests as frames.
 */
class ChannelPeer {
  readonly self: SelfRecord;
  readonly secret = rand(32);
  readonly seen: Seen[] = [];
  link: ChannelLink | null = null;
  closedWith: number | null = null;
  #answers = new Map<number, (a: Answer) => void>();
  #nextId = 1;
  constructor(
    name: string,
    readonly host: string,
  ) {
    this.self = identity(name);
  }
  get address() {
    return `${this.host}:7575`;
  }
  record(now: number): ContactRecord {
    const s = this.self;
    return {
      ...{ uuid: s.uuid, name: s.name, signPub: s.signPub, boxPub: s.boxPub, secret: this.secret },
      ...{ address: this.address, status: 'active' as const, lastSeen: now, addedAt: now, domain: null },
    };
  }
  linkKey(r: SelfRecord) {
    return deriveLinkKey(this.self.boxPriv, r.boxPub, this.secret, this.self.uuid, r.uuid);
  }
  /** Dials the daemon and exchanges HELLOs. */
  async connect(r: SelfRecord): Promise<void> {
    const link = await dialWs({
      host: R_HOST,
      port: 7575,
      signPub: r.signPub,
      localAddress: this.host,
      timeoutMs: 10_000,
    });
    this.link = link;
    this.closedWith = null;
    let hello!: () => void;
    const helloBack = new Promise<void>((res) => {
      hello = res;
    });
    link.onClose = (code) => {
      this.closedWith = code;
      this.link = null;
    };
    link.onPong = () => {};
    link.onMessage = (bytes) => {
      const d = decodeFrame(bytes);
      if (!d.ok) throw new Error(`the daemon sent an undecodable frame: ${d.reason}`);
      const f = d.frame;
      if (f.kind === 'hello') return hello();
      if (f.kind === 'response') {
        const cb = this.#answers.get(f.id);
        this.#answers.delete(f.id);
        return cb?.({ status: f.status, json: JSON.parse(Buffer.from(f.body).toString('utf8')) });
      }
      if (f.kind !== 'request') return;
      const type = f.headers['mesh-type'] ?? '';
      let body: Record<string, unknown> = {};
      try {
        body = JSON.parse(Buffer.from(f.body).toString('utf8'));
      } catch {}
      this.seen.push({ type, body, at: Date.now() });
      // On the contact's own channel an answer carries no proof (§13.8).
      const answer: Record<string, string> = { observed: `${R_HOST}:40000` };
      if (type === 'relay' || type === 'contact_req') answer.data = toB64u(utf8(`answered by ${this.self.name}`));
      const enc = encodeFrame({ kind: 'response', id: f.id, status: 200, body: json(answer) });
      if (enc.ok) link.send(enc.bytes);
    };
    link.send(buildHello(this.self, 0, link.exporter));
    await Promise.race([helloBack, sleep(10_000).then(() => Promise.reject(new Error('no HELLO back')))]);
  }
  /** Sends one request on the channel and waits for its answer. */
  request(r: SelfRecord, type: string, body: Uint8Array): Promise<Answer> {
    const link = this.link;
    if (!link) return Promise.reject(new Error(`${this.self.name}: channel closed (${this.closedWith})`));
    const id = this.#nextId++;
    const headers = meshHeaders(this.self, type, body, this.linkKey(r));
    const enc = encodeFrame({ kind: 'request', id, headers, body });
    if (!enc.ok) throw new Error(enc.reason);
    return new Promise<Answer>((res, rej) => {
      this.#answers.set(id, res);
      link.send(enc.bytes);
      setTimeout(() => rej(new Error(`${type} ${id} not answered`)), 30_000).unref();
    });
  }
  received(t: number, type: string) {
    return this.seen.filter((s) => s.at >= t && s.type === type);
  }
}

const agent = new Agent({ localAddress: STRANGER_HOST, connect: { rejectUnauthorized: false } });

/** POSTs a Mesh request to the daemon from the strangers' address. */
async function post(headers: Record<string, string>, body: Uint8Array): Promise<Answer> {
  const r = await request(`https://${R_HOST}:7575/mesh`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body,
    dispatcher: agent,
  });
  return { status: r.statusCode, json: JSON.parse(await r.body.text()) };
}

/** The daemon's store without what a contact's authenticated request may refresh (lastSeen, address). */
function storedState(dir: string) {
  const ro = SqliteStore.open(join(dir, 'mesh.db'), { readonly: true });
  const s = storeSnapshot(ro);
  ro.close();
  for (const c of s.contacts as Record<string, unknown>[]) {
    delete c.lastSeen;
    delete c.status;
  }
  return s;
}

describe('attacks on the relay and the introducer against a real daemon', { timeout: 600_000 }, () => {
  let R: RunningNode;
  let r: SelfRecord;
  const M = new ChannelPeer('mallory', '127.0.0.211');
  const B = new ChannelPeer('bob', '127.0.0.212');
  const X = new ChannelPeer('xena', '127.0.0.213');
  const I = new ChannelPeer('ivy', '127.0.0.214');
  const Z = new ChannelPeer('zed', '127.0.0.215'); // a contact with no channel
  const status = () => meshJson<{ drops: Record<string, number> }>(R.dir, 'status');
  const drops = async () => (await status()).drops;
  const relayBody = (from: ChannelPeer, to: string) => json({ from: from.self.uuid, to, sealed: toB64u(rand(96)) });

  before(async () => {
    const v = await initNode('relay');
    const store = SqliteStore.open(join(v.dir, 'mesh.db'));
    r = store.getSelf() as SelfRecord;
    const now = Date.now();
    store.apply([M, B, X, I, Z].map((p) => ({ op: 'contact:put' as const, contact: p.record(now) })));
    store.close();
    R = await startNode(v.dir, R_HOST, API_PORT);
    for (const p of [M, B, X, I]) await p.connect(r);
    // The daemon says it is there over each channel: it sees the channels open.
    await waitFor(async () => [M, B, X, I].every((p) => p.seen.length > 0), 20_000, 'announces over the channels');
  });

  after(async () => {
    for (const p of [M, B, X, I]) p.link?.close(1000, 'done');
    await R?.stop();
    await agent.close();
    await cleanup();
  });

  test('relay refusals: a target that is not a contact, one without a channel, a forged origin, an oversized body', async () => {
    const before = storedState(R.dir);
    const d0 = await drops();
    const t = Date.now();
    const notContact = await M.request(r, 'relay', relayBody(M, identity('nobody').uuid));
    assert.equal(notContact.status, 504);
    assert.equal(notContact.json.error, 'UNREACHABLE');
    assert.match(notContact.json.message ?? '', /not a contact/);
    const noChannel = await M.request(r, 'relay', relayBody(M, Z.self.uuid));
    assert.equal(noChannel.json.error, 'UNREACHABLE');
    assert.match(noChannel.json.message ?? '', /no channel/);
    // "from" must be the sender of this hop: Mallory cannot make B believe X asked.
    const forged = await M.request(r, 'relay', relayBody(X, B.self.uuid));
    assert.equal(forged.status, 400);
    assert.equal(forged.json.error, 'BAD_REQUEST');
    // Over MAX_BODY_BYTES (64 KiB): refused at the edge, the channel stays open.
    const huge = json({ from: M.self.uuid, to: B.self.uuid, sealed: toB64u(rand(70_000)) });
    const tooLarge = await M.request(r, 'relay', huge);
    assert.equal(tooLarge.status, 413);
    assert.equal(tooLarge.json.error, 'TOO_LARGE');
    assert.ok(M.link, 'Mallory’s channel stays open after refusals');
    await sleep(300);
    assert.equal(B.received(t, 'relay').length + Z.received(t, 'relay').length, 0, 'nothing was forwarded');
    const d1 = await drops();
    assert.equal((d1.UNREACHABLE ?? 0) - (d0.UNREACHABLE ?? 0), 2, 'both UNREACHABLE refusals counted');
    assert.ok((d1.BAD_REQUEST ?? 0) - (d0.BAD_REQUEST ?? 0) >= 1, 'the forged origin counted');
    assert.deepEqual(storedState(R.dir), before, 'nothing stored');
  });

  test('a relay flood from one contact stays within its budget; other contacts are still served', async () => {
    const before = storedState(R.dir);
    const d0 = await drops();
    const t = Date.now();
    const total = RELAY_PATH_MAX_PER_CONTACT + 60;
    const statuses: Record<string, number> = {};
    // 128 in flight at a time (the channel window is 256: past it the edge answers RATE_LIMITED).
    let next = 0;
    const lane = async () => {
      while (next < total) {
        next++;
        const a = await M.request(r, 'relay', relayBody(M, B.self.uuid));
        const k = a.status === 200 ? '200' : `${a.status} ${a.json.error}`;
        statuses[k] = (statuses[k] ?? 0) + 1;
      }
    };
    await Promise.all(Array.from({ length: 128 }, lane));
    const took = Date.now() - t;
    assert.ok(took < 55_000, `the flood must fit in the budget window to test it (took ${took} ms)`);
    const forwarded = B.received(t, 'relay').filter((s) => s.body.from === M.self.uuid).length;
    assert.equal(
      forwarded,
      RELAY_PATH_MAX_PER_CONTACT,
      `forwarded ${forwarded} of ${total}: ${JSON.stringify(statuses)}`,
    );
    // Each forwarded one is answered by B's 200 (or, on a machine too loaded for B's answer to come back
    // within RELAY_TIMEOUT_MS, by 504 UNREACHABLE): none of them is refused by the budget.
    const carried = (statuses['200'] ?? 0) + (statuses['504 UNREACHABLE'] ?? 0);
    assert.equal(carried, RELAY_PATH_MAX_PER_CONTACT, JSON.stringify(statuses));
    assert.equal(statuses['429 OVER_LIMIT'], 60, JSON.stringify(statuses));
    const d1 = await drops();
    assert.equal((d1.LIMIT_RELAYED ?? 0) - (d0.LIMIT_RELAYED ?? 0), 60, 'each refusal counted as LIMIT_RELAYED');
    // Mallory's budget is its own: X's relay to B goes through, its announce is answered.
    const tx = Date.now();
    const viaX = await X.request(r, 'relay', relayBody(X, B.self.uuid));
    assert.equal(viaX.status, 200);
    assert.equal(Buffer.from(viaX.json.data ?? '', 'base64url').toString(), 'answered by bob');
    assert.equal(B.received(tx, 'relay').length, 1);
    const announce = await X.request(r, 'referral', json({ referent: X.self.uuid, hops: 0 }));
    assert.equal(announce.status, 200);
    assert.ok(M.link && B.link && X.link, 'all channels still open');
    assert.deepEqual(storedState(R.dir), before, 'a relay stores nothing');
  });

  // ------------------------------------------------------------------ introducer (§16.4)

  /** A stranger's signed first contact request for the invite `secret` of inviter I, through the daemon. */
  function introducedRequest(stranger: SelfRecord, secret: Uint8Array, to = I.self.uuid) {
    const card = {
      uuid: stranger.uuid,
      name: 'stranger',
      signPub: toB64u(stranger.signPub),
      boxPub: toB64u(stranger.boxPub),
      address: null,
    };
    const nonce = rand(12);
    const ct = aeadSeal(inviteKey(secret), nonce, json(card), utf8(`mesh-v1-contact_req|${to}`));
    const packed = new Uint8Array(12 + ct.length);
    packed.set(nonce, 0);
    packed.set(ct, 12);
    const body = json({ to, hops: 1, invite: inviteId(secret), encrypted: toB64u(packed) });
    return { headers: meshHeaders(stranger, 'contact_req', body, null), body };
  }
  const register = (secret: Uint8Array, expiresAt: number, from = I) =>
    from.request(r, 'introduce', json({ invite: inviteId(secret), expiresAt }));
  const forwardedToI = (t: number) => I.received(t, 'contact_req').length;

  test('introducer: forged, replayed, unregistered, misaddressed and spent introductions are refused; nothing stored', async () => {
    const before = storedState(R.dir);
    const d0 = await drops();
    const secret = rand(16);
    assert.equal((await register(secret, Date.now() + 600_000)).status, 200);
    const t = Date.now();

    // A valid introduction is carried to the inviter, and its answer back.
    const first = introducedRequest(identity('sam'), secret);
    const ok = await post(first.headers, first.body);
    assert.equal(ok.status, 200, JSON.stringify(ok.json));
    assert.equal(Buffer.from(ok.json.data ?? '', 'base64url').toString(), 'answered by ivy');
    assert.equal(forwardedToI(t), 1);

    // Replayed as it is: the seen-id cache refuses it.
    const replay = await post(first.headers, first.body);
    assert.equal(replay.status, 409);
    assert.equal(replay.json.error, 'REPLAYED');

    // A wrong signature.
    const forged = introducedRequest(identity('forger'), secret);
    const sig = Buffer.from(forged.headers['mesh-signature'], 'base64url');
    sig[5] ^= 1;
    const bad = await post({ ...forged.headers, 'mesh-signature': sig.toString('base64url') }, forged.body);
    assert.equal(bad.status, 401);
    assert.equal(bad.json.error, 'BAD_SIGNATURE');

    // The signature of one stranger under another's UUID (a swapped Mesh-Pub-Key).
    const other = introducedRequest(identity('other'), secret);
    const swapped = await post({ ...other.headers, 'mesh-pub-key': forged.headers['mesh-pub-key'] }, other.body);
    assert.equal(swapped.status, 401);

    // An invite nobody registered (a guessed or leaked code for another introducer).
    const unregistered = introducedRequest(identity('guess'), rand(16));
    const u = await post(unregistered.headers, unregistered.body);
    assert.equal(u.json.error, 'UNKNOWN_SENDER');

    // A registered invite used for someone else than its inviter (B is a contact too).
    const elsewhere = introducedRequest(identity('aimer'), secret, B.self.uuid);
    const e = await post(elsewhere.headers, elsewhere.body);
    assert.equal(e.json.error, 'UNKNOWN_SENDER');
    assert.equal(B.received(t, 'contact_req').length, 0);

    // Spent: INTRODUCE_MAX_PER_INVITE introductions in all, then refused and counted.
    for (let i = 1; i < INTRODUCE_MAX_PER_INVITE; i++) {
      const q = introducedRequest(identity(`retry${i}`), secret);
      assert.equal((await post(q.headers, q.body)).status, 200);
    }
    const dSpent = await drops();
    const spent = introducedRequest(identity('late'), secret);
    const sp = await post(spent.headers, spent.body);
    assert.equal(sp.json.error, 'UNKNOWN_SENDER');
    assert.equal(((await drops()).LIMIT_INTRODUCED ?? 0) - (dSpent.LIMIT_INTRODUCED ?? 0), 1);
    assert.equal(forwardedToI(t), INTRODUCE_MAX_PER_INVITE, 'only the valid ones reached the inviter');

    const d1 = await drops();
    assert.ok((d1.BAD_SIGNATURE ?? 0) - (d0.BAD_SIGNATURE ?? 0) >= 2);
    assert.ok((d1.UNKNOWN_SENDER ?? 0) - (d0.UNKNOWN_SENDER ?? 0) >= 3);
    assert.deepEqual(storedState(R.dir), before, 'an introducer stores nothing');
  });

  test('introducer: expired invites, introductions from strangers, hijacked ids and a registration flood are refused', async () => {
    const before = storedState(R.dir);
    // Registered already expired.
    const past = await register(rand(16), Date.now() - 1);
    assert.equal(past.status, 400);
    assert.equal(past.json.error, 'BAD_REQUEST');
    // Expires while registered: refused afterwards, not forwarded.
    const short = rand(16);
    const shortUntil = Date.now() + 3_000;
    assert.equal((await register(short, shortUntil)).status, 200);
    await sleep(shortUntil + 500 - Date.now());
    const t = Date.now();
    const late = introducedRequest(identity('late'), short);
    assert.equal((await post(late.headers, late.body)).json.error, 'UNKNOWN_SENDER');
    assert.equal(forwardedToI(t), 0);

    // A stranger cannot register an invite (the daemon is nobody's introducer but its contacts').
    const stranger = identity('stranger');
    const regBody = json({ invite: inviteId(rand(16)), expiresAt: Date.now() + 600_000 });
    const sreg = await post(meshHeaders(stranger, 'introduce', regBody, null), regBody);
    assert.equal(sreg.status, 401);
    assert.equal(sreg.json.error, 'UNKNOWN_SENDER');

    // A contact cannot take over an invite id another contact registered.
    const taken = rand(16);
    assert.equal((await register(taken, Date.now() + 600_000)).status, 200);
    const hijack = await register(taken, Date.now() + 600_000, M);
    assert.equal(hijack.json.error, 'BAD_REQUEST');
    const h = introducedRequest(identity('victim'), taken);
    assert.equal((await post(h.headers, h.body)).status, 200);
    assert.equal(forwardedToI(t), 1, 'the introduction still goes to the contact that registered it');
    assert.equal(M.received(t, 'contact_req').length, 0);

    // A relay from a stranger that was not introduced.
    const rb = json({ from: stranger.uuid, to: I.self.uuid, sealed: toB64u(rand(96)) });
    const sr = await post(meshHeaders(stranger, 'relay', rb, null), rb);
    assert.equal(sr.json.error, 'UNKNOWN_SENDER');
    assert.equal(I.received(t, 'relay').length, 0);

    // A registration flood: at most INTRODUCE_MAX_PER_CONTACT live ones per contact.
    const d0 = await drops();
    const statuses: Record<string, number> = {};
    for (let i = 0; i < INTRODUCE_MAX_PER_CONTACT + 10; i++) {
      const a = await register(rand(16), Date.now() + 600_000, M);
      const k = a.status === 200 ? '200' : `${a.status} ${a.json.error}`;
      statuses[k] = (statuses[k] ?? 0) + 1;
    }
    assert.deepEqual(statuses, { '200': INTRODUCE_MAX_PER_CONTACT, '429 OVER_LIMIT': 10 });
    assert.equal(((await drops()).LIMIT_INTRODUCED ?? 0) - (d0.LIMIT_INTRODUCED ?? 0), 10);

    // Still serving: I's own registrations and X's announce.
    assert.equal((await register(rand(16), Date.now() + 600_000)).status, 200);
    assert.equal((await X.request(r, 'referral', json({ referent: X.self.uuid, hops: 0 }))).status, 200);
    assert.deepEqual(storedState(R.dir), before, 'nothing stored');
  });

  /** A TCP listener that only counts the connections made to it (is the daemon dialling this address?). */
  async function counter(host: string): Promise<{ server: Server; count: () => number }> {
    let n = 0;
    const server = createServer((sock) => {
      n++;
      sock.destroy();
    });
    await new Promise<void>((res) => server.listen(7575, host, res));
    return { server, count: () => n };
  }

  test('requester side: a forged introducer card in an inviter’s sealed answer makes the daemon dial nothing', async () => {
    // Inviters answering `mesh add` at 127.0.0.221 (first contact: no pin, the seal authenticates):
    // each invite's inviter answers properly, with the `introducer` card the test chooses.
    const cards = new Map<string, { inviter: SelfRecord; introducer: Record<string, unknown> }>();
    const listener = new HttpsTransport({ host: '127.0.0.221', port: 7575, ...identity('listener') });
    await listener.listen(async (req) => {
      const body = JSON.parse(Buffer.from(req.body).toString('utf8'));
      const entry = cards.get(body.invite);
      const pub = Buffer.from(req.headers['mesh-pub-key'] ?? '', 'base64url');
      if (!entry || pub.length !== 64) return { status: 401, body: json({ error: 'UNKNOWN_SENDER', message: '' }) };
      const requester = { signPub: new Uint8Array(pub.subarray(0, 32)), boxPub: new Uint8Array(pub.subarray(32)) };
      const i = entry.inviter;
      const secret = rand(32);
      const answer = {
        ...{ uuid: i.uuid, name: i.name, signPub: toB64u(i.signPub), boxPub: toB64u(i.boxPub), address: null },
        ...{ secret: toB64u(secret), authPhrase: authPhrase(i, requester, secret), introducer: entry.introducer },
      };
      const meshId = req.headers['mesh-id'] ?? '';
      const aad = utf8(`mesh-v1-contact_resp|${meshId}`);
      const data = toB64u(sealTo(i, requester.boxPub, json(answer), aad, rand));
      const observed = req.remote;
      const signature = toB64u(signEd25519(i.signPriv, responseSigningInput(meshId, observed, data)));
      return { status: 200, body: json({ observed, signature, data }) };
    });
    const forgedAt = await counter('127.0.0.222');
    const controlAt = await counter('127.0.0.223');
    const contactAt = await counter('127.0.0.224');
    const add = async (introducer: (self: SelfRecord) => Record<string, unknown>) => {
      const inviter = identity('inviter');
      const secret = rand(16);
      cards.set(inviteId(secret), { inviter, introducer: introducer(identity('intro')) });
      const code = encodeInvite({
        uuid: inviter.uuid,
        secret,
        expiresAt: Date.now() + 3_600_000,
        addresses: ['127.0.0.221:7575'],
        domain: null,
      });
      const r = await meshJson<{ uuid: string }>(R.dir, 'add', code);
      assert.equal(r.uuid, inviter.uuid, 'the inviter was added (pending)');
    };
    const cardOf = (k: SelfRecord, address: string) => ({
      ...{ uuid: k.uuid, name: 'intro', signPub: toB64u(k.signPub), boxPub: toB64u(k.boxPub), address },
    });
    try {
      const d0 = await drops();
      // 1. Forged: the UUID does not derive from the keys (another identity's UUID).
      await add((k) => ({ ...cardOf(k, '127.0.0.222:7575'), uuid: identity('other').uuid }));
      // 2. A real identity at an address no introducer can have (multicast).
      await add((k) => cardOf(k, '224.0.0.1:7575'));
      // 3. One of the daemon's contacts (B) at another address: a card cannot redirect a contact.
      await add(() => cardOf(B.self, '127.0.0.224:7575'));
      // 4. The daemon itself.
      await add(() => cardOf(r, '127.0.0.224:7575'));
      // Control: a valid card is dialled (pinned to its key), so the cases above would show.
      await add((k) => cardOf(k, '127.0.0.223:7575'));
      await waitFor(async () => controlAt.count() > 0, 20_000, 'the daemon dials a valid introducer');
      await sleep(1_000);
      assert.equal(forgedAt.count(), 0, 'a forged card is not dialled');
      assert.equal(contactAt.count(), 0, 'a card naming a contact or ourselves is not dialled');
      assert.ok(((await drops()).BAD_ADDRESS ?? 0) - (d0.BAD_ADDRESS ?? 0) >= 1, 'the multicast card counted');
      assert.ok(B.link, 'B’s channel is untouched');
      await status(); // still serving
    } finally {
      await listener.close();
      for (const c of [forgedAt, controlAt, contactAt]) await new Promise((res) => c.server.close(res));
    }
  });
});
