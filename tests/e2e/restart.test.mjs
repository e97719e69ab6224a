// Connection status that never lies: the gateway killed and restarted on the same port, and
// Redis going away and coming back, with nothing lost that the gateway ever received.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as h from './harness.mjs';

const T = { timeout: 15000 };

describe('outages', { timeout: 120000 }, () => {
  let redis, gw, browser, page;

  before(async () => {
    ({ redis, gw, browser, page } = await h.openStack());
  });

  after(() => h.closeStack(browser));

  const state = () => h.hook(page, 'status');
  const waitState = (states) => page.waitForFunction(
    (s) => s.includes(window.__llmstreamer.status().state), states, T);
  const waitLine = (pred, arg) => page.waitForFunction(pred, arg, T);

  it('shows the gateway unreachable, then live again with a gap marker and nothing lost', async () => {
    const before = Array.from({ length: 50 }, (_, i) => `A ${i}`);
    await h.publishLines(redis, 'logs:restart', before);
    await waitLine(() => window.__llmstreamer.lines().filter((l) => l.msg?.startsWith('A ')).length === 50);

    await gw.kill('SIGKILL');
    await waitState(['reconnecting', 'unreachable']);
    // The health probe tells the two apart: nothing answers on the port.
    await waitState(['unreachable']);
    assert.match((await state()).text, /gateway unreachable/);
    // Published while no gateway is subscribed: Redis pub/sub drops these; the gap says so.
    await h.publish(redis, 'logs:restart', 'nobody listening');

    gw = await h.startGateway(redis, { port: gw.port });
    const after = Array.from({ length: 50 }, (_, i) => `B ${i}`);
    await h.publishLines(redis, 'logs:restart', after); // maybe before the page is back: replayed
    await waitState(['live', 'live-gap']);
    await waitLine(() => window.__llmstreamer.lines().filter((l) => l.msg?.startsWith('B ')).length >= 50);

    const lines = await h.hook(page, 'lines');
    const gaps = lines.filter((l) => l.kind === 'gap');
    assert.equal(gaps.length, 1, JSON.stringify(gaps));
    assert.match(gaps[0].text, /gateway-restarted/);
    assert.ok(lines.some((l) => l.kind === 'lost'), 'the loss of the connection is marked');
    const texts = lines.filter((l) => l.kind === 'msg' && l.channel === 'logs:restart').map((l) => l.msg);
    assert.deepEqual(texts, [...before, ...after], 'every message exactly once, in order');
    // The gap marker sits between the two runs.
    const gapAt = lines.findIndex((l) => l.kind === 'gap');
    assert.ok(lines.findIndex((l) => l.msg === 'A 49') < gapAt && gapAt < lines.findIndex((l) => l.msg === 'B 0'));
    assert.match((await state()).text, /live/);
  });

  it('shows Redis unreachable while the stream stays up, then the redis-disconnected gap', async () => {
    await redis.stop();
    await waitState(['redis-down']);
    assert.match((await state()).text, /Redis unreachable/);

    redis = await h.startRedis(redis.port);
    await waitLine(() => window.__llmstreamer.lines().some((l) => l.kind === 'gap' && /redis-disconnected/.test(l.text)));
    await waitState(['live', 'live-gap']);
    await h.publishLines(redis, 'logs:restart', ['C 0', 'C 1']);
    await waitLine(() => window.__llmstreamer.lines().some((l) => l.msg === 'C 1'));
    const texts = (await h.messageTexts(page)).filter((m) => /^[ABC] /.test(m));
    assert.equal(texts.length, 102);
    assert.equal(new Set(texts).size, 102, 'nothing repeated');
  });

  it('shows a shutdown marker when the gateway stops cleanly, and resumes after its restart', async () => {
    const port = gw.port;
    await gw.kill('SIGTERM');
    await waitLine(() => window.__llmstreamer.lines().some((l) => l.kind === 'shutdown'));
    await waitState(['unreachable']);
    gw = await h.startGateway(redis, { port });
    await h.publishLines(redis, 'logs:restart', ['D 0']);
    await waitLine(() => window.__llmstreamer.lines().some((l) => l.msg === 'D 0'));
    await waitState(['live', 'live-gap']);
    const gaps = (await h.hook(page, 'lines')).filter((l) => l.kind === 'gap');
    assert.match(gaps.at(-1).text, /gateway-restarted/);
  });

  it('had no page errors besides the refused connections', () => {
    const unexpected = browser.problems.filter((p) => !/net::ERR_CONNECTION_REFUSED|Failed to load resource/.test(p));
    assert.deepEqual(unexpected, []);
  });
});
