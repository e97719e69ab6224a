// Filters from a shared URL against the real gateway: every channel glob the gateway accepts
// starts the page, which then shows exactly the channels the gateway selects (one glob grammar,
// tests/fixtures/channelglob.json); a regex that could freeze the tab is refused with its reason
// in the filter box, a costly one is suspended once it spends its time budget, and ordinary
// regexes still filter.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as h from './harness.mjs';

const T = { timeout: 10000 };
// Generous: the page answers in milliseconds; frozen it would not answer for minutes.
const ANSWER_MS = 2000;

describe('filters from the URL', { timeout: 150000 }, () => {
  let redis, gw, browser;

  before(async () => {
    redis = await h.startRedis();
    gw = await h.startGateway(redis);
    browser = await h.launchBrowser();
  });

  after(() => h.closeStack(browser));

  // A page of its own on `query`, with its errors collected (the harness watches only the first).
  async function open(query) {
    const page = await browser.context.newPage();
    const problems = [];
    page.on('pageerror', (err) => problems.push('pageerror: ' + err.message));
    page.on('console', (msg) => {
      if (msg.type() === 'error') problems.push('console: ' + msg.text());
    });
    await page.goto(`${gw.url}/?${query}`);
    return { page, problems };
  }

  // Resolves with fn's result, or with 'no answer' when the page keeps it waiting ANSWER_MS.
  const answers = (promise) => Promise.race([
    promise, new Promise((resolve) => setTimeout(() => resolve('no answer'), ANSWER_MS))]);

  const globCases = [
    // A reversed range is swapped, as in Redis: the page used to throw "Range out of order".
    { glob: 'logs:[z-a]', names: ['logs:a', 'logs:m', 'logs:z', 'logs:A', 'logs:M', 'logs:mm', 'logs:!'],
      expect: ['logs:a', 'logs:m', 'logs:z'] },
    // '!' is a literal ('^' negates): the page used to read [!a] as "not a".
    { glob: 'logs:[!a]', names: ['logs:!', 'logs:a', 'logs:b', 'logs:!a'], expect: ['logs:!', 'logs:a'] },
    // Two globs, an escape, and bytes: "é" is two of them, so [^a]? takes it whole.
    { glob: 'logs:[^a]?, logs:x\\*', names: ['logs:ab', 'logs:ba', 'logs:b', 'logs:x*', 'logs:x*y', 'logs:é', 'logs:éa'],
      expect: ['logs:ba', 'logs:x*', 'logs:é'] },
  ];

  for (const { glob, names, expect } of globCases) {
    it(`starts with ?channels=${glob} and shows what the gateway sends`, async () => {
      const { page, problems } = await open('channels=' + encodeURIComponent(glob));
      await h.waitLive(page);
      assert.equal(await page.inputValue('#channel'), glob);

      const delivered = async (name) => h.metric(gw, 'llmstreamer_messages_delivered_total', name);
      const before = await Promise.all(names.map(delivered));
      const tag = `glob ${glob} `;
      for (const name of names) await h.publish(redis, name, tag + name);
      // Redis keeps the order: once this line is shown, every line above has been through.
      await h.publish(redis, expect[0], tag + 'end');
      await page.waitForFunction((m) => window.__llmstreamer.lines().some((l) => l.msg === m),
                                 tag + 'end', T);

      const gateway = [];
      for (const [i, name] of names.entries()) {
        if ((await delivered(name)) > before[i]) gateway.push(name);
      }
      assert.deepEqual(gateway, expect, 'the gateway selects by Redis glob rules');
      const shown = (await h.messageTexts(page)).filter((m) => m.startsWith(tag) && m !== tag + 'end')
        .map((m) => m.slice(tag.length));
      assert.deepEqual(shown, expect, 'the page shows every line the gateway sends');
      // And the page's own matcher (glob.js) says the same of every name.
      const pageSays = await page.evaluate(async ([g, ns]) => {
        const { compileSelection } = await import(new URL('glob.js', location.href).href);
        const selected = compileSelection(g);
        return ns.filter((n) => selected(n));
      }, [glob, names]);
      assert.deepEqual(pageSays, expect);
      assert.deepEqual(problems, []);
      await page.close();
    });
  }

  it('refuses ?q=/(a+)+$/ with its reason in the filter box and keeps answering', async () => {
    const evil = 'a'.repeat(34) + '!'; // 2^34 steps of backtracking for /(a+)+$/
    await h.publishLines(redis, 'logs:redos', Array.from({ length: 20 }, () => evil));
    const { page, problems } = await open('q=' + encodeURIComponent('/(a+)+$/'));
    for (let i = 0; i < 20; i++) await h.publish(redis, 'logs:redos', evil);

    assert.equal(await answers(page.evaluate(() => 'answered')), 'answered');
    await h.waitLive(page);
    const box = await answers(page.evaluate(() => {
      const note = document.getElementById('q-note');
      return { value: document.getElementById('q').value, invalid: document.getElementById('q').classList.contains('invalid'),
               note: note.hidden ? '' : note.textContent };
    }));
    assert.equal(box.value, '/(a+)+$/');
    assert.equal(box.invalid, true);
    assert.match(box.note, /^regex refused: \(a\+\)\+ repeats a group that itself repeats/);
    assert.equal(await page.isVisible('#q-note'), true);
    // Not applied: the lines still show, and the page still takes clicks.
    await page.waitForFunction((e) => window.__llmstreamer.lines().filter((l) => l.msg === e).length >= 40,
                               evil, T);
    await page.click('#pause', { timeout: ANSWER_MS });
    assert.equal(await answers(page.evaluate(() => window.__llmstreamer.paused())), true);
    await page.click('#pause', { timeout: ANSWER_MS });

    // Typed into the box, the same pattern is refused the same way.
    await page.fill('#q', '');
    await page.waitForFunction(() => document.getElementById('q-note').hidden, null, T);
    await page.fill('#q', '/^(\\w+\\s?)+$/');
    await page.waitForFunction(() => /^regex refused: /.test(document.getElementById('q-note').textContent) &&
      !document.getElementById('q-note').hidden, null, T);
    assert.equal(await answers(page.evaluate(() => 'answered')), 'answered');

    // An ordinary regex still filters, and the note goes away.
    for (const line of ['ERROR disk full', 'an err here', 'all good']) await h.publish(redis, 'logs:redos', line);
    await page.fill('#q', '/err(or)?/i');
    await page.waitForFunction(() => {
      const m = window.__llmstreamer.lines().filter((l) => l.kind === 'msg').map((l) => l.msg);
      return m.join('|') === 'ERROR disk full|an err here';
    }, null, T);
    assert.equal(await page.isVisible('#q-note'), false);
    assert.equal(await page.evaluate(() => document.getElementById('q').classList.contains('invalid')), false);
    assert.equal(new URL(page.url()).searchParams.get('q'), '/err(or)?/i');
    assert.deepEqual(problems, []);
    await page.close();
  });

  it('suspends a regex that spends its time budget, and says so', async () => {
    // Allowed (two unbounded repeats), but cubic on these lines: ~0.1-0.3 s each.
    const slow = 'a'.repeat(1000);
    const { page, problems } = await open('q=' + encodeURIComponent('/a.*a.*b/'));
    await h.waitLive(page);
    await h.publishLines(redis, 'logs:slow', Array.from({ length: 12 }, () => slow));
    await page.waitForFunction(() => document.getElementById('q-note').dataset.kind === 'suspended', null,
                               { timeout: 30000 });
    assert.match(await page.textContent('#q-note'), /^regex filter suspended: .* every line is shown/);
    assert.equal(await page.evaluate(() => document.getElementById('q').classList.contains('suspended')), true);
    // Every line passes now, even one the regex would hide.
    await h.publish(redis, 'logs:slow', 'no match here');
    await page.waitForFunction(() => window.__llmstreamer.lines().some((l) => l.msg === 'no match here'), null, T);
    assert.equal(await answers(page.evaluate(() => 'answered')), 'answered');
    // Editing the filter tries again.
    await page.fill('#q', '/match/');
    await page.waitForFunction(() => document.getElementById('q-note').hidden, null, T);
    assert.deepEqual(problems, []);
    await page.close();
  });
});
