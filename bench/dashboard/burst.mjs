// Dashboard responsiveness under a log flood (bench/run.sh runs it): a 10 s burst at 5,000 msg/s
// into the real gateway and Debian's headless Chromium, clicking the page every 150 ms. Prints
// the click latency as the page saw it and compares it with the targets: median <= 50 ms and
// worst <= 200 ms on a quiet machine; worst <= 100 ms is the aim with both cores busy (run it
// beside `stress-ng --cpu 2`). It also prints the round trip of a click, which counts what the
// latency cannot see: a page too busy to take the input event at all (then few clicks fit in
// the burst). The e2e test runs the same burst but asserts only what does not
// depend on the machine's speed.
//   node bench/dashboard/burst.mjs [--rate N] [--seconds S] [--reps R]
// Binaries come from build/ unless LLMSTREAMER_GATEWAY / LLMSTREAMER_PRODUCER say otherwise.
import { parseArgs } from 'node:util';
import * as h from '../../tests/e2e/harness.mjs';
import { runBurst } from '../../tests/e2e/burstrun.mjs';

const { values } = parseArgs({ options: {
  rate: { type: 'string', default: '5000' },
  seconds: { type: 'string', default: '10' },
  reps: { type: 'string', default: '1' },
} });
const targets = { medianMs: 50, worstMs: 200, busyWorstMs: 100 };
const load = (await import('node:fs')).readFileSync('/proc/loadavg', 'utf8').split(' ')[0];
console.log(`dashboard burst: ${values.rate} msg/s for ${values.seconds} s, 1-min load ${load}`);
let failed = 0;
for (let rep = 0; rep < Number(values.reps); ++rep) {
  const { report, browser } = await runBurst({ rate: Number(values.rate), seconds: Number(values.seconds) });
  await h.closeStack(browser);
  const { median, p99, worst } = report.clickLatencyMs;
  const met = median <= targets.medianMs && worst <= targets.worstMs;
  if (!met) ++failed;
  console.log(`  rep ${rep + 1}: clicks ${report.clicks}, median ${median} ms, p99 ${p99} ms, worst ${worst} ms ` +
              `(targets: median <= ${targets.medianMs}, worst <= ${targets.worstMs}; busy machine: worst <= ` +
              `${targets.busyWorstMs}) ${met ? 'met' : 'MISSED'}; heap peak ${report.heapMB.peak} MB; ` +
              `received ${report.received}; rendered ${report.renderedLines.after}/${report.renderedLines.max}; ` +
              `click round trip median ${report.clickRoundTripMs.median} ms, worst ${report.clickRoundTripMs.worst} ms`);
}
h.killAll();
process.exitCode = 0; // a benchmark reports; it does not fail the suite
console.log(`dashboard burst: ${failed ? `targets missed in ${failed} rep(s)` : 'targets met'}`);
