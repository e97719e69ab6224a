// Access tokens in the browser: the gateway's sign-in page on 401, the token exchanged once for
// an HttpOnly session cookie (and gone from the URL), a wrong token refused, and a page whose
// session the gateway forgot (restart) brought back to the sign-in page.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as h from './harness.mjs';

const TOKEN = 'alice-e2e-0123456789abcdef';
const T = { timeout: 15000 };

describe('access tokens', { timeout: 90000 }, () => {
  let redis, gw, browser, page, tokenFile;

  before(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'llmstreamer-auth-'));
    tokenFile = join(dir, 'tokens');
    writeFileSync(tokenFile, `# e2e\n${TOKEN}  logs:*\n`);
    redis = await h.startRedis();
    gw = await h.startGateway(redis, { args: ['--token-file', tokenFile], token: TOKEN });
    browser = await h.launchBrowser();
    page = browser.page;
  });

  after(async () => {
    await browser?.close().catch(() => {});
    h.killAll();
  });

  it('asks for the token, then streams with a session cookie instead of the token', async () => {
    const response = await page.goto(gw.url + '/?level=info');
    assert.equal(response.status(), 401);
    await page.locator('input[name=token]').fill(TOKEN);
    await Promise.all([page.waitForURL((u) => !u.search.includes('token=')),
                       page.locator('button[type=submit]').click()]);
    await h.waitLive(page);
    assert.ok(!page.url().includes(TOKEN), 'the token left the address bar');
    // HttpOnly: the page's scripts cannot read the session.
    assert.equal(await page.evaluate(() => document.cookie.includes('llmstreamer_session')), false);
    const cookies = await page.context().cookies();
    const session = cookies.find((c) => c.name === 'llmstreamer_session');
    assert.ok(session && session.httpOnly && session.sameSite === 'Strict');
    assert.ok(!session.value.includes(TOKEN));

    await h.publish(redis, 'logs:auth', 'INFO signed-in line');
    await page.waitForFunction(
      () => window.__llmstreamer.lines().some((l) => l.msg?.includes('signed-in line')), null, T);
  });

  it('refuses a wrong token with the sign-in page again', async () => {
    const other = await browser.context.newPage();
    const response = await other.goto(gw.url + '/?token=not-the-right-token');
    assert.equal(response.status(), 401);
    assert.equal(await other.locator('input[name=token]').count(), 1);
    await other.close();
  });

  it('returns to the sign-in page when the gateway forgot the session', async () => {
    const port = gw.port;
    await gw.kill('SIGTERM');
    gw = await h.startGateway(redis, { port, args: ['--token-file', tokenFile], token: TOKEN });
    // The stream's reconnect gets 401; the page reloads into the gateway's sign-in page.
    await page.waitForSelector('input[name=token]', T);
  });
});
