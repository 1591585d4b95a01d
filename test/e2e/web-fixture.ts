/**
 * The page's test bed: the REAL local API (src/daemon/local-api.ts) of a real MeshNode ("Me") on a
 * memory store and the memory transport, with real friends around it on the same memory network.
 * Nothing is faked: contacts, referrals, messages and requests come from the protocol itself.
 *
 *   Me ── Alice ── Dave ── Frank       Alice forwards referrals 2 hops (Frank reaches Me at hops 2)
 *    │      └──── Erin ──┐
 *    └─── Bob ───────────┘── Grace
 *   Carol: a pending request to Me.   Dana: has an invite ready for "add a friend".
 *
 * Set-up runs two hours in the past (a shared clock), so after it Bob is "last seen 2 h ago", while
 * Alice writes to Me in the present and is online. Dave, Erin, Frank and Grace each move to a new
 * address, which is what makes their contacts send referrals (PROTOCOL.md §Referrals).
 *
 * For the Vite dev server (`npx vite --config src/web/vite.config.ts` proxies /api to 7576):
 *   node --import tsx test/e2e/web-fixture.ts [--port 7576]
 */
import { randomBytes } from 'node:crypto';
import { pathToFileURL } from 'node:url';
import type { FastifyInstance } from 'fastify';
import { ApiSessions } from '../../src/daemon/api-sessions.ts';
import { createLocalApi } from '../../src/daemon/local-api.ts';
import type { MeshNode } from '../../src/runtime/mesh-node.ts';
import { befriend, MemoryMesh, nextEvent } from '../helpers/memory-mesh.ts';

const HOUR = 3_600_000;

/** A running test bed. */
export interface WebFixture {
  mesh: MemoryMesh;
  me: MeshNode;
  alice: MeshNode;
  bob: MeshNode;
  carol: MeshNode;
  dana: MeshNode;
  /** The phrase Carol saw when she added Me (Me's page must show the same). */
  carolPhrase: string;
  /** Dana's invite code, for the "add a friend" form. */
  danaInvite: string;
  token: string;
  port: number;
  url: string;
  loginUrl: string;
  /** Stops the local API like a crashed daemon (the node keeps running). */
  stopApi(): Promise<void>;
  /** Starts the local API again on the same port. */
  startApi(): Promise<void>;
  /** Number of open event streams (each listens for `relocated` on Me's node; nothing else does). */
  streams(): number;
  close(): Promise<void>;
}

/** Polls until `ok()` holds (the memory network is fast, but delivery is still asynchronous). */
export async function until(ok: () => boolean, what: string, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Builds the network and starts Me's local API on 127.0.0.1 (`port` 0: any free port). */
export async function startWebFixture(init: { token?: string; port?: number } = {}): Promise<WebFixture> {
  const mesh = new MemoryMesh();
  mesh.skewMs = -2 * HOUR;
  const [me, alice, bob, dave, erin, frank, grace] = await Promise.all([
    mesh.node('Me', { address: '203.0.113.7:7575' }),
    // The page lists referrals, which the shipped routing (radius 0 since the contact digests) no
    // longer spreads: Alice, Bob and Dave forward them (radius 2, 1, 2) so the page has some to show.
    mesh.node('Alice', { core: { referralRadius: 2 } }),
    mesh.node('Bob', { core: { referralRadius: 1 } }),
    mesh.node('Dave', { core: { referralRadius: 2 } }),
    mesh.node('Erin'),
    mesh.node('Frank'),
    mesh.node('Grace'),
  ]);
  // Disjoint pairs in parallel; one node's contact flows one after another.
  await Promise.all([befriend(me, alice), befriend(dave, frank), befriend(bob, grace)]);
  await Promise.all([befriend(me, bob), befriend(alice, dave)]);
  await befriend(alice, erin);
  await befriend(bob, erin);

  const hasReferral = (referent: MeshNode, via: MeshNode, hops: number) => () =>
    me.referrals().some((r) => r.referent === referent.uuid && r.via === via.uuid && r.hops === hops);
  await mesh.move(dave, '198.51.100.104:7575');
  await until(hasReferral(dave, alice, 1), 'Dave via Alice');
  await mesh.move(erin, '198.51.100.105:7575');
  await until(() => hasReferral(erin, alice, 1)() && hasReferral(erin, bob, 1)(), 'Erin via Alice and Bob');
  await mesh.move(frank, '198.51.100.106:7575');
  await until(hasReferral(frank, alice, 2), 'Frank via Alice at 2 hops');
  await mesh.move(grace, '198.51.100.107:7575');
  await until(hasReferral(grace, bob, 1), 'Grace via Bob');

  // Two hours later: Alice and Me chat; Bob has been quiet since.
  mesh.skewMs = 0;
  const pause = () => new Promise((r) => setTimeout(r, 5));
  const received = (text: string) => nextEvent<{ text: string }>(me, 'message', (m) => m.text === text);
  let got = received('Hi! Did the new router work?');
  await alice.send(me.uuid, 'Hi! Did the new router work?');
  await got;
  await pause();
  const delivered = nextEvent<{ state: string }>(me, 'message:state', (s) => s.state === 'delivered');
  await me.send(alice.uuid, 'Yes — and Mesh found you again through Bob.');
  await delivered;
  await pause();
  got = received('Nice, no server in the middle!');
  await alice.send(me.uuid, 'Nice, no server in the middle!');
  await got;

  const [carol, dana] = await Promise.all([mesh.node('Carol'), mesh.node('Dana')]);
  const requested = nextEvent(me, 'contact:request');
  const { authPhrase: carolPhrase } = await carol.add((await me.invite()).code, 'Me');
  await requested;
  const { code: danaInvite } = await dana.invite();

  const token = init.token ?? randomBytes(16).toString('hex');
  let api: FastifyInstance | null = null;
  let port = init.port ?? 0;
  // One session table for every start of the API, as a real daemon keeps it in its data dir: the
  // page's login survives a restart.
  const sessions = new ApiSessions();
  const startApi = async () => {
    const app = await createLocalApi({ node: me, token, sessions });
    await app.listen({ host: '127.0.0.1', port });
    port = (app.server.address() as { port: number }).port;
    api = app;
  };
  const stopApi = async () => {
    const app = api;
    api = null;
    if (!app) return;
    // Like a crash: drop the page's keep-alive connections too, so it notices at once.
    app.server.closeAllConnections();
    await app.close();
  };
  await startApi();
  const url = `http://127.0.0.1:${port}`;
  return {
    mesh,
    me,
    alice,
    bob,
    carol,
    dana,
    carolPhrase,
    danaInvite,
    token,
    port,
    url,
    loginUrl: `${url}/login?token=${token}`,
    stopApi,
    startApi,
    streams: () => me.listenerCount('relocated'),
    async close() {
      await stopApi();
      await mesh.stop();
    },
  };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const i = process.argv.indexOf('--port');
  const fx = await startWebFixture({ port: i > 0 ? Number(process.argv[i + 1]) : 7576 });
  console.log(`Mesh local API (real MeshNode "Me" on a memory network) on ${fx.url}\nOpen ${fx.loginUrl}`);
  const stop = () => void fx.close().then(() => process.exit(0));
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}
