// A 10 s burst at 5,000 messages/s: the page must keep answering clicks within 200 ms, render
// exactly its bound of lines, and keep its JS heap bounded.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as h from './harness.mjs';

const RATE = 5000;
const SECONDS = 10;
const MAX_CLICK_MS = 200;
const MAX_HEAP_MB = 150;

describe('burst', { timeout: 90000 }, () => {
  let redis, gw, browser, page;

  before(async () => {
    ({ redis, gw, browser, page } = await h.openStack());
  });

  after(() => h.closeStack(browser));

  it(`stays responsive through ${SECONDS} s at ${RATE} msg/s with the line count at its bound`, async (t) => {
    const cdp = await browser.context.newCDPSession(page);
    await cdp.send('Performance.enable');
    const heapMB = async () => {
      const { metrics } = await cdp.send('Performance.getMetrics');
      return metrics.find((m) => m.name === 'JSHeapUsedSize').value / 2 ** 20;
    };
    // Click latency as the page sees it: from the input event's creation (event.timeStamp) to
    // our handler running, i.e. how long the main thread kept the click waiting.
    await page.evaluate(() => {
      window.__clicks = [];
      document.querySelector('.brand').addEventListener('click', (e) => {
        window.__clicks.push(performance.now() - e.timeStamp);
      });
    });
    const max = await h.hook(page, 'maxLines');
    assert.equal(max, 5000);

    // Mouse clicks at a fixed point (page.click's actionability checks would wait for frames).
    const box = await page.locator('.brand').boundingBox();
    const [x, y] = [box.x + box.width / 2, box.y + box.height / 2];

    const producer = h.simulate(redis, { rate: RATE, duration: SECONDS });
    let finished = false;
    producer.done.finally(() => { finished = true; });
    const samples = [];
    const start = Date.now();
    while (!finished) {
      const t0 = Date.now();
      await page.mouse.click(x, y);
      const roundTrip = Date.now() - t0;
      samples.push({ at: Date.now() - start, roundTrip, heap: await heapMB(),
                     lines: await h.hook(page, 'renderedLines') });
      // Sampling cadence only; nothing waits on it.
      await new Promise((r) => setTimeout(r, 150));
    }
    await producer.done;
    const received = await h.metric(gw, 'llmstreamer_messages_received_total', 'logs:generation') +
      await h.metric(gw, 'llmstreamer_messages_received_total', 'logs:errors') +
      await h.metric(gw, 'llmstreamer_messages_received_total', 'logs:metrics');

    await page.waitForFunction((n) => window.__llmstreamer.renderedLines() === n, max, { timeout: 15000 });
    const clicks = await page.evaluate(() => window.__clicks);
    await cdp.send('HeapProfiler.collectGarbage');
    const heapAfterGc = await heapMB();
    const dropped = (await h.hook(page, 'lines')).filter((l) => l.kind === 'dropped').length;

    const worstClick = Math.max(...clicks);
    const peakHeap = Math.max(...samples.map((s) => s.heap));
    const report = {
      received, elapsedMs: Date.now() - start, clicks: clicks.length,
      clickLatencyMs: { worst: +worstClick.toFixed(1), median: +clicks.sort((a, b) => a - b)[clicks.length >> 1].toFixed(1) },
      clickRoundTripMs: { worst: Math.max(...samples.map((s) => s.roundTrip)) },
      heapMB: { peak: +peakHeap.toFixed(1), afterGc: +heapAfterGc.toFixed(1) },
      renderedLines: { during: samples.map((s) => s.lines), after: await h.hook(page, 'renderedLines') },
      droppedByGateway: dropped,
    };
    t.diagnostic(JSON.stringify(report));
    console.log('burst:', JSON.stringify(report));

    assert.ok(received >= RATE * SECONDS * 0.9, `the producer published ${received} messages`);
    assert.ok(clicks.length >= 20, `only ${clicks.length} clicks measured`);
    assert.ok(worstClick < MAX_CLICK_MS, `a click waited ${worstClick.toFixed(0)} ms`);
    assert.ok(peakHeap < MAX_HEAP_MB, `JS heap peaked at ${peakHeap.toFixed(0)} MB`);
    assert.ok(samples.every((s) => s.lines <= max), 'never more lines than the bound');
    assert.equal(await h.hook(page, 'renderedLines'), max);
    assert.equal(await h.hook(page, 'paused'), false, 'still following: no false pause');
    assert.equal(dropped, 0, 'the page kept up: the gateway never cut it loose');
    assert.equal(await page.evaluate(() => document.querySelectorAll('#log .line').length) <= max + 10, true);
    assert.deepEqual(browser.problems, []);
  });
});
