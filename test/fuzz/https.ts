/**
 * HTTPS fuzzing: the same mutated requests, plus HTTP-level damage (doubled headers, other methods
 * and paths), against a real MeshNode (HttpsTransport on 127.0.0.1 with the shipped defaults, a
 * SqliteStore on disk). Requests come from many loopback source addresses (127.1.x.y), each used for
 * at most 500 requests, so the per-IP rate limit (600/min) is not what answers them.
 *
 * Phase 1 sends only requests that no real key vouches for: the Store must be byte-for-byte what
 * it was. Phase 2 mixes in requests re-proved by the real contacts and stranger: then only what
 * they may change changes (their contact's address and status, referrals through them, a pending
 * request from the stranger, inbox texts they really sent). Every answer must carry a documented
 * code, never 500; at the end a valid request still gets 200.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent, request } from 'undici';
import type { Store } from '../../src/ports.ts';
import { MeshNode } from '../../src/runtime/mesh-node.ts';
import { SqliteStore } from '../../src/store/index.ts';
import { HttpsTransport } from '../../src/transport/https/index.ts';
import { buildRig, reprove, type Seed } from './corpus.ts';
import {
  checkAnswer,
  documentedErrors,
  Findings,
  type FuzzSummary,
  finishSummary,
  isAuthentic,
  summaryBase,
} from './invariants.ts';
import { type Mutant, mutate } from './mutate.ts';
import { Rng } from './rng.ts';

/** Options of an HTTPS run. */
export interface HttpsInit {
  m: number;
  seed: number;
  /** Concurrent request lanes. @default 16 */
  lanes?: number;
  onProgress?: (done: number, s: HttpsSummary) => void;
  progressEvery?: number;
}

/** Counts of an HTTPS run. */
export interface HttpsSummary extends FuzzSummary {
  mode: 'https';
  /** Answers with status ≥ 500, by status (504 UNREACHABLE is the documented relay outcome). */
  serverErrors: Record<string, number>;
  /** Requests that got no HTTP answer (connection reset, client-side refusal), by error code. */
  noAnswer: Record<string, number>;
  sourceAddresses: number;
  storeUnchangedAfterUnauthenticatedPhase: boolean;
  storeChangesOnlyAllowedAfterMixedPhase: boolean;
  servingAtEnd: boolean;
  nodeDrops: Record<string, number>;
}

const PER_SOURCE = 500;

/** A port nobody listens on at `host` now. */
export async function freePort(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, host, () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
  });
}

/** Everything the Store holds, as comparable JSON (keys and secrets as base64). */
export function storeSnapshot(store: Store) {
  const j = (v: unknown) =>
    JSON.parse(JSON.stringify(v, (_k, x) => (x instanceof Uint8Array ? Buffer.from(x).toString('base64url') : x)));
  return {
    self: j(store.getSelf()),
    contacts: j(store.listContacts()),
    referrals: j(store.listReferrals()),
    invites: j(store.listInvites()),
    requests: j(store.listRequests()),
    outbox: j(store.listOutbox()),
    inbox: j(store.listInbox()),
  };
}

/**
 * Node A of a fresh rig on a free loopback port (its contacts B, C, S, D at addresses where nothing
 * listens: refused at once), its SQLite store seeded with A's contacts and invite; `channels` gives
 * it the channel binding (the box key), else it speaks POST only.
 */
export async function startRigNode(rng: Rng, tmpPrefix: string, channels: boolean) {
  const host = '127.0.0.1';
  const port = await freePort(host);
  const dead = (p: number) => `127.0.0.1:${p}`;
  const rig = buildRig(rng, Date.now(), { A: `${host}:${port}`, B: dead(2), C: dead(3), S: dead(4), D: dead(5) });
  const dir = mkdtempSync(join(tmpdir(), tmpPrefix));
  const store = SqliteStore.open(join(dir, 'a.db'));
  store.apply([
    { op: 'self:put', self: rig.A.self },
    ...rig.aContacts.map((contact) => ({ op: 'contact:put' as const, contact })),
    ...rig.aInvite,
  ]);
  const a = rig.A.self;
  const keys = { signPriv: a.signPriv, signPub: a.signPub, ...(channels ? { boxPub: a.boxPub } : {}) };
  const node = new MeshNode({ store, transport: new HttpsTransport({ host, port, ...keys }) });
  await node.start();
  return { host, port, rig, dir, store, node };
}

/** Runs `m` mutated requests against a real HTTPS node. */
export async function runHttps(init: HttpsInit): Promise<HttpsSummary> {
  const rng = new Rng(init.seed ^ 0x5eed);
  const documented = documentedErrors();
  const findings = new Findings();
  const { host, port, rig, dir, store, node } = await startRigNode(rng, 'mesh-fuzz-', false);
  const s: HttpsSummary = {
    ...summaryBase(init.seed, findings),
    mode: 'https',
    serverErrors: {},
    noAnswer: {},
    sourceAddresses: 0,
    storeUnchangedAfterUnauthenticatedPhase: false,
    storeChangesOnlyAllowedAfterMixedPhase: false,
    servingAtEnd: false,
    nodeDrops: {},
  };
  const started = performance.now();
  const url = `https://${host}:${port}`;
  const uuids = [rig.A.self.uuid, rig.B.self.uuid, rig.C.self.uuid, rig.S.self.uuid, rig.D.self.uuid];
  let seeds = refresh(rig.seeds, rng);
  let seedsAt = Date.now();
  let nextSource = 0;
  const newAgent = () => {
    const n = nextSource++;
    s.sourceAddresses++;
    const localAddress = `127.${1 + Math.floor(n / 64516)}.${(Math.floor(n / 254) % 254) + 1}.${(n % 254) + 1}`;
    return new Agent({ connect: { rejectUnauthorized: false }, localAddress });
  };

  // Let the start-up announces to the (dead) contacts fail and settle before the first snapshot.
  await new Promise((r) => setTimeout(r, 1500));
  const before = storeSnapshot(store);

  const send = async (agent: Agent, m: Mutant) => {
    const headers: string[] = ['content-type', 'application/json'];
    for (const [k, v] of Object.entries(m.headers)) headers.push(k, v);
    for (const [k, v] of m.extraHeaders) headers.push(k, v);
    try {
      const res = await request(url + m.path, {
        method: m.method as 'POST',
        headers,
        body: m.method === 'GET' ? undefined : Buffer.from(m.body),
        dispatcher: agent,
        headersTimeout: 30_000,
        bodyTimeout: 30_000,
      });
      const text = await res.body.text();
      const status = res.statusCode;
      s.statuses[status] = (s.statuses[status] ?? 0) + 1;
      if (status >= 500) s.serverErrors[status] = (s.serverErrors[status] ?? 0) + 1;
      if (status !== 200) {
        try {
          const code = String(JSON.parse(text).error);
          s.codes[code] = (s.codes[code] ?? 0) + 1;
        } catch {
          /* checked below */
        }
      }
      const bad = checkAnswer(status, text, documented);
      if (bad) findings.add(bad, m, text.slice(0, 200));
      return status;
    } catch (e) {
      const code = (e as { code?: string }).code ?? (e as Error).name;
      s.noAnswer[code] = (s.noAnswer[code] ?? 0) + 1;
      return 0;
    }
  };

  const lanes = init.lanes ?? 16;
  const every = init.progressEvery ?? 2_000;
  const half = Math.floor(init.m / 2);
  let issued = 0;
  const runPhase = async (until: number, unauthenticatedOnly: boolean) => {
    await Promise.all(
      Array.from({ length: lanes }, async () => {
        let agent = newAgent();
        let used = 0;
        while (issued < until) {
          issued++;
          if (Date.now() - seedsAt > 60_000) {
            seeds = refresh(rig.seeds, rng);
            seedsAt = Date.now();
          }
          let m = mutate(rng, rng.pick(seeds), { now: Date.now(), uuids, https: true });
          // Phase 1: nothing a real key vouches for (so nothing may change what the node stores).
          while (unauthenticatedOnly && (m.ops.length === 0 || isAuthentic(m)))
            m = mutate(rng, rng.pick(seeds), { now: Date.now(), uuids, https: true });
          if (used++ >= PER_SOURCE) {
            await agent.close();
            agent = newAgent();
            used = 1;
          }
          await send(agent, m);
          s.requests++;
          if (init.onProgress && s.requests % every === 0)
            init.onProgress(s.requests, finishSummary(s, findings, started));
        }
        await agent.close();
      }),
    );
  };

  try {
    await runPhase(half, true);
    const afterPhase1 = storeSnapshot(store);
    s.storeUnchangedAfterUnauthenticatedPhase = JSON.stringify(afterPhase1) === JSON.stringify(before);
    if (!s.storeUnchangedAfterUnauthenticatedPhase)
      findings.add('store changed by unauthenticated requests', emptyMutant, diff(before, afterPhase1));
    await runPhase(init.m, false);
    // Still serving: a fresh announce from B, properly proved, gets 200.
    const agent = newAgent();
    const ok = refresh(
      rig.seeds.filter((x) => x.name === 'announce'),
      rng,
    )[0];
    const status = await send(agent, {
      ...emptyMutant,
      ...ok,
      seed: ok.name,
      extraHeaders: [],
      method: 'POST',
      path: '/mesh',
      signer: ok.signer,
    });
    await agent.close();
    s.servingAtEnd = status === 200;
    if (!s.servingAtEnd) findings.add('node not serving a valid request at the end', emptyMutant, String(status));
    const after = storeSnapshot(store);
    const why = disallowedChanges(before, after, rig);
    s.storeChangesOnlyAllowedAfterMixedPhase = why.length === 0;
    for (const w of why) findings.add(`store: ${w}`, emptyMutant, '');
    s.nodeDrops = { ...node.status().drops };
  } finally {
    await node.stop();
    store.close();
    rmSync(dir, { recursive: true, force: true });
  }
  return finishSummary(s, findings, started);
}

const emptyMutant = { seed: '-', ops: [] as string[], reproved: false, headers: {}, body: new Uint8Array() };

/** The seeds again with a fresh Mesh-Id and clock, proved by their real senders (the replay window is 5 min). */
export function refresh(seeds: Seed[], rng: Rng): Seed[] {
  return seeds.map((x) => {
    const headers = {
      ...x.headers,
      'mesh-id': Buffer.from(rng.bytes(16)).toString('base64url'),
      'mesh-ts': String(Date.now()),
    };
    reprove(headers, x.body, x.signer);
    return { ...x, headers };
  });
}

/** A Store snapshot. */
export type Snap = ReturnType<typeof storeSnapshot>;

function diff(a: Snap, b: Snap): string {
  const out: string[] = [];
  for (const k of Object.keys(a) as (keyof Snap)[])
    if (JSON.stringify(a[k]) !== JSON.stringify(b[k])) out.push(`${k}: ${JSON.stringify(b[k]).slice(0, 300)}`);
  return out.join('; ');
}

/** What changed in the Store that no authenticated request of the run could have changed (also used by the channel run). */
export function disallowedChanges(before: Snap, after: Snap, rig: ReturnType<typeof buildRig>): string[] {
  const why: string[] = [];
  const contacts = new Set([rig.B.self.uuid, rig.C.self.uuid]);
  if (JSON.stringify(after.self) !== JSON.stringify(before.self)) why.push('self changed');
  const fixed = (c: Record<string, unknown>) =>
    JSON.stringify([c.uuid, c.name, c.signPub, c.boxPub, c.secret, c.domain]);
  if (JSON.stringify(after.contacts.map(fixed)) !== JSON.stringify(before.contacts.map(fixed)))
    why.push('contact identities or secrets changed');
  for (const r of after.referrals as { via: string }[])
    if (!contacts.has(r.via)) why.push(`referral via a non-contact ${r.via}`);
  const invitesBefore = new Set((before.invites as { id: string }[]).map((i) => i.id));
  for (const i of after.invites as { id: string }[]) if (!invitesBefore.has(i.id)) why.push('a new invite');
  for (const r of after.requests as { uuid: string }[])
    if (r.uuid !== rig.S.self.uuid) why.push(`a pending request from ${r.uuid}, not the stranger who holds the invite`);
  if (JSON.stringify(after.outbox) !== JSON.stringify(before.outbox)) why.push('outbox changed');
  const texts = new Set(['hello from bob', 'x'.repeat(300)]);
  for (const m of after.inbox as { from: string; text: string }[])
    if (!contacts.has(m.from) || !texts.has(m.text))
      why.push(`inbox message not sent by a contact: ${m.text.slice(0, 40)}`);
  if (after.inbox.length > 2) why.push(`${after.inbox.length} inbox messages from 2 real messages`);
  return why;
}
