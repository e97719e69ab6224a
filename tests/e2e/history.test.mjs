// The dashboard's way into the gateway's history (GET /api/history), with both transports:
// scrolling back while paused loads the older lines above the ones shown, in order, each once,
// with the line being read kept in place; the history search finds lines no longer in view and
// goes on page by page (past the gateway's scan limit too); the delivery badge says "complete
// since" on a clean start and shows the gap after a trimmed resume.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as h from './harness.mjs';

const T = { timeout: 15000 };
const LINES = 1200; // published before the page opens: it starts with the newest 500 (?tail=)
const PAGE = 200; // lines per history request (records.js HISTORY_PAGE)
const STREAM_KEY = 'llmstreamer:stream';

// "old 0000" … "old 1199"; every fourth is a needle for the search.
const oldLine = (i) => `old ${String(i).padStart(4, '0')}${i % 4 === 0 ? ' needle' : ''}`;
const OLD = Array.from({ length: LINES }, (_, i) => oldLine(i));

const olderText = (page) => page.textContent('#older-text');
const messages = async (page, fn = 'lines') =>
  (await h.hook(page, fn)).filter((l) => l.kind === 'msg');

// The message of the line at the top edge of the log, as the user sees it.
const topLine = (page) => page.evaluate(() => {
  const r = document.getElementById('log').getBoundingClientRect();
  const line = document.elementFromPoint(r.left + r.width / 2, r.top + 4)?.closest('.line');
  return line?.querySelector('.m')?.textContent;
});

// Ids in strictly increasing order (stream ids by time, then sequence; pub/sub ids by sequence).
function assertIncreasing(ids) {
  const key = (id) => /^s?(\d+)-(\d+)$/.exec(id).slice(1).map(Number);
  for (let i = 1; i < ids.length; i++) {
    const [a, b] = [key(ids[i - 1]), key(ids[i])];
    assert.ok(a[0] < b[0] || (a[0] === b[0] && a[1] < b[1]), `${ids[i - 1]} before ${ids[i]}`);
  }
}

// Scrolls the paused view back to the start of the history, one page per trip to the top, and
// checks each load against what the page showed before it.
async function scrollBackToStart(page) {
  const start = await messages(page);
  assert.equal(start.length, 500, 'a fresh page starts with the newest 500 lines');
  assert.equal(start[0].msg, OLD[LINES - 500]);
  let shown = start.length;
  for (let trip = 0; shown < LINES; trip++) {
    assert.ok(trip < 10, 'no more trips than pages');
    const oldest = (await messages(page))[0].msg;
    await page.evaluate(() => { document.getElementById('log').scrollTop = 0; });
    const want = Math.min(LINES, shown + PAGE);
    await page.waitForFunction((n) => window.__llmstreamer.lines()
      .filter((l) => l.kind === 'msg').length === n, want, T);
    assert.equal(await h.hook(page, 'paused'), true, 'reaching the top paused the view');
    // The line the user was looking at (the top one) stays where it was (once its chunk is built).
    await h.waitFor(async () => await topLine(page) === oldest, { what: `${oldest} still at the top` });
    assert.equal(await page.evaluate(() => document.getElementById('log').scrollTop),
                 (want - shown) * 20, 'the scroll position grew by exactly the lines put above');
    shown = want;
  }
  await page.waitForFunction(() => /nothing older/.test(document.getElementById('older-text').textContent),
                             null, T);
  assert.equal(await page.isDisabled('#load-older'), true);
  const all = await messages(page);
  assert.deepEqual(all.map((l) => l.msg), OLD, 'every line once, in order');
  assertIncreasing(all.map((l) => l.id));
  assert.equal(new Set(all.map((l) => l.id)).size, LINES);
  // Scrolled to the very top, the oldest lines are built (they were placeholders) and right.
  await page.evaluate(() => { document.getElementById('log').scrollTop = 0; });
  await h.waitFor(async () => await topLine(page) === OLD[0], { what: 'the first line built at the top' });
  // A click on a loaded line opens its record, as on a live one.
  const line = page.locator('#log .line').nth(3);
  await line.click();
  assert.match(await line.locator('.meta').textContent(), new RegExp(`^id ${all[3].id} · logs:old ·`));
  await line.click({ position: { x: 5, y: 5 } });
  // Going live starts over from the live lines; the loaded ones leave the view.
  await page.click('#live');
  await page.waitForFunction(() => !window.__llmstreamer.paused(), null, T);
  assert.equal((await messages(page)).length, 500);
  assert.equal(await olderText(page), '');
}

// Searches the history for the needles: the newest page first, then "search older" until the
// start; one of them was never in the live view. Returns the results shown.
async function searchNeedles(page, { scanLimitFirst = false } = {}) {
  const needles = OLD.filter((l) => l.endsWith(' needle'));
  await page.fill('#q', 'needle');
  await page.click('#search');
  await page.waitForFunction(() => window.__llmstreamer.searching(), null, T);
  assert.match(await page.textContent('#results-what'), /history, not the live stream · “needle” in all channels/);
  if (scanLimitFirst) {
    // Only newer entries within the gateway's scan limit: no match yet, and it says where it stopped.
    await page.waitForFunction(() => /stopped after examining 10,000 entries/.test(
      document.getElementById('results-text').textContent), null, T);
    assert.match(await page.textContent('#results-text'), /^no matches · 10,000 history entries examined/);
    assert.equal((await h.hook(page, 'resultLines')).length, 0);
    await page.click('#search-older');
  }
  await page.waitForFunction((n) => window.__llmstreamer.resultLines().length === n, PAGE, T);
  assert.deepEqual((await h.hook(page, 'resultLines')).map((l) => l.msg), needles.slice(-PAGE));
  assert.match(await page.textContent('#results-text'), /^200 matches · .* search older for more$/);
  await page.click('#search-older');
  await page.waitForFunction((n) => window.__llmstreamer.resultLines().length === n, needles.length, T);
  await page.waitForFunction(() => /nothing older/.test(document.getElementById('results-text').textContent),
                             null, T);
  const found = await h.hook(page, 'resultLines');
  assert.deepEqual(found.map((l) => l.msg), needles, 'every match once, oldest first');
  assertIncreasing(found.map((l) => l.id));
  assert.equal(await page.isDisabled('#search-older'), true);
  // "old 0000 needle" was never in the live view.
  const live = (await messages(page)).map((l) => l.msg);
  assert.ok(!live.includes(needles[0]));
  // A result opens its record as a live line does.
  await page.evaluate(() => { document.getElementById('results').scrollTop = 0; });
  const first = page.locator('#results .line').first();
  await first.waitFor(T);
  assert.equal(await first.locator('.m').textContent(), needles[0]);
  await first.click();
  assert.match(await first.locator('.meta').textContent(), new RegExp(`^id ${found[0].id} · logs:old ·`));
  assert.match(await first.locator('.payload').textContent(), /old 0000 needle/);
  // Back to the live view, following as before.
  await page.click('#back-live');
  await page.waitForFunction(() => !window.__llmstreamer.searching() && !window.__llmstreamer.paused(), null, T);
  assert.equal(await page.isVisible('#results-panel'), false);
  await page.fill('#q', '');
  await page.waitForFunction(() => window.__llmstreamer.renderedLines() >= 500, null, T);
  return found;
}

// A browser on the dashboard of `gw`, once it shows the newest 500 of the lines published.
async function openPage(gw) {
  const browser = await h.launchBrowser();
  const page = browser.page;
  await page.goto(gw.url + '/');
  await h.waitLive(page);
  await page.waitForFunction(() => window.__llmstreamer.renderedLines() === 500, null, T);
  return { browser, page };
}

describe('history with pub/sub (the gateway\'s ring)', { timeout: 150000 }, () => {
  let redis, gw, browser, page;

  before(async () => {
    redis = await h.startRedis();
    gw = await h.startGateway(redis);
    await h.publishLines(redis, 'logs:old', OLD);
    ({ browser, page } = await openPage(gw));
  });

  after(() => h.closeStack(browser));

  it('says the delivery is complete since the page started receiving', async () => {
    const d = await h.hook(page, 'delivery');
    assert.equal(d.state, 'complete');
    assert.match(d.text, /^complete since \d\d:\d\d$/);
    assert.match(d.title, /every event since this view started receiving has arrived/);
    assert.equal(await page.getAttribute('#delivery', 'aria-label'), d.title);
  });

  it('loads older lines when scrolled to the top while paused, in order, each once', async () => {
    await scrollBackToStart(page);
  });

  it('loads older lines by the "Load older" control, pausing first', async () => {
    await page.click('#load-older');
    await page.waitForFunction(() => window.__llmstreamer.renderedLines() === 700, null, T);
    assert.equal(await h.hook(page, 'paused'), true);
    assert.deepEqual((await messages(page)).map((l) => l.msg), OLD.slice(LINES - 700));
    assert.match(await olderText(page), /^200 lines loaded from the history$/);
    await page.keyboard.press('End');
    await page.waitForFunction(() => !window.__llmstreamer.paused(), null, T);
  });

  it('loads only lines the live filter lets through', async () => {
    await page.selectOption('#level', 'error'); // no line is an error: every page is filtered out
    await page.click('#load-older');
    await page.waitForFunction(() => /none of the .* matches the filter/.test(
      document.getElementById('older-text').textContent), null, T);
    assert.equal(await h.hook(page, 'renderedLines'), 0);
    await page.selectOption('#level', '');
    await page.waitForFunction(() => window.__llmstreamer.renderedLines() === 500, null, T);
  });

  it('searches the history for lines no longer in view, page by page', async () => {
    await searchNeedles(page);
  });

  it('says why the gateway refuses a search (an invalid regex)', async () => {
    await page.fill('#q', '/(unclosed/');
    await page.click('#search');
    await page.waitForFunction(() => /^the search failed: the gateway refused the history request \(HTTP 400\): \S/
      .test(document.getElementById('results-text').textContent), null, T);
    await page.click('#back-live');
    await page.fill('#q', '');
    await page.waitForFunction(() => !window.__llmstreamer.paused(), null, T);
  });

  it('after a gateway restart: the gap in the badge, and why older lines cannot be loaded', async () => {
    await gw.kill('SIGKILL');
    gw = await h.startGateway(redis, { port: gw.port });
    await page.waitForFunction(() => window.__llmstreamer.delivery().state === 'gap', null, T);
    const d = await h.hook(page, 'delivery');
    assert.match(d.text, /^gap at \d\d:\d\d: gateway-restarted · the gateway restarted/);
    assert.match(d.title, /Complete since then/);
    // The lines shown have ids of the old gateway run, which the new one cannot place.
    await page.click('#load-older');
    await page.waitForFunction(() => /^could not load older lines: the gateway refused the history request \(HTTP 400\): \S/
      .test(document.getElementById('older-text').textContent), null, T);
    assert.equal(await page.getAttribute('#older', 'data-kind'), 'error');
    await page.keyboard.press('End');
  });

  it('had no page errors', () => {
    const unexpected = browser.problems.filter((p) => !/net::ERR_CONNECTION_REFUSED|Failed to load resource/.test(p));
    assert.deepEqual(unexpected, []);
  });
});

describe('history with Redis streams', { timeout: 200000 }, () => {
  let redis, gw, browser, page;
  const streams = { transport: 'streams' };
  const gatewayArgs = ['--transport', 'streams', '--stream-key', STREAM_KEY];

  before(async () => {
    redis = await h.startRedis();
    await h.publishLines(redis, 'logs:old', OLD, streams);
    gw = await h.startGateway(redis, { args: gatewayArgs });
    ({ browser, page } = await openPage(gw));
  });

  after(() => h.closeStack(browser));

  it('loads older lines from the stream when scrolled to the top, in order, each once', async () => {
    assert.match((await messages(page))[0].id, /^s\d+-\d+$/);
    await scrollBackToStart(page);
  });

  it('searches past the gateway\'s scan limit, saying where it stopped', async () => {
    // 10,500 newer entries without a needle: the first request examines 10,000 of them only.
    const bulk = Array.from({ length: 10500 }, (_, i) => `bulk ${i}`);
    await h.publishLines(redis, 'logs:bulk', bulk, streams);
    await page.waitForFunction(() => window.__llmstreamer.lines().at(-1)?.msg === 'bulk 10499', null, T);
    await searchNeedles(page, { scanLimitFirst: true });
  });

  it('shows the gap in the badge after a resume the trimming overtook', async () => {
    assert.equal((await h.hook(page, 'delivery')).state, 'complete');
    const resumeFrom = await h.hook(page, 'lastEventId');
    await gw.kill('SIGKILL');
    const meanwhile = Array.from({ length: 50 }, (_, i) => `meanwhile ${i}`);
    await h.publishLines(redis, 'logs:gap', meanwhile, streams);
    await h.redisCli(redis.port, 'XTRIM', STREAM_KEY, 'MAXLEN', '5');
    gw = await h.startGateway(redis, { port: gw.port, args: gatewayArgs });
    await page.waitForFunction(() => window.__llmstreamer.delivery().state === 'gap', null, { timeout: 30000 });
    const d = await h.hook(page, 'delivery');
    assert.match(d.text, /^gap at \d\d:\d\d: (history-exceeded|trimmed) · \S/, d.text);
    assert.match(d.title, /^Events are missing at \d\d:\d\d \((history-exceeded|trimmed)\): /);
    // Then exactly what was retained.
    await page.waitForFunction(() => window.__llmstreamer.lines().at(-1)?.msg === 'meanwhile 49', null, T);
    const after = (await messages(page)).filter((l) => l.channel === 'logs:gap').map((l) => l.msg);
    assert.deepEqual(after, meanwhile.slice(-5));
    assert.notEqual(await h.hook(page, 'lastEventId'), resumeFrom);

    // At a narrow width the badge is still there, the header does not overflow, and the title
    // keeps the whole text.
    await page.setViewportSize({ width: 420, height: 700 });
    const box = await page.locator('#delivery').boundingBox();
    assert.ok(box && box.width > 40, JSON.stringify(box));
    assert.equal(await page.evaluate(() => document.documentElement.scrollWidth <= innerWidth), true);
    const header = await page.locator('header.top').boundingBox();
    assert.ok(box.x + box.width <= header.x + header.width);
    await page.setViewportSize({ width: 1280, height: 800 });
  });

  it('had no page errors', () => {
    const unexpected = browser.problems.filter((p) => !/net::ERR_CONNECTION_REFUSED|Failed to load resource/.test(p));
    assert.deepEqual(unexpected, []);
  });
});
