/**
 * End-to-end: a peer with a domain (`--public --accept-all --domain localhost` with a certificate
 * from a local test CA) accepts first contact from strangers (`--bootstrap`), and carries a contact
 * request between two nodes that share no other contact (addcontact chart: "all fail → send contact
 * request … to peers with domain").
 */
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { cleanup, initNode, localhostPki, meshJson, startNodeWithEnv, waitFor } from './cli-helpers.ts';

type Contact = { uuid: string; name: string; address: string | null; status: string; domain?: string | null };

after(cleanup);

describe('peer with a domain', { timeout: 300_000 }, () => {
  test('--bootstrap adds the public peer; a UUID-only invite travels through it', async () => {
    const { files, env } = await localhostPki();

    const p = await initNode('peer');
    const r = await initNode('rita');
    const i = await initNode('ivan');
    // "localhost" resolves to 127.0.0.1: the public peer listens there.
    const P = await startNodeWithEnv(
      env,
      p.dir,
      '127.0.0.1',
      17680,
      '--public',
      '--accept-all',
      '--domain',
      'localhost',
      '--tls-cert',
      files.cert,
      '--tls-key',
      files.key,
    );
    const R = await startNodeWithEnv(env, r.dir, '127.0.0.32', 17681, '--bootstrap', 'https://localhost:7575');
    const I = await startNodeWithEnv(env, i.dir, '127.0.0.33', 17682, '--bootstrap', 'https://localhost:7575');

    try {
      for (const n of [R, I]) {
        const peer = await waitFor(
          async () =>
            (await meshJson<Contact[]>(n.dir, 'contacts')).find((c) => c.uuid === P.uuid && c.status === 'active'),
          20_000,
          'bootstrap',
        );
        assert.equal(peer.address, 'localhost:7575');
      }
      const atPeer = await meshJson<Contact[]>(p.dir, 'contacts');
      assert.deepEqual(atPeer.map((c) => c.uuid).sort(), [R.uuid, I.uuid].sort());

      // Rita and Ivan share no contact but the public peer; the invite carries no address.
      const inv = await meshJson<{ code: string }>(i.dir, 'invite', '--no-address');
      const add = await meshJson<{ uuid: string; authPhrase: string }>(r.dir, 'add', inv.code);
      assert.equal(add.uuid, I.uuid);
      const reqs = await meshJson<{ uuid: string; authPhrase: string }[]>(i.dir, 'requests');
      assert.equal(reqs[0]?.uuid, R.uuid);
      assert.equal(reqs[0].authPhrase, add.authPhrase);
      await meshJson(i.dir, 'accept', R.uuid);
      const m = await meshJson<{ id: string }>(r.dir, 'send', 'ivan', 'met through the public peer');
      await waitFor(
        async () => (await meshJson<{ id: string }[]>(i.dir, 'inbox')).some((x) => x.id === m.id),
        20_000,
        'delivery',
      );
    } finally {
      for (const n of [P, R, I]) await n.stop();
    }
  });

  test('a node that does not trust the CA refuses the peer', async () => {
    // A CA nobody is told to trust: the nodes start without its env.
    const { files } = await localhostPki();
    const p = await initNode('peer');
    const n = await initNode('nina');
    const P = await startNodeWithEnv(
      {},
      p.dir,
      '127.0.0.1',
      17683,
      '--public',
      '--accept-all',
      '--domain',
      'localhost',
      '--tls-cert',
      files.cert,
      '--tls-key',
      files.key,
    );
    const N = await startNodeWithEnv({}, n.dir, '127.0.0.34', 17684, '--bootstrap', 'https://localhost:7575');
    try {
      // Wait for the refusal itself (the daemon logs it at warn) rather than for a fixed time.
      await waitFor(async () => N.log.join('').includes('bootstrap failed'), 20_000, 'the bootstrap to fail');
      assert.deepEqual(await meshJson<Contact[]>(n.dir, 'contacts'), []);
      assert.deepEqual(await meshJson<Contact[]>(p.dir, 'contacts'), []);
    } finally {
      await P.stop();
      await N.stop();
    }
  });
});
