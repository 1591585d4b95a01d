// biome-ignore-all lint/performance/useDomNodeTextContent: these are Playwright Locator.innerText() calls: the rendered text is what we assert.
/**
 * The web chat page in a real browser (Debian's chromium via playwright-core) against the in-memory
 * fake API (src/web/dev/fake-api.ts). Saves a screenshot of each view to docs/screenshots/.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { type FakeApi, FIXTURE, startFakeApi } from '../../src/web/dev/fake-api.ts';
import { buildWeb, webRoot } from '../../src/web/serve.ts';
import { CHROMIUM, hasChromium, launchChromium } from './browser.ts';

const SHOTS = fileURLToPath(new URL('../../docs/screenshots/', import.meta.url));
const TOKEN = 'test-token-0123456789abcdef';

describe('web page against the fake API', { skip: !hasChromium && `${CHROMIUM} is missing` }, () => {
  let fake: FakeApi;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;

  const shot = (p: Page, name: string) => p.screenshot({ path: join(SHOTS, name), fullPage: false });
  const items = (p: Page) => p.getByTestId('message-item');

  before(async () => {
    if (!existsSync(join(webRoot(), 'index.html'))) await buildWeb();
    mkdirSync(SHOTS, { recursive: true });
    fake = await startFakeApi({ token: TOKEN, addDelayMs: 700, statusEveryMs: 1000 });
    browser = await launchChromium();
    context = await browser.newContext({ viewport: { width: 1200, height: 780 }, colorScheme: 'light' });
    context.setDefaultTimeout(10_000);
    page = await context.newPage();
  });

  after(async () => {
    await browser?.close();
    await fake?.close();
  });

  it('without the token the API says 401 and the page says to open the printed link', async () => {
    const res = await fetch(`${fake.url}/api/status`);
    assert.equal(res.status, 401);
    assert.equal(((await res.json()) as { error: string }).error, 'UNAUTHORIZED');
    assert.equal((await fetch(`${fake.url}/login?token=wrong`, { redirect: 'manual' })).status, 401);

    const anon = await browser.newContext();
    try {
      const p = await anon.newPage();
      await p.goto(fake.url);
      const box = p.getByTestId('login-needed');
      await box.waitFor();
      assert.match(await box.innerText(), /Open the link that mesh start printed/);
      assert.equal(await p.getByTestId('contact-item').count(), 0);
    } finally {
      await anon.close();
    }
  });

  it('the login link sets the cookie, redirects to / and shows the contacts', async () => {
    await page.goto(fake.loginUrl);
    assert.equal(new URL(page.url()).pathname, '/');
    const cookies = await context.cookies();
    const c = cookies.find((x) => x.name === 'mesh_token');
    assert.ok(c?.httpOnly, 'mesh_token cookie is HttpOnly');
    await page.getByTestId('contact-item').nth(1).waitFor();
    const contacts = page.getByTestId('contact-item');
    assert.equal(await contacts.count(), 2);
    // Online first, with presence in words.
    assert.equal(await contacts.nth(0).getAttribute('data-uuid'), FIXTURE.alice);
    assert.equal(await contacts.nth(0).getAttribute('data-online'), 'true');
    assert.match(await contacts.nth(1).innerText(), /Bob[\s\S]*last seen 2 h ago/);
    await page.waitForFunction(() => document.querySelector('[data-testid=connection]')?.textContent === 'connected');
  });

  it('status panel shows the UUID and the neighbourhood draws every node once', async () => {
    await page.getByRole('link', { name: /Node status/ }).click();
    assert.equal(await page.getByTestId('status-uuid').innerText(), FIXTURE.self);
    assert.match(await page.getByTestId('status-contacts').innerText(), /1 of 2/);
    assert.match(await page.getByTestId('status-observed').innerText(), /203\.0\.113\.7:7575/);
    const nodes = page.getByTestId('neighbourhood').getByTestId('neigh-node');
    await page.waitForFunction(
      (n) => document.querySelectorAll('[data-testid=neigh-node]').length === n,
      FIXTURE.neighbourhoodNodes,
    );
    assert.equal(await nodes.count(), FIXTURE.neighbourhoodNodes);
    assert.equal(await page.locator('[data-testid=neigh-node][data-kind=self]').count(), 1);
    assert.equal(await page.locator('[data-testid=neigh-node][data-kind=contact]').count(), 2);
    // frank is 2 hops from alice, so 3 from us; the others 2.
    assert.deepEqual(
      (
        await page
          .locator('[data-testid=neigh-node][data-kind=referral]')
          .evaluateAll((els) => els.map((e) => e.getAttribute('data-hops')))
      ).sort(),
      ['2', '2', '2', '3'],
    );
    await shot(page, 'status-neighbourhood.png');
  });

  it('chat: history, send shows queued, SSE flips it to delivered, incoming messages appear live', async () => {
    await page.getByTestId('contact-item').filter({ hasText: 'Alice' }).click();
    await items(page).nth(2).waitFor();
    assert.equal(await items(page).count(), 3);

    const box = page.getByRole('textbox', { name: 'Message to Alice' });
    await box.fill('Lunch tomorrow?');
    await page.getByRole('button', { name: 'Send' }).click();
    const mine = items(page).filter({ hasText: 'Lunch tomorrow?' });
    await mine.waitFor();
    assert.equal(await mine.getAttribute('data-state'), 'queued');
    assert.match(await mine.innerText(), /queued/);
    const sent = fake.messages.at(-1)!;
    assert.equal(sent.text, 'Lunch tomorrow?');
    assert.deepEqual(fake.posts.at(-1), { path: '/api/send', body: { to: FIXTURE.alice, text: 'Lunch tomorrow?' } });

    fake.push('message:state', { id: sent.id, to: FIXTURE.alice, state: 'sent' });
    await page.locator(`[data-testid=message-item][data-id="${sent.id}"][data-state=sent]`).waitFor();
    fake.push('message:state', { id: sent.id, to: FIXTURE.alice, state: 'delivered' });
    await page.locator(`[data-testid=message-item][data-id="${sent.id}"][data-state=delivered]`).waitFor();

    const now = Date.now();
    fake.push('message', {
      id: 'in-1',
      from: FIXTURE.alice,
      to: FIXTURE.self,
      text: 'Sure, 12:30 at the usual place',
      sentAt: now,
      receivedAt: now,
      state: 'received',
      direction: 'in',
    });
    await items(page).filter({ hasText: '12:30 at the usual place' }).waitFor();
    assert.equal(await page.getByTestId('message-list').getAttribute('aria-live'), 'polite');

    // A message for another chat raises its unread badge and is announced.
    fake.push('message', {
      id: 'in-2',
      from: FIXTURE.bob,
      to: FIXTURE.self,
      text: 'Back online!',
      sentAt: now,
      receivedAt: now,
      state: 'received',
      direction: 'in',
    });
    await page.getByTestId('contact-item').filter({ hasText: 'Bob' }).getByTestId('unread-badge').waitFor();
    assert.match(await page.getByTestId('announcer').innerText(), /New message from Bob: Back online!/);
    // Presence updates live too.
    fake.push('contact:offline', { uuid: FIXTURE.alice });
    await page.locator(`[data-testid=contact-item][data-uuid="${FIXTURE.alice}"][data-online=false]`).waitFor();
    fake.push('contact:online', { uuid: FIXTURE.alice, address: '127.0.0.9:7575' });
    await page.locator(`[data-testid=contact-item][data-uuid="${FIXTURE.alice}"][data-online=true]`).waitFor();
    assert.match(await page.getByTestId('chat-presence').innerText(), /127\.0\.0\.9:7575/);
    await shot(page, 'contacts-chat.png');
  });

  it('keyboard: Tab reaches the message box and Enter sends', async () => {
    await page.goto(`${fake.url}/#/chat/${FIXTURE.alice}`);
    await items(page).first().waitFor();
    await page.evaluate(() => (document.activeElement as HTMLElement | null)?.blur());
    let reached = false;
    for (let i = 0; i < 40 && !reached; i++) {
      await page.keyboard.press('Tab');
      reached = await page.evaluate(() => document.activeElement?.getAttribute('data-testid') === 'message-input');
    }
    assert.ok(reached, 'the message box is reachable with Tab');
    await page.keyboard.type('typed with the keyboard');
    await page.keyboard.press('Enter');
    await items(page).filter({ hasText: 'typed with the keyboard' }).waitFor();
    assert.equal(await page.getByTestId('message-input').inputValue(), '');
  });

  it('invite shows a code and a QR image', async () => {
    await page.getByRole('link', { name: /Invite a friend/ }).click();
    await page.getByLabel('Valid for').selectOption('1h');
    await page.getByRole('button', { name: 'Create invite code' }).click();
    const code = page.getByTestId('invite-code');
    await code.waitFor();
    assert.match(await code.innerText(), /^mesh1-/);
    assert.deepEqual(fake.posts.at(-1), { path: '/api/invite', body: { ttl: '1h', noAddress: false } });
    const qr = page.getByRole('img', { name: /QR code/ });
    assert.match((await qr.getAttribute('src')) ?? '', /^data:image\/svg\+xml/);
    await page.waitForFunction(() => {
      const img = document.querySelector<HTMLImageElement>('[data-testid=invite-qr]');
      return !!img && img.complete && img.naturalWidth > 0;
    });
    await shot(page, 'invite.png');
  });

  it('add a friend: a wrong code is explained, a good one shows progress and then the auth phrase', async () => {
    await page.getByRole('link', { name: /Add a friend/ }).click();
    await page.getByLabel('Invite code').fill('hello');
    await page.getByRole('button', { name: 'Add friend' }).click();
    await page.getByTestId('add-progress').waitFor();
    const err = page.getByTestId('add-error');
    await err.waitFor();
    assert.match(await err.innerText(), /not a Mesh invite code/);

    await page.getByLabel('Invite code').fill('mesh1-abcdefghijklmnop');
    await page.getByLabel(/Their name/).fill('Dana');
    await page.getByRole('button', { name: 'Add friend' }).click();
    await page.getByTestId('add-progress').waitFor();
    const phrase = page.getByTestId('auth-phrase');
    await phrase.waitFor();
    assert.equal((await phrase.innerText()).trim().split(/\s+/).length, 6);
    assert.match(await page.getByTestId('add-result').innerText(), /by voice or in person/);
    // The new contact shows up as pending.
    await page.getByTestId('contact-item').filter({ hasText: 'Dana' }).waitFor();
    assert.match(
      await page.getByTestId('contact-item').filter({ hasText: 'Dana' }).innerText(),
      /waiting for them to accept/,
    );
    await shot(page, 'add-friend-phrase.png');
  });

  it('requests: shows the phrase, accept makes a contact, live requests arrive', async () => {
    await page.getByRole('link', { name: /Requests/ }).click();
    const req = page.getByTestId('request-item');
    await req.first().waitFor();
    assert.equal(await req.count(), 1);
    assert.equal(await req.getByTestId('request-phrase').innerText(), FIXTURE.carolPhrase);
    await shot(page, 'requests.png');

    await page.getByRole('button', { name: 'Accept Carol' }).click();
    await page.getByTestId('requests-empty').waitFor();
    await page.getByTestId('contact-item').filter({ hasText: 'Carol' }).waitFor();
    assert.deepEqual(fake.posts.at(-1), { path: '/api/accept', body: { uuid: FIXTURE.carol } });

    const grace = { uuid: FIXTURE.grace, name: 'Grace', authPhrase: 'one two three four five', receivedAt: Date.now() };
    fake.requests.push(grace);
    fake.push('contact:request', grace);
    await req.first().waitFor();
    assert.equal(await page.getByTestId('requests-badge').textContent(), '1 waiting');
    await page.getByRole('button', { name: 'Reject Grace' }).click();
    await page.getByTestId('requests-empty').waitFor();
    assert.deepEqual(fake.posts.at(-1), { path: '/api/reject', body: { uuid: FIXTURE.grace } });
  });

  it('phone-sized window (375×740) has no horizontal scroll in any view', async () => {
    const phone = await browser.newContext({ viewport: { width: 375, height: 740 }, colorScheme: 'light' });
    phone.setDefaultTimeout(10_000);
    try {
      const p = await phone.newPage();
      await p.goto(fake.loginUrl);
      await p.getByTestId('contact-item').first().waitFor();
      const noHScroll = async (where: string) => {
        const { sw, cw } = await p.evaluate(() => ({
          sw: document.documentElement.scrollWidth,
          cw: document.documentElement.clientWidth,
        }));
        assert.ok(sw <= cw, `${where}: scrollWidth ${sw} > ${cw}`);
      };
      await noHScroll('contacts');
      await shot(p, 'phone-contacts.png');
      await p.getByTestId('contact-item').filter({ hasText: 'Alice' }).click();
      await items(p).first().waitFor();
      await noHScroll('chat');
      await shot(p, 'phone-chat.png');
      await p.getByRole('link', { name: 'Back to contacts' }).click();
      await p.getByRole('link', { name: /Invite a friend/ }).click();
      await p.getByRole('button', { name: 'Create invite code' }).click();
      await p.getByTestId('invite-code').waitFor();
      await noHScroll('invite');
      await p.goto(`${fake.url}/#/status`);
      await p.getByTestId('status-uuid').waitFor();
      await noHScroll('status');
      await shot(p, 'phone-status.png');
    } finally {
      await phone.close();
    }
  });

  it('when the daemon goes away the page says so, and reconnects when it is back', async () => {
    await page.goto(`${fake.url}/#/chat/${FIXTURE.alice}`);
    await items(page).first().waitFor();
    await page.waitForFunction(() => document.querySelector('[data-testid=connection]')?.textContent === 'connected');
    const port = fake.port;
    await fake.close();
    const banner = page.getByTestId('offline-banner');
    await banner.waitFor();
    assert.match(await banner.innerText(), /Mesh daemon not reachable — reconnecting…/);
    // Nothing breaks: the conversation stays on screen, and a send says in words why it failed.
    assert.ok((await items(page).count()) >= 3);
    await page.getByTestId('message-input').fill('are you there?');
    await page.getByTestId('send-button').click();
    await page.getByTestId('send-error').waitFor();
    assert.match(await page.getByTestId('send-error').innerText(), /not reachable/);
    await shot(page, 'offline.png');

    fake = await startFakeApi({ port, token: TOKEN, statusEveryMs: 1000 });
    await banner.waitFor({ state: 'detached', timeout: 20_000 });
    await page.waitForFunction(() => document.querySelector('[data-testid=connection]')?.textContent === 'connected');
    // The event stream is open again: a live message arrives.
    for (let i = 0; i < 50 && fake.streams() === 0; i++) await new Promise((r) => setTimeout(r, 100));
    const now = Date.now();
    fake.push('message', {
      id: 'after-restart',
      from: FIXTURE.alice,
      to: FIXTURE.self,
      text: 'I am back',
      sentAt: now,
      receivedAt: now,
      state: 'received',
      direction: 'in',
    });
    await items(page).filter({ hasText: 'I am back' }).waitFor();
  });
});
