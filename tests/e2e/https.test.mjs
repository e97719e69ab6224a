// The dashboard over HTTPS as it is: the gateway with --tls-cert/--tls-key (a certificate made by
// openssl here), Chromium trusting exactly that certificate's key
// (--ignore-certificate-errors-spki-list with its SHA-256), the page going live and showing a
// line published to Redis; the response carries HSTS.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash, X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as h from './harness.mjs';

describe('dashboard over HTTPS', { timeout: 90000 }, () => {
  let redis, gw, browser, page;

  before(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'llmstreamer-https-'));
    const cert = join(dir, 'cert.pem');
    const key = join(dir, 'key.pem');
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt',
                             'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', key, '-out', cert,
                             '-days', '2', '-subj', '/CN=127.0.0.1',
                             '-addext', 'subjectAltName=IP:127.0.0.1'], { stdio: 'pipe' });
    const pem = readFileSync(cert);
    const spki = createHash('sha256')
      .update(new X509Certificate(pem).publicKey.export({ type: 'spki', format: 'der' }))
      .digest('base64');
    redis = await h.startRedis();
    gw = await h.startGateway(redis, { args: ['--tls-cert', cert, '--tls-key', key], ca: pem });
    browser = await h.launchBrowser({ args: [`--ignore-certificate-errors-spki-list=${spki}`] });
    page = browser.page;
  });

  after(async () => {
    await browser?.close().catch(() => {});
    h.killAll();
  });

  it('loads the dashboard and shows a live line', async () => {
    assert.match(gw.url, /^https:\/\//);
    const response = await page.goto(gw.url + '/');
    assert.equal(response.status(), 200);
    assert.equal(response.headers()['strict-transport-security'], 'max-age=31536000');
    assert.equal(await page.evaluate(() => location.protocol), 'https:');
    await h.waitLive(page);
    await h.publish(redis, 'logs:tls', 'INFO over https to the browser');
    await page.waitForFunction(
      () => window.__llmstreamer.lines().some((l) => l.msg?.includes('over https to the browser')),
      null, { timeout: 15000 });
    assert.deepEqual(browser.problems, []);
  });
});
