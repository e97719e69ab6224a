// Three gateways behind nginx (Debian's, with the shipped packaging/nginx/llmstreamer.conf:
// round-robin, no sticky sessions), all reading one Redis stream (--transport streams). The
// gateway serving the dashboard's stream is killed while a producer keeps adding entries; the
// page reconnects through nginx to another gateway and shows every entry exactly once, in order,
// with no gap.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as h from './harness.mjs';

const T = { timeout: 30000 }; // bounds that only catch a hang
const channel = 'logs:lb';

describe('several gateways behind nginx', { timeout: 180000 }, () => {
  let redis, gateways, nginx, browser, page;

  before(async () => {
    redis = await h.startRedis();
    gateways = [];
    for (let i = 0; i < 3; i++) {
      gateways.push(await h.startGateway(redis, {
        args: ['--transport', 'streams', '--trusted-proxies', '127.0.0.1'],
      }));
    }
    nginx = await h.startNginx(gateways);
    browser = await h.launchBrowser();
    page = browser.page;
  });

  after(() => h.closeStack(browser));

  const entries = () => page.evaluate((c) => window.__llmstreamer.lines()
    .filter((l) => l.kind === 'msg' && l.channel === c), channel);
  const openStreams = async (list) => (await Promise.all(list.map(h.streams)));

  it('shows every entry exactly once after the gateway of its stream was killed', async () => {
    await page.goto(`${nginx.url}/?channels=${channel}`);
    await h.waitLive(page, T.timeout);
    // The page's one stream is open on one of the gateways: that one goes.
    const serving = await h.waitFor(async () => {
      const counts = await openStreams(gateways);
      return counts.reduce((a, b) => a + b, 0) === 1 && gateways[counts.indexOf(1)];
    }, { ...T, what: "the page's stream at one gateway" });
    const others = gateways.filter((g) => g !== serving);

    const producer = h.startPipe(redis, channel, { args: ['--transport', 'streams'] });
    let n = 0;
    const tick = setInterval(() => producer.write(`entry ${n++}`), 20);
    try {
      await h.waitFor(async () => (await entries()).length >= 30, { ...T, what: '30 entries shown' });
      await serving.kill('SIGKILL');
      const atKill = n;
      await h.waitFor(() => n >= atKill + 30, { ...T, what: 'entries added meanwhile' });
      // Back through nginx, on another gateway, and past what was added meanwhile.
      await h.waitFor(async () => (await openStreams(others)).includes(1),
                      { ...T, what: 'the stream on another gateway' });
      await h.waitFor(async () => (await entries()).length >= atKill + 30,
                      { ...T, what: 'the entries added while it reconnected' });
    } finally {
      clearInterval(tick);
    }
    await producer.end();
    const total = n;
    await h.waitFor(async () => (await entries()).length >= total, { ...T, what: 'every entry' });

    const shown = await entries();
    assert.deepEqual(shown.map((l) => l.msg), Array.from({ length: total }, (_, i) => `entry ${i}`),
                     'every entry exactly once, in order');
    assert.equal(new Set(shown.map((l) => l.id)).size, total, 'no id twice');
    const lines = await h.hook(page, 'lines');
    assert.deepEqual(lines.filter((l) => l.kind === 'gap'), [], 'no gap');
    assert.ok(lines.some((l) => l.kind === 'lost'), 'the lost connection is marked');
    assert.equal((await h.hook(page, 'status')).state, 'live');
  });

  it('had no page errors', () => {
    assert.deepEqual(browser.problems, []);
  });
});
