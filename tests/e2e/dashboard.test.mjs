// The dashboard against a real gateway and redis-server, in headless Chromium: order, text-only
// rendering, LLM fields, pause/resume, filters and the shareable URL, channel switch, the chart,
// downloads, theme, and resuming after a reload.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import * as h from './harness.mjs';

const T = { timeout: 10000 };

describe('dashboard', { timeout: 120000 }, () => {
  let redis, gw, browser, page;

  before(async () => {
    ({ redis, gw, browser, page } = await h.openStack());
  });

  after(() => h.closeStack(browser));

  const msgs = async (prefix) => (await h.messageTexts(page)).filter((m) => m.startsWith(prefix));
  const waitCount = (prefix, n) => page.waitForFunction(([p, k]) => window.__llmstreamer.lines()
    .filter((l) => l.kind === 'msg' && l.msg.startsWith(p)).length >= k, [prefix, n], T);
  const query = () => new URL(page.url()).searchParams;

  it('shows published lines in order, with the level guessed from plain text', async () => {
    const lines = Array.from({ length: 300 }, (_, i) => `order ${String(i).padStart(4, '0')} INFO step`);
    await h.publishLines(redis, 'logs:order', lines);
    await waitCount('order ', 300);
    assert.deepEqual(await msgs('order '), lines);
    const levels = new Set((await h.hook(page, 'lines')).filter((l) => l.channel === 'logs:order')
      .map((l) => l.level));
    assert.deepEqual([...levels], ['INFO']);
  });

  it('renders <script> and <img onerror> payloads as text and never executes them', async () => {
    const evil = [
      '<script>window.__xss = 1</script>',
      '<img src=x onerror="window.__xss = 2">',
      '{"level":"ERROR","service":"<b>svc</b>","msg":"<img src=y onerror=window.__xss=3>"}',
    ];
    for (const e of evil) await h.publish(redis, 'logs:xss', e);
    await page.waitForFunction(() => document.querySelectorAll('#log .line').length &&
      window.__llmstreamer.lines().filter((l) => l.channel === 'logs:xss').length === 3, null, T);
    const dom = await page.evaluate(() => {
      const rows = [...document.querySelectorAll('#log .line')].filter((r) => r.querySelector('.c')?.textContent === 'logs:xss');
      return {
        messages: rows.map((r) => r.querySelector('.m').textContent),
        service: rows[2].querySelector('.s').textContent,
        level: rows[2].querySelector('.l').textContent,
        elements: document.querySelectorAll('#log script, #log img, #log b').length,
        xss: window.__xss,
      };
    });
    assert.deepEqual(dom.messages, [evil[0], evil[1], '<img src=y onerror=window.__xss=3>']);
    assert.equal(dom.service, '<b>svc</b>');
    assert.equal(dom.level, 'ERROR');
    assert.equal(dom.elements, 0);
    assert.equal(dom.xss, undefined);

    // Expanded, the payload is shown whole, still as text.
    await page.locator('#log .line.L-ERROR', { hasText: 'onerror=window.__xss=3' }).click();
    const pre = await page.locator('#log .line.open .payload').textContent();
    assert.match(pre, /"msg": "<img src=y onerror=window.__xss=3>"/);
    assert.equal(await page.evaluate(() => document.querySelectorAll('#log img, #log b').length), 0);
    assert.equal(await page.evaluate(() => window.__xss), undefined);
    await page.keyboard.press('End'); // expanding paused following; back to live
    await page.waitForFunction(() => !window.__llmstreamer.paused(), null, T);
  });

  it('shows LLM fields as chips and the level from JSON', async () => {
    await h.publish(redis, 'logs:llm', JSON.stringify({
      level: 'warning', service: 'vllm-a', msg: 'slow request',
      'gen_ai.request.model': 'meta-llama/Llama-3.1-8B-Instruct',
      'gen_ai.usage.input_tokens': 1234, 'gen_ai.usage.output_tokens': 56,
      duration_ms: 1840, ttft_ms: 212, 'error.type': 'timeout',
    }));
    const row = page.locator('#log .line', { hasText: 'slow request' });
    await row.waitFor(T);
    const cells = await row.evaluate((r) => Object.fromEntries(['l', 's', 'etype', 'model', 'tok', 'dur', 'ttft']
      .map((k) => [k, r.querySelector('.' + k)?.textContent])));
    assert.deepEqual(cells, { l: 'WARN', s: 'vllm-a', etype: 'timeout', model: 'Llama-3.1-8B-Instruct',
                              tok: '1.2k → 56', dur: '1.84 s', ttft: '212 ms' });
  });

  it('pauses on scroll-up, counts new lines, and resumes by button, End key and reaching the bottom', async () => {
    const bottom = () => page.evaluate(() => {
      const log = document.getElementById('log');
      return log.scrollHeight - log.scrollTop - log.clientHeight < 4;
    });
    const scrollUp = async () => {
      await page.hover('#log');
      await page.mouse.wheel(0, -1200);
      await page.waitForFunction(() => window.__llmstreamer.paused(), null, T);
    };
    const newest = async () => (await h.messageTexts(page)).at(-1);

    await scrollUp();
    assert.equal(await page.isVisible('#pausebar'), true);
    const frozen = await newest();
    const more = Array.from({ length: 40 }, (_, i) => `more ${i}`);
    await h.publishLines(redis, 'logs:order', more.slice(0, 15));
    await page.waitForFunction(() => window.__llmstreamer.newLines() === 15, null, T);
    await h.publishLines(redis, 'logs:order', more.slice(15));
    // The counter is redrawn once per animation frame.
    await page.waitForFunction(() => document.getElementById('paused-text').textContent ===
      'Paused · 40 new lines', null, T);
    assert.equal(await h.hook(page, 'newLines'), 40);
    assert.equal(await newest(), frozen, 'the view stays frozen while paused');

    await page.click('#live');
    await page.waitForFunction(() => !window.__llmstreamer.paused(), null, T);
    assert.equal(await newest(), 'more 39');
    assert.equal(await page.isVisible('#pausebar'), false);
    await h.waitFor(bottom, { what: 'the view at the bottom' });

    await scrollUp();
    await h.publish(redis, 'logs:order', 'after End');
    await page.waitForFunction(() => window.__llmstreamer.newLines() === 1, null, T);
    await page.focus('#log');
    await page.keyboard.press('End');
    await page.waitForFunction(() => !window.__llmstreamer.paused(), null, T);
    assert.equal(await newest(), 'after End');
    await h.waitFor(bottom, { what: 'the view at the bottom' });

    await scrollUp();
    await h.publish(redis, 'logs:order', 'after scroll down');
    await page.waitForFunction(() => window.__llmstreamer.newLines() === 1, null, T);
    await page.mouse.wheel(0, 100000);
    await page.waitForFunction(() => !window.__llmstreamer.paused(), null, T);
    assert.equal(await newest(), 'after scroll down');
  });

  it('reads the stream in a worker', () => {
    assert.deepEqual(page.workers().map((w) => new URL(w.url()).pathname), ['/feedworker.js']);
  });

  it('builds the older lines of a large batch when they come into view, each with its record', async () => {
    // 2,000 lines at once: the view builds the newest and leaves the rest in placeholder chunks
    // until they are scrolled to (however the batches fall, what shows must be right).
    const lines = Array.from({ length: 2000 }, (_, i) => `lazy ${String(i).padStart(4, '0')}`);
    await h.publishLines(redis, 'logs:lazy', lines);
    await waitCount('lazy ', 2000);
    const shown = (await h.hook(page, 'lines'));
    await page.evaluate(() => { document.getElementById('log').scrollTop = 0; });
    await page.waitForFunction(() => window.__llmstreamer.paused(), null, T);
    const firstTexts = () => page.evaluate(() => [...document.querySelectorAll('#log .line')].slice(0, 60)
      .map((l) => l.querySelector('.m, .mtext')?.textContent));
    const expected = shown.slice(0, 60).map((l) => l.msg ?? l.text);
    await h.waitFor(async () => JSON.stringify(await firstTexts()) === JSON.stringify(expected),
                    { what: 'the oldest lines built in order' });
    // A click opens the record of the line clicked, found by its place in the view.
    const at = shown.findIndex((l, i) => i >= 30 && l.kind === 'msg');
    const line = page.locator('#log .line').nth(at);
    await line.click();
    const meta = await line.locator('.meta').textContent();
    assert.match(meta, new RegExp(`^id ${shown[at].id} · ${shown[at].channel} ·`));
    await line.click({ position: { x: 5, y: 5 } });
    assert.equal(await line.locator('.meta').count(), 0, 'a second click closes it');
    await page.click('#live');
    await page.waitForFunction(() => !window.__llmstreamer.paused(), null, T);
  });

  it('filters by text, regex and level instantly and keeps the URL in sync', async () => {
    await page.fill('#q', 'order 012');
    await page.waitForFunction(() => {
      const m = window.__llmstreamer.lines().filter((l) => l.kind === 'msg');
      return m.length === 10 && m.every((l) => l.msg.includes('order 012'));
    }, null, T);
    assert.equal(query().get('q'), 'order 012');

    await page.fill('#q', '/ORDER 01[0-4]5/i');
    await page.waitForFunction(() => window.__llmstreamer.lines().filter((l) => l.kind === 'msg')
      .map((l) => l.msg.slice(0, 10)).join() === 'order 0105,order 0115,order 0125,order 0135,order 0145', null, T);
    assert.equal(query().get('q'), '/ORDER 01[0-4]5/i');

    await page.fill('#q', '/(/');
    await page.waitForFunction(() => document.getElementById('q').classList.contains('invalid'), null, T);

    await page.fill('#q', '');
    for (const line of ['DEBUG d-level', 'INFO i-level', 'WARN w-level', 'ERROR e-level']) {
      await h.publish(redis, 'logs:lv', line);
    }
    await waitCount('ERROR e-level', 1);
    await page.selectOption('#level', 'warn');
    await page.waitForFunction(() => {
      const m = window.__llmstreamer.lines().filter((l) => l.kind === 'msg');
      return m.length > 0 && m.every((l) => l.level === 'WARN' || l.level === 'ERROR');
    }, null, T);
    assert.deepEqual((await h.messageTexts(page)).filter((m) => m.endsWith('-level')), ['WARN w-level', 'ERROR e-level']);
    assert.equal(query().get('level'), 'warn');
    await page.selectOption('#level', '');
    await page.waitForFunction(() => window.__llmstreamer.renderedLines() > 300, null, T);
    assert.equal(query().get('level'), null);
    assert.equal(query().get('q'), null);
  });

  it('chips trace and request ids from the producer\'s --format auto, one click filtering to one', async () => {
    await h.publishLines(redis, 'logs:ids', [
      'level=info msg="ids start" request_id=r-7',
      '{"level":30,"msg":"ids step","reqId":"r-7"}',
      '{"level":40,"msg":"ids other","request_id":"r-71"}',
      '{"msg":"ids traced","traceId":"0af7651916cd43dd8448eb211c80319c","request_id":"r-7"}',
      'time=2024-01-01T00:00:00Z level=warn msg="ids none"',
    ], { format: 'auto' });
    await waitCount('ids none', 1);
    const chipOf = (msg) => page.locator('#log .line', { hasText: msg }).locator('.chip.id');
    assert.equal(await chipOf('ids start').textContent(), 'r-7');
    assert.equal(await chipOf('ids step').textContent(), 'r-7');
    assert.equal(await chipOf('ids traced').textContent(), '0af76519…');
    assert.equal(await chipOf('ids traced').getAttribute('title'), 'trace_id 0af7651916cd43dd8448eb211c80319c');
    assert.equal(await page.locator('#log .line', { hasText: 'ids none' }).locator('.chip.id:not(.none)')
      .count(), 0);

    const shown = () => page.evaluate(() => window.__llmstreamer.lines()
      .filter((l) => l.kind === 'msg').map((l) => l.msg));
    await chipOf('ids step').click();
    await page.waitForFunction(() => window.__llmstreamer.lines().filter((l) => l.kind === 'msg').length === 3, null, T);
    assert.deepEqual(await shown(), ['ids start', 'ids step', 'ids traced']);
    assert.equal(await page.inputValue('#q'), '"r-7"');
    assert.equal(query().get('q'), '"r-7"');
    assert.equal(await page.locator('#log .line.open').count(), 0); // the click did not open the line

    await chipOf('ids traced').click();
    await page.waitForFunction(() => window.__llmstreamer.lines().filter((l) => l.kind === 'msg').length === 1, null, T);
    assert.deepEqual(await shown(), ['ids traced']);

    await page.fill('#q', '');
    await page.waitForFunction(() => window.__llmstreamer.renderedLines() > 300, null, T);
  });

  it('switches channel through the selector, reconnecting with ?channels=', async () => {
    await h.publish(redis, 'logs:a', 'a-before');
    await h.publish(redis, 'logs:b', 'b-before');
    // The selector learns channels from /api/channels and the stats events.
    await page.waitForFunction(() => [...document.querySelectorAll('#channel option')]
      .some((o) => o.value === 'logs:b'), null, T);
    await page.selectOption('#channel', 'logs:b');
    await page.waitForFunction(() => {
      const m = window.__llmstreamer.lines().filter((l) => l.kind === 'msg');
      return m.length > 0 && m.every((l) => l.channel === 'logs:b');
    }, null, T);
    assert.equal(query().get('channels'), 'logs:b');
    await h.waitLive(page);

    // The gateway itself filters now: logs:a is no longer delivered to this client.
    const deliveredA = await h.metric(gw, 'llmstreamer_messages_delivered_total', 'logs:a');
    await h.publish(redis, 'logs:a', 'a-after');
    await h.publish(redis, 'logs:b', 'b-after');
    await waitCount('b-after', 1);
    assert.deepEqual(await msgs('b-'), ['b-before', 'b-after']);
    assert.deepEqual(await msgs('a-'), []);
    assert.equal(await h.metric(gw, 'llmstreamer_messages_delivered_total', 'logs:a'), deliveredA);

    // The URL is shareable: a new tab opened on it shows the same selection.
    const other = await browser.context.newPage();
    await other.goto(`${gw.url}/?channels=logs:b&q=after&level=info`);
    await h.waitLive(other);
    assert.equal(await other.inputValue('#channel'), 'logs:b');
    assert.equal(await other.inputValue('#q'), 'after');
    assert.equal(await other.inputValue('#level'), 'info');
    await other.close();

    await page.selectOption('#channel', '');
    await waitCount('a-before', 1);
    assert.equal(query().get('channels'), null);
    await h.waitLive(page);
  });

  it('charts the gateway rates', async () => {
    await page.waitForFunction(() => window.__llmstreamer.chartPoints() >= 3, null, T);
    const legend = await page.locator('#legend-rate li .name').allTextContents();
    for (const c of ['logs:order', 'logs:xss', 'logs:a']) assert.ok(legend.includes(c), `${c} in ${legend}`);
    // Something was drawn: the canvas is not blank.
    const inked = await page.evaluate(() => {
      const c = document.getElementById('chart-rate');
      const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
      let n = 0;
      for (let i = 3; i < d.length; i += 4) if (d[i]) n++;
      return n;
    });
    assert.ok(inked > 100, `inked pixels: ${inked}`);
  });

  it('downloads what is in view as NDJSON and as text', async () => {
    const inView = await h.hook(page, 'lines');
    const [nd] = await Promise.all([page.waitForEvent('download'), page.click('#dl-ndjson')]);
    assert.match(nd.suggestedFilename(), /^llmstreamer-\d{8}-\d{6}\.ndjson$/);
    const records = (await readFile(await nd.path(), 'utf8')).trimEnd().split('\n').map((l) => JSON.parse(l));
    assert.equal(records.length, inView.length);
    const xss = records.find((r) => r.channel === 'logs:xss');
    assert.equal(xss.payload, '<script>window.__xss = 1</script>');
    assert.ok(records.filter((r) => r.channel).every((r) => /^\d+-\d+$/.test(r.id)));

    const [txt] = await Promise.all([page.waitForEvent('download'), page.click('#dl-text')]);
    const text = (await readFile(await txt.path(), 'utf8')).trimEnd().split('\n');
    assert.equal(text.length, inView.length);
    assert.match(text.find((l) => l.includes('slow request')),
                 /logs:llm WARN vllm-a slow request error\.type=timeout model=meta-llama\/Llama-3\.1-8B-Instruct tokens in 1234, out 56 duration 1840 ms/);
  });

  it('toggles the theme and keeps the choice', async () => {
    const theme = () => page.evaluate(() => document.documentElement.dataset.theme || 'auto');
    assert.equal(await theme(), 'auto');
    await page.click('#theme');
    assert.equal(await theme(), 'light');
    await page.click('#theme');
    assert.equal(await theme(), 'dark');
    await page.reload();
    assert.equal(await theme(), 'dark');
    assert.equal(await page.textContent('#theme'), '☾ dark');
    await page.click('#theme');
    assert.equal(await theme(), 'auto');
    await h.waitLive(page);
  });

  it('resumes from the id kept in sessionStorage after leaving and reloading the page', async () => {
    await h.publish(redis, 'logs:order', 'before leaving');
    await waitCount('before leaving', 1);
    await page.goto('about:blank');
    const away = Array.from({ length: 20 }, (_, i) => `while away ${i}`);
    await h.publishLines(redis, 'logs:order', away);
    await page.goto(gw.url + '/');
    await waitCount('while away', 20);
    assert.deepEqual(await msgs('while away'), away);
    const all = await h.hook(page, 'lines');
    assert.equal(all.filter((l) => l.kind === 'gap').length, 0, 'nothing was missed');
    assert.equal((await msgs('before leaving')).length, 0, 'nothing is repeated');
    assert.match(await page.evaluate(() => sessionStorage.getItem('llmstreamer.lastEventId')), /^\d+-\d+$/);
  });

  it('says why the gateway refuses a stream (HTTP status and reason)', async () => {
    const other = await browser.context.newPage();
    await other.goto(`${gw.url}/?channels=secret:*`);
    await other.waitForFunction(() => /HTTP 400/.test(window.__llmstreamer.status().text), null, T);
    const s = await h.hook(other, 'status');
    assert.equal(s.state, 'reconnecting');
    assert.match(s.text, /outside this gateway's allowlist/);
    await other.close();
  });

  it('had no page errors and no Content-Security-Policy violations', () => {
    assert.deepEqual(browser.problems, []);
  });
});
