// One burst of simulated LLM logs into a dashboard, measured: shared by the e2e test (which
// asserts only what cannot depend on the machine's speed) and bench/dashboard/burst.mjs (which
// prints the latency figures and compares them with their targets).
import * as h from './harness.mjs';

// Opens its own stack, floods `rate` msg/s for `seconds`, clicks the page every 150 ms meanwhile
// and returns what it saw. The caller closes the stack. `beforeFlood(cdp)`, if given, runs just
// before the flood starts (bench/dashboard/trace.mjs starts its trace there).
export async function runBurst({ rate = 5000, seconds = 10, beforeFlood } = {}) {
  const { redis, gw, browser, page } = await h.openStack();
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
  const maxLines = await h.hook(page, 'maxLines');

  // Mouse clicks at a fixed point (page.click's actionability checks would wait for frames).
  const box = await page.locator('.brand').boundingBox();
  const [x, y] = [box.x + box.width / 2, box.y + box.height / 2];

  if (beforeFlood) await beforeFlood(cdp);
  const producer = h.simulate(redis, { rate, duration: seconds });
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
  let received = 0;
  for (const ch of ['logs:generation', 'logs:errors', 'logs:metrics'])
    received += await h.metric(gw, 'llmstreamer_messages_received_total', ch);

  await page.waitForFunction((n) => window.__llmstreamer.renderedLines() === n, maxLines, { timeout: 15000 });
  const clicks = (await page.evaluate(() => window.__clicks)).sort((a, b) => a - b);
  await cdp.send('HeapProfiler.collectGarbage');
  const heapAfterGc = await heapMB();
  const dropped = (await h.hook(page, 'lines')).filter((l) => l.kind === 'dropped').length;
  const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const pct = (p) => clicks.length ? clicks[Math.min(clicks.length - 1, Math.floor(p * clicks.length))] : NaN;
  const report = {
    rate, seconds, received, elapsedMs: Date.now() - start, clicks: clicks.length,
    clickLatencyMs: { median: +pct(0.5).toFixed(1), p99: +pct(0.99).toFixed(1),
                      worst: +Math.max(...clicks).toFixed(1) },
    // From sending the click to the page having handled it: includes what the latency above
    // cannot see, a page too busy to even take the input event.
    clickRoundTripMs: { median: median(samples.map((s) => s.roundTrip)),
                        worst: Math.max(...samples.map((s) => s.roundTrip)) },
    heapMB: { peak: +Math.max(...samples.map((s) => s.heap)).toFixed(1), afterGc: +heapAfterGc.toFixed(1) },
    renderedLines: { max: maxLines, during: samples.map((s) => s.lines), after: await h.hook(page, 'renderedLines') },
    droppedByGateway: dropped,
  };
  return { report, samples, redis, gw, browser, page };
}
