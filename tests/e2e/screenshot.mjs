// Takes the README's screenshots from the real page: redis + gateway + `producer simulate
// --rate 50` for ~10 s, then docs/dashboard.png (light) and docs/dashboard-dark.png (dark) at
// 1280×800; the dark one with a record expanded. Not part of ctest (it writes into the source tree); run it by hand:
//   node tests/e2e/screenshot.mjs        (binaries from build/, or LLMSTREAMER_GATEWAY etc.)
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startRedis, startGateway, simulate, launchBrowser, waitLive, hook, killAll } from './harness.mjs';

const docs = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../docs');
const seconds = Number(process.env.SCREENSHOT_SECONDS || 10);

try {
  mkdirSync(docs, { recursive: true });
  const redis = await startRedis();
  const gw = await startGateway(redis);
  const producer = simulate(redis, { rate: 50, seed: 42, service: 'vllm-prod-1' });
  const browsers = [];
  for (const scheme of ['light', 'dark']) {
    const b = await launchBrowser({ colorScheme: scheme });
    browsers.push([scheme, b]);
    await b.page.goto(gw.url + '/');
    await waitLive(b.page);
  }
  const start = Date.now();
  await browsers[0][1].page.waitForFunction((n) => window.__llmstreamer.chartPoints() >= n,
                                            seconds, { timeout: seconds * 1000 + 10000 });
  for (const [scheme, b] of browsers) {
    // The dark one shows an expanded record, as a user would see it after a click.
    if (scheme === 'dark') await b.page.evaluate(() => {
      const lines = [...document.querySelectorAll('#log .line.llm')];
      const line = lines[lines.length - 14];
      line?.click();
      line?.scrollIntoView({ block: 'center' });
    });
    const file = path.join(docs, scheme === 'light' ? 'dashboard.png' : 'dashboard-dark.png');
    await b.page.screenshot({ path: file });
    console.log(`${file}: ${await hook(b.page, 'renderedLines')} lines after ${Math.round((Date.now() - start) / 1000)} s`);
    await b.close();
  }
  await producer.stop();
} finally {
  killAll();
}
