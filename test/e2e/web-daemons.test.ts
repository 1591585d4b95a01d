// biome-ignore-all lint/performance/useDomNodeTextContent: these are Playwright Locator.innerText() calls: the rendered text is what we assert.
/**
 * The decisive browser test: two real daemons (bin/mesh start as processes) and two browser pages,
 * each logged in to its own daemon's local API. Everything a user does here goes through the pages:
 * invite → add → compare the auth phrase → accept, chat both ways live, the outbox while the friend's
 * node is down and its delivery once it is back, and the status view. Screenshots (real-*.png) go to
 * screenshotDir() (docs/screenshots/ with UPDATE_SCREENSHOTS=1).
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { ensureWebBuilt } from '../helpers/web-build.ts';
import { CHROMIUM, hasChromium, launchChromium, screenshotDir } from './browser.ts';
import { cleanup, initNode, meshJson, type RunningNode, startNode } from './cli-helpers.ts';

// Not 127.0.0.2-5 or .12/.13: cli.test.ts and hostile.test.ts run in parallel with this file and use
// those hosts on the same Mesh port (7575).
const HOST_A = '127.0.0.22';
const HOST_B = '127.0.0.23';
const API_A = 17660;
const API_B = 17661;

/** The login link `mesh start` prints, built from the token file in the data dir. */
function loginUrl(dir: string, apiPort: number): string {
  const token = readFileSync(join(dir, 'api-token'), 'utf8').trim();
  return `http://127.0.0.1:${apiPort}/login?token=${encodeURIComponent(token)}`;
}

describe('web page against two real daemons', { skip: !hasChromium && `${CHROMIUM} is missing` }, () => {
  let a: RunningNode;
  let b: RunningNode;
  let dirA: string;
  let dirB: string;
  let browser: Browser;
  const contexts: BrowserContext[] = [];
  let pageA: Page;
  let pageB: Page;
  /** The phrase B saw when adding A. */
  let addPhrase = '';

  const shots = screenshotDir();
  const shot = (p: Page, name: string) => p.screenshot({ path: join(shots, name), fullPage: false });
  const items = (p: Page) => p.getByTestId('message-item');
  const contact = (p: Page, uuid: string) => p.locator(`[data-testid=contact-item][data-uuid="${uuid}"]`);
  const message = (p: Page, id: string, state?: string) =>
    p.locator(`[data-testid=message-item][data-id="${id}"]${state ? `[data-state=${state}]` : ''}`);

  /** Types `text` in the open chat, sends it, and returns the new message's id once it is on screen. */
  async function send(p: Page, text: string): Promise<string> {
    await p.getByTestId('message-input').fill(text);
    await p.getByTestId('send-button').click();
    const mine = items(p).filter({ hasText: text });
    await mine.waitFor();
    const id = await mine.getAttribute('data-id');
    assert.ok(id, 'the sent message has an id');
    return id;
  }

  async function openPage(url: string): Promise<Page> {
    const ctx = await browser.newContext({ viewport: { width: 1200, height: 780 }, colorScheme: 'light' });
    ctx.setDefaultTimeout(20_000);
    contexts.push(ctx);
    const p = await ctx.newPage();
    await p.goto(url);
    assert.equal(new URL(p.url()).pathname, '/');
    await p.waitForFunction(() => document.querySelector('[data-testid=connection]')?.textContent === 'connected');
    return p;
  }

  before(async () => {
    await ensureWebBuilt();
    const [na, nb] = await Promise.all([initNode('alice'), initNode('bob')]);
    dirA = na.dir;
    dirB = nb.dir;
    [a, b] = await Promise.all([startNode(dirA, HOST_A, API_A), startNode(dirB, HOST_B, API_B)]);
    browser = await launchChromium();
    pageA = await openPage(loginUrl(dirA, API_A));
    pageB = await openPage(loginUrl(dirB, API_B));
  });

  after(async () => {
    for (const c of contexts) await c.close().catch(() => {});
    await browser?.close();
    await cleanup();
  });

  it('invite on A, add on B, both pages show the same 6-word phrase, accept on A', async () => {
    await pageA.getByTestId('nav-invite').click();
    await pageA.getByRole('button', { name: 'Create invite code' }).click();
    const codeBox = pageA.getByTestId('invite-code');
    await codeBox.waitFor();
    const code = (await codeBox.innerText()).trim();
    assert.match(code, /^mesh1-/i);

    await pageB.getByTestId('nav-add').click();
    await pageB.getByLabel('Invite code').fill(code);
    await pageB.getByLabel(/Their name/).fill('Alice');
    await pageB.getByRole('button', { name: 'Add friend' }).click();
    const phraseB = pageB.getByTestId('auth-phrase');
    await phraseB.waitFor();
    addPhrase = (await phraseB.innerText()).trim();
    assert.equal(addPhrase.split(/\s+/).length, 6, `six words: ${addPhrase}`);
    assert.match(await pageB.getByTestId('add-result').innerText(), /by voice or in person/);
    await shot(pageB, 'real-add-phrase.png');

    // A learns of the request live (SSE), without a reload.
    await pageA.getByTestId('requests-badge').waitFor();
    await pageA.getByTestId('nav-requests').click();
    const req = pageA.locator(`[data-testid=request-item][data-uuid="${b.uuid}"]`);
    await req.waitFor();
    assert.equal(await pageA.getByTestId('request-item').count(), 1);
    const phraseA = (await req.getByTestId('request-phrase').innerText()).trim();
    assert.equal(phraseA, addPhrase, 'both sides see the same auth phrase');
    await shot(pageA, 'real-request.png');

    await req.getByTestId('request-accept').click();
    await pageA.getByTestId('requests-empty').waitFor();
    await contact(pageA, b.uuid).waitFor();
  });

  it('chat: A → B and B → A live, the sender sees delivered', async () => {
    // B's pending contact becomes active once A accepted; the page learns it from the event stream.
    await contact(pageB, a.uuid).waitFor();
    await pageB.waitForFunction(
      (uuid) => {
        const el = document.querySelector(`[data-testid=contact-item][data-uuid="${uuid}"]`);
        return el?.getAttribute('data-online') === 'true' && !/waiting for them/.test(el.textContent ?? '');
      },
      a.uuid,
      { timeout: 30_000 },
    );
    await contact(pageA, b.uuid).click();
    await pageA.getByTestId('message-input').waitFor();
    await contact(pageB, a.uuid).click();
    await pageB.getByTestId('message-input').waitFor();

    const hello = 'Hello Bob, this went through two real daemons';
    const idA = await send(pageA, hello);
    await message(pageA, idA, 'delivered').waitFor({ timeout: 20_000 });
    await items(pageB).filter({ hasText: hello }).waitFor({ timeout: 20_000 });
    assert.equal(await items(pageB).filter({ hasText: hello }).getAttribute('data-id'), idA);

    const reply = 'Hi Alice, got it live';
    const idB = await send(pageB, reply);
    await message(pageB, idB, 'delivered').waitFor({ timeout: 20_000 });
    await items(pageA).filter({ hasText: reply }).waitFor({ timeout: 20_000 });
    assert.equal(await items(pageA).filter({ hasText: reply }).getAttribute('data-state'), 'received');
    assert.match(await message(pageA, idA).getByTestId('message-state').innerText(), /delivered/);

    await shot(pageA, 'real-chat-a.png');
    await shot(pageB, 'real-chat-b.png');
  });

  it('B stops: the message waits as queued; B starts again: it turns delivered without a reload', async (t) => {
    await b.stop();
    const text = 'Are you there? (sent while your node was down)';
    const id = await send(pageA, text);
    // queued at once, sent on the first try, back to queued when the connection fails.
    await message(pageA, id, 'queued').waitFor({ timeout: 30_000 });
    const state = await message(pageA, id).getAttribute('data-state');
    assert.ok(state === 'queued' || state === 'sent', `state while B is down: ${state}`);
    assert.equal(await items(pageB).filter({ hasText: text }).count(), 0);
    // B's own page notices that its daemon is gone.
    await pageB.getByTestId('offline-banner').waitFor({ timeout: 30_000 });

    const t0 = Date.now();
    b = await startNode(dirB, HOST_B, API_B);
    await message(pageA, id, 'delivered').waitFor({ timeout: 60_000 });
    const took = Date.now() - t0;
    t.diagnostic(`queued message delivered ${took} ms after B restarted`);
    assert.match(await message(pageA, id).getByTestId('message-state').innerText(), /delivered/);

    // B's page reconnects by itself and shows the message too (its conversation is reloaded).
    await pageB.getByTestId('offline-banner').waitFor({ state: 'detached', timeout: 30_000 });
    await pageB.waitForFunction(
      () => document.querySelector('[data-testid=connection]')?.textContent === 'connected',
      null,
      {
        timeout: 30_000,
      },
    );
    await items(pageB).filter({ hasText: text }).waitFor({ timeout: 30_000 });
  });

  it('the status view on each page shows that daemon’s UUID', async () => {
    const [idA, idB] = await Promise.all([
      meshJson<{ uuid: string }>(dirA, 'id'),
      meshJson<{ uuid: string }>(dirB, 'id'),
    ]);
    assert.equal(idA.uuid, a.uuid);
    assert.equal(idB.uuid, b.uuid);
    for (const [p, uuid] of [
      [pageA, idA.uuid],
      [pageB, idB.uuid],
    ] as const) {
      await p.getByTestId('nav-status').click();
      const el = p.getByTestId('status-uuid');
      await el.waitFor();
      await p.waitForFunction((u) => document.querySelector('[data-testid=status-uuid]')?.textContent === u, uuid);
      assert.equal((await el.innerText()).trim(), uuid);
    }
    await pageA.getByTestId('neighbourhood').waitFor();
    await shot(pageA, 'real-status.png');
  });
});
