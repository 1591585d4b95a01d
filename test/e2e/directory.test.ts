/**
 * End-to-end (issue 11 item 3): the domain-peer directory between real daemons over HTTPS. Rita and
 * Ivan share no friend, only the peer with a domain they bootstrapped to. Ivan moves to another IP
 * while Rita is down; when she writes to him, no friend can help, and she finds his sealed record at
 * the peer under its blinded key (the peer relays no IP message, so it never sees whom she seeks).
 */
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { cleanup, initNode, localhostPki, meshJson, startNodeWithEnv, waitFor } from './cli-helpers.ts';

type Contact = { uuid: string; name: string; address: string | null; status: string };

after(cleanup);

describe('domain-peer directory', { timeout: 300_000 }, () => {
  test('a moved contact is found through its sealed record at the peer with a domain', async () => {
    const { files, env } = await localhostPki();
    const publicArgs = [
      '--public',
      '--accept-all',
      '--domain',
      'localhost',
      '--tls-cert',
      files.cert,
      '--tls-key',
      files.key,
    ];

    const p = await initNode('peer');
    const r = await initNode('rita');
    const i = await initNode('ivan');
    const P = await startNodeWithEnv(env, p.dir, '127.0.0.1', 17690, ...publicArgs);
    let R = await startNodeWithEnv(env, r.dir, '127.0.0.42', 17691, '--bootstrap', 'https://localhost:7575');
    let I = await startNodeWithEnv(env, i.dir, '127.0.0.43', 17692, '--bootstrap', 'https://localhost:7575');
    try {
      for (const n of [R, I])
        await waitFor(
          async () =>
            (await meshJson<Contact[]>(n.dir, 'contacts')).some((c) => c.uuid === P.uuid && c.status === 'active'),
          20_000,
          'bootstrap',
        );
      // Rita adds Ivan through the peer (UUID-only invite); Ivan accepts, and his "send connect"
      // carries his contact digest to Rita (the secret his directory key is derived from).
      const inv = await meshJson<{ code: string }>(i.dir, 'invite', '--no-address');
      await meshJson(r.dir, 'add', inv.code);
      await meshJson(i.dir, 'accept', R.uuid);
      await waitFor(
        async () =>
          (await meshJson<Contact[]>(r.dir, 'contacts')).some((c) => c.uuid === I.uuid && c.status === 'active'),
        20_000,
        'Ivan active at Rita',
      );

      // Rita goes down; Ivan moves to 127.0.0.44 (his start publishes his record at the peer).
      await R.stop();
      await I.stop();
      I = await startNodeWithEnv(env, i.dir, '127.0.0.44', 17692);
      R = await startNodeWithEnv(env, r.dir, '127.0.0.42', 17691);
      const atRita = (await meshJson<Contact[]>(r.dir, 'contacts')).find((c) => c.uuid === I.uuid);
      assert.equal(atRita?.address, '127.0.0.43:7575', 'Rita still holds the old address');

      const m = await meshJson<{ id: string }>(r.dir, 'send', 'ivan', 'found you through the directory?');
      await waitFor(
        async () => (await meshJson<{ id: string }[]>(i.dir, 'inbox')).some((x) => x.id === m.id),
        30_000,
        'delivery',
      );
      const after = (await meshJson<Contact[]>(r.dir, 'contacts')).find((c) => c.uuid === I.uuid);
      assert.equal(after?.address, '127.0.0.44:7575');
      // Rita's only other contact is the peer: no friend could have told her (the scenario test
      // h. in test/integration/scenarios.test.ts counts that the peer carries no IP message).
      const ritas = await meshJson<Contact[]>(r.dir, 'contacts');
      assert.deepEqual(ritas.map((c) => c.uuid).sort(), [P.uuid, I.uuid].sort());
    } finally {
      for (const n of [P, R, I]) await n.stop();
    }
  });
});
