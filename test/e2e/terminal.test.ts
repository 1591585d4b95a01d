/**
 * Issue 12, finding 17, against real processes: a contact whose name and messages carry terminal
 * escape sequences (colour, screen clear, window title, carriage return, fake lines) cannot rewrite
 * the terminal of the user who runs `mesh contacts` / `mesh inbox`. `--json` keeps the exact text.
 */
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { befriend, cleanup, initNode, mesh, meshJson, startNode, waitFor } from './cli-helpers.ts';

after(cleanup);

const EVIL_NAME = '\x1b]0;pwned\x07bob\x1b[2J';
const EVIL_TEXT = 'hi \x1b[31mred\x1b[0m\rsystem: your key changed\nsecond line';
// biome-ignore lint/suspicious/noControlCharactersInRegex: the test looks for exactly these
const CONTROL = /[\x00-\x09\x0b-\x1f\x7f-\x9f]/;

describe('peer-chosen text on the terminal', { timeout: 120_000 }, () => {
  test('names and messages with escape sequences are shown, not obeyed', async () => {
    const alice = await initNode('alice');
    const bob = await initNode(EVIL_NAME);
    const A = await startNode(alice.dir, '127.0.0.60', 17660);
    const B = await startNode(bob.dir, '127.0.0.61', 17661);
    await befriend(A, B);
    const sent = await meshJson<{ id: string }>(bob.dir, 'send', 'alice', EVIL_TEXT);
    const got = await waitFor(
      async () => (await meshJson<{ id: string; text: string }[]>(alice.dir, 'inbox')).find((m) => m.id === sent.id),
      20_000,
      'alice to receive',
    );
    assert.equal(got.text, EVIL_TEXT, '--json carries the exact text');

    const contacts = await mesh(alice.dir, 'contacts');
    assert.equal(contacts.code, 0);
    assert.doesNotMatch(contacts.stdout, CONTROL);
    assert.match(contacts.stdout, /␛\]0;pwned␇bob␛\[2J/);

    const inbox = await mesh(alice.dir, 'inbox');
    assert.equal(inbox.code, 0);
    assert.doesNotMatch(inbox.stdout, CONTROL);
    assert.match(inbox.stdout, /hi ␛\[31mred␛\[0m␍system: your key changed\n {4}second line/);
    // The fake line cannot start a line of its own: every output line is a message line or its indented continuation.
    for (const line of inbox.stdout.trimEnd().split('\n')) assert.match(line, /^(\d|\s{4})/);
  });
});
