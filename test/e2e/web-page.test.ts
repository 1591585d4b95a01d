// biome-ignore-all lint/performance/useDomNodeTextContent: these are Playwright Locator.innerText() calls: the rendered text is what we assert.
/**
 * The web chat page in a real browser (Debian's chromium via playwright-core) against the REAL local
 * API of a real MeshNode, with real friends on a memory network around it (./web-fixture.ts).
 * Saves a screenshot of each view to screenshotDir() (docs/screenshots/ with UPDATE_SCREENSHOTS=1).
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { API_ROUTES, cookieName } from '../../src/api/contract.ts';
import { ensureWebBuilt } from '../helpers/web-build.ts';
import { CHROMIUM, hasChromium, launchChromium, screenshotDir } from './browser.ts';
import { startWebFixture, until, type WebFixture } from './web-fixture.ts';

const TOKEN = 'test-token-0123456789abcdef';

describe('web page against the real local API', { skip: !hasChromium && `${CHROMIUM} is missing` }, () => {
  let fx: WebFixture;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;

  const shots = screenshotDir();
  const shot = (p: Page, name: string) => p.screenshot({ path: join(shots, name), fullPage: false });
  const items = (p: Page) => p.getByTestId('message-item');
  const contactItem = (p: Page, uuid: string, online?: boolean) =>
    p.locator(
      `[data-testid=contact-item][data-uuid="${uuid}"]${online === undefined ? '' : `[data-online=${online}]`}`,
    );
  /** The JSON body of the page's next call to a contract route. */
  const nextPost = (p: Page, route: keyof typeof API_ROUTES) =>
    p.waitForRequest((r) => r.method() === 'POST' && new URL(r.url()).pathname === API_ROUTES[route].path);
  /** Slows a route down in the browser (a slow friend's node), so the page's progress state is visible. */
  const slow = (p: Page, route: keyof typeof API_ROUTES, ms: number) =>
    p.route(`**${API_ROUTES[route].path}`, async (r) => {
      await new Promise((res) => setTimeout(res, ms));
      await r.continue();
    });

  before(async () => {
    await ensureWebBuilt();
    fx = await startWebFixture({ token: TOKEN });
    browser = await launchChromium();
    context = await browser.newContext({ viewport: { width: 1200, height: 780 }, colorScheme: 'light' });
    context.setDefaultTimeout(10_000);
    page = await context.newPage();
  });

  after(async () => {
    await browser?.close();
    await fx?.close();
  });

  it('without the token the API says 401 and the page says to open the printed link', async () => {
    const res = await fetch(`${fx.url}/api/status`);
    assert.equal(res.status, 401);
    assert.equal(((await res.json()) as { error: string }).error, 'UNAUTHORIZED');
    assert.equal((await fetch(`${fx.url}/login?token=wrong`, { redirect: 'manual' })).status, 401);

    const anon = await browser.newContext();
    try {
      const p = await anon.newPage();
      await p.goto(fx.url);
      const box = p.getByTestId('login-needed');
      await box.waitFor();
      assert.match(await box.innerText(), /Open the link that mesh start printed/);
      assert.equal(await p.getByTestId('contact-item').count(), 0);
    } finally {
      await anon.close();
    }
  });

  it('the login link sets the cookie, redirects to / and shows the contacts', async () => {
    await page.goto(fx.loginUrl);
    assert.equal(new URL(page.url()).pathname, '/');
    const cookies = await context.cookies();
    const c = cookies.find((x) => x.name === cookieName(fx.port));
    assert.ok(c?.httpOnly, `${cookieName(fx.port)} cookie is HttpOnly`);
    assert.notEqual(c.value, fx.token, 'the cookie holds a session id, not the token');
    assert.ok(!page.url().includes(fx.token), 'the token does not stay in the address bar');
    await page.getByTestId('contact-item').nth(1).waitFor();
    const contacts = page.getByTestId('contact-item');
    assert.equal(await contacts.count(), 2);
    // Online first, with presence in words.
    assert.equal(await contacts.nth(0).getAttribute('data-uuid'), fx.alice.uuid);
    assert.equal(await contacts.nth(0).getAttribute('data-online'), 'true');
    assert.match(await contacts.nth(1).innerText(), /Bob[\s\S]*last seen 2 h ago/);
    await page.waitForFunction(() => document.querySelector('[data-testid=connection]')?.textContent === 'connected');
  });

  it('status panel shows the UUID and the neighbourhood draws every node once', async () => {
    await page.getByRole('link', { name: /Node status/ }).click();
    assert.equal(await page.getByTestId('status-uuid').innerText(), fx.me.uuid);
    assert.match(await page.getByTestId('status-contacts').innerText(), /1 of 2/);
    assert.match(await page.getByTestId('status-observed').innerText(), /203\.0\.113\.7:7575/);
    // Self, the contacts Alice and Bob, and Dave, Erin, Frank, Grace known by referral (Erin twice,
    // through Alice and through Bob: drawn once).
    const nodes = page.getByTestId('neighbourhood').getByTestId('neigh-node');
    await page.waitForFunction((n) => document.querySelectorAll('[data-testid=neigh-node]').length === n, 7);
    assert.equal(await nodes.count(), 7);
    assert.equal(await page.locator('[data-testid=neigh-node][data-kind=self]').count(), 1);
    assert.equal(await page.locator('[data-testid=neigh-node][data-kind=contact]').count(), 2);
    // Frank is 2 hops from Alice, so 3 from us; the others 1 from a contact, so 2.
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

  it('chat: history, send shows queued, delivered once the friend is back, incoming messages appear live', async () => {
    const { alice, bob, mesh } = fx;
    await contactItem(page, alice.uuid).click();
    await items(page).nth(2).waitFor();
    assert.equal(await items(page).count(), 3);

    // Alice's node drops off the network: the message waits in the outbox as queued.
    const aliceAt = alice.addresses().listen[0];
    mesh.net.setOnline(aliceAt, false);
    const box = page.getByRole('textbox', { name: 'Message to Alice' });
    await box.fill('Lunch tomorrow?');
    const post = nextPost(page, 'send');
    await page.getByRole('button', { name: 'Send' }).click();
    assert.deepEqual((await post).postDataJSON(), { to: alice.uuid, text: 'Lunch tomorrow?' });
    const mine = items(page).filter({ hasText: 'Lunch tomorrow?' });
    await mine.waitFor();
    const id = await mine.getAttribute('data-id');
    await page.locator(`[data-testid=message-item][data-id="${id}"][data-state=queued]`).waitFor();
    assert.match(await mine.innerText(), /queued/);
    // Presence updates live: the failed attempt marks her offline.
    await contactItem(page, alice.uuid, false).waitFor();

    // She comes back at a new address and announces herself: online there, and the message goes out.
    mesh.net.move(aliceAt, '198.51.100.99:7575');
    mesh.net.setOnline('198.51.100.99:7575', true);
    await alice.command({ kind: 'address', addresses: ['198.51.100.99:7575'] });
    await contactItem(page, alice.uuid, true).waitFor();
    await page.locator(`[data-testid=message-item][data-id="${id}"][data-state=delivered]`).waitFor();
    assert.match(await page.getByTestId('chat-presence').innerText(), /198\.51\.100\.99:7575/);
    assert.ok(
      alice.inbox().some((m) => m.id === id && m.text === 'Lunch tomorrow?'),
      'Alice’s node received it',
    );

    await alice.send(fx.me.uuid, 'Sure, 12:30 at the usual place');
    await items(page).filter({ hasText: '12:30 at the usual place' }).waitFor();
    assert.equal(await page.getByTestId('message-list').getAttribute('aria-live'), 'polite');

    // A message for another chat raises its unread badge and is announced.
    await bob.send(fx.me.uuid, 'Back online!');
    await contactItem(page, bob.uuid).getByTestId('unread-badge').waitFor();
    assert.match(await page.getByTestId('announcer').innerText(), /New message from Bob: Back online!/);
    await shot(page, 'contacts-chat.png');
  });

  it('keyboard: Tab reaches the message box and Enter sends', async () => {
    await page.goto(`${fx.url}/#/chat/${fx.alice.uuid}`);
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
    const post = nextPost(page, 'invite');
    await page.getByRole('button', { name: 'Create invite code' }).click();
    const sent = await post;
    assert.deepEqual(sent.postDataJSON(), { ttl: '1h', noAddress: false });
    const { expiresAt } = (await (await sent.response())!.json()) as { expiresAt: number };
    assert.ok(Math.abs(expiresAt - Date.now() - 3_600_000) < 60_000, 'the daemon made it valid for 1 h');
    const code = page.getByTestId('invite-code');
    await code.waitFor();
    assert.match(await code.innerText(), /^mesh1-/);
    const qr = page.getByRole('img', { name: /QR code/ });
    assert.match((await qr.getAttribute('src')) ?? '', /^data:image\/svg\+xml/);
    await page.waitForFunction(() => {
      const img = document.querySelector<HTMLImageElement>('[data-testid=invite-qr]');
      return !!img && img.complete && img.naturalWidth > 0;
    });
    await shot(page, 'invite.png');
  });

  it('add a friend: a wrong code is explained, a good one shows progress and then the auth phrase', async () => {
    await slow(page, 'add', 600);
    await page.getByRole('link', { name: /Add a friend/ }).click();
    await page.getByLabel('Invite code').fill('hello');
    await page.getByRole('button', { name: 'Add friend' }).click();
    await page.getByTestId('add-progress').waitFor();
    const err = page.getByTestId('add-error');
    await err.waitFor();
    assert.match(await err.innerText(), /invite code is not valid/);

    await page.getByLabel('Invite code').fill(fx.danaInvite);
    await page.getByLabel(/Their name/).fill('Dana');
    await page.getByRole('button', { name: 'Add friend' }).click();
    await page.getByTestId('add-progress').waitFor();
    const phrase = page.getByTestId('auth-phrase');
    await phrase.waitFor();
    const words = (await phrase.innerText()).trim().split(/\s+/);
    assert.equal(words.length, 6);
    assert.match(await page.getByTestId('add-result').innerText(), /by voice or in person/);
    // Dana's node holds the request with the very same phrase.
    await until(() => fx.dana.requests().length === 1, 'the request at Dana');
    assert.equal(fx.dana.requests()[0].authPhrase, words.join(' '));
    // The new contact shows up as pending.
    await page.getByTestId('contact-item').filter({ hasText: 'Dana' }).waitFor();
    assert.match(
      await page.getByTestId('contact-item').filter({ hasText: 'Dana' }).innerText(),
      /waiting for them to accept/,
    );
    await page.unroute(`**${API_ROUTES.add.path}`);
    await shot(page, 'add-friend-phrase.png');
  });

  it('requests: shows the phrase, accept makes a contact, live requests arrive', async () => {
    await page.getByRole('link', { name: /Requests/ }).click();
    const req = page.getByTestId('request-item');
    await req.first().waitFor();
    assert.equal(await req.count(), 1);
    assert.equal(await req.getByTestId('request-phrase').innerText(), fx.carolPhrase);
    await shot(page, 'requests.png');

    await page.getByRole('button', { name: 'Accept Carol' }).click();
    await page.getByTestId('requests-empty').waitFor();
    await contactItem(page, fx.carol.uuid).waitFor();
    // Both nodes now hold each other as contacts.
    await until(() => fx.carol.contacts().some((c) => c.uuid === fx.me.uuid && c.status === 'active'), 'Carol’s side');

    // A request that arrives while the page is open shows up live.
    const heidi = await fx.mesh.node('Heidi');
    const { authPhrase } = await heidi.add((await fx.me.invite()).code, 'Me');
    await req.first().waitFor();
    assert.equal(await req.getByTestId('request-phrase').innerText(), authPhrase);
    assert.equal(await page.getByTestId('requests-badge').textContent(), '1 waiting');
    await page.getByRole('button', { name: 'Reject Heidi' }).click();
    await page.getByTestId('requests-empty').waitFor();
    assert.deepEqual(fx.me.requests(), []);
    assert.ok(!fx.me.contacts().some((c) => c.uuid === heidi.uuid), 'a rejected request makes no contact');
  });

  it('phone-sized window (375×740) has no horizontal scroll in any view', async () => {
    const phone = await browser.newContext({ viewport: { width: 375, height: 740 }, colorScheme: 'light' });
    phone.setDefaultTimeout(10_000);
    try {
      const p = await phone.newPage();
      await p.goto(fx.loginUrl);
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
      await p.goto(`${fx.url}/#/status`);
      await p.getByTestId('status-uuid').waitFor();
      await noHScroll('status');
      await shot(p, 'phone-status.png');
    } finally {
      await phone.close();
    }
  });

  it('when the daemon goes away the page says so, and reconnects when it is back', async () => {
    await page.goto(`${fx.url}/#/chat/${fx.alice.uuid}`);
    await items(page).first().waitFor();
    await page.waitForFunction(() => document.querySelector('[data-testid=connection]')?.textContent === 'connected');
    await fx.stopApi();
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

    await fx.startApi();
    await banner.waitFor({ state: 'detached', timeout: 20_000 });
    await page.waitForFunction(() => document.querySelector('[data-testid=connection]')?.textContent === 'connected');
    // The event stream is open again: a live message arrives.
    await until(() => fx.streams() > 0, 'the page’s event stream', 10_000);
    await fx.alice.send(fx.me.uuid, 'I am back');
    await items(page).filter({ hasText: 'I am back' }).waitFor();
  });
});
