// Where the dashboard's main thread spends its time during a log flood: records a Chromium
// performance trace (the DevTools timeline categories) of one burst (tests/e2e/burstrun.mjs) and
// prints the renderer main thread's time per activity, its long tasks and the click latency.
// Run it beside `stress-ng --cpu 2` to see the page under contention.
//   node bench/dashboard/trace.mjs [--rate N] [--seconds S] [--out trace.json]
// Binaries come from build/ unless LLMSTREAMER_GATEWAY / LLMSTREAMER_PRODUCER say otherwise.
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import * as h from '../../tests/e2e/harness.mjs';
import { runBurst } from '../../tests/e2e/burstrun.mjs';

const { values } = parseArgs({ options: {
  rate: { type: 'string', default: '5000' },
  seconds: { type: 'string', default: '10' },
  out: { type: 'string' },
} });

const categories = ['devtools.timeline', 'disabled-by-default-devtools.timeline', 'v8', 'blink.user_timing',
  'toplevel', 'disabled-by-default-v8.gc'];

// Starts a trace on the page's CDP session; returns a function that stops it and resolves to
// the trace events.
async function startTrace(cdp) {
  await cdp.send('Profiler.enable');
  await cdp.send('Profiler.setSamplingInterval', { interval: 500 });
  await cdp.send('Profiler.start');
  await cdp.send('Tracing.start', { transferMode: 'ReturnAsStream',
                                    traceConfig: { includedCategories: categories } });
  return async () => {
    const { profile } = await cdp.send('Profiler.stop');
    const complete = new Promise((resolve) => cdp.once('Tracing.tracingComplete', resolve));
    await cdp.send('Tracing.end');
    const { stream } = await complete;
    let text = '';
    for (;;) {
      const chunk = await cdp.send('IO.read', { handle: stream, size: 1 << 20 });
      text += chunk.base64Encoded ? Buffer.from(chunk.data, 'base64').toString() : chunk.data;
      if (chunk.eof) break;
    }
    await cdp.send('IO.close', { handle: stream });
    const parsed = JSON.parse(text);
    return { events: Array.isArray(parsed) ? parsed : parsed.traceEvents, profile };
  };
}

// Self time per event name on one thread: complete events ('X') and begin/end pairs, nested.
function selfTimes(events) {
  const spans = [];
  const open = [];
  for (const e of events) {
    if (e.ph === 'X') spans.push({ name: e.name, ts: e.ts, end: e.ts + (e.dur || 0) });
    else if (e.ph === 'B') open.push(e);
    else if (e.ph === 'E') {
      const b = open.pop();
      if (b) spans.push({ name: b.name, ts: b.ts, end: e.ts });
    }
  }
  spans.sort((a, b) => a.ts - b.ts || b.end - a.end);
  const self = new Map();
  const counts = new Map();
  const stack = [];
  const close = (until) => {
    while (stack.length && stack[stack.length - 1].end <= until) stack.pop();
  };
  for (const s of spans) {
    close(s.ts);
    const parent = stack[stack.length - 1];
    const dur = s.end - s.ts;
    self.set(s.name, (self.get(s.name) || 0) + dur);
    counts.set(s.name, (counts.get(s.name) || 0) + 1);
    if (parent) self.set(parent.name, self.get(parent.name) - dur);
    stack.push(s);
  }
  self.counts = counts;
  return self;
}

const rate = Number(values.rate), seconds = Number(values.seconds);
const load = (await import('node:fs')).readFileSync('/proc/loadavg', 'utf8').split(' ')[0];
console.log(`dashboard trace: ${rate} msg/s for ${seconds} s, 1-min load ${load}`);
let stop;
const { report, browser } = await runBurst({ rate, seconds, beforeFlood: async (cdp) => { stop = await startTrace(cdp); } });
const { events, profile } = await stop();
await h.closeStack(browser);
h.killAll();
if (values.out) writeFileSync(values.out, JSON.stringify({ traceEvents: events }));

// The renderer's main thread: named CrRendererMain in the thread_name metadata.
const mains = events.filter((e) => e.ph === 'M' && e.name === 'thread_name' && e.args?.name === 'CrRendererMain');
let best = null;
for (const m of mains) {
  const mine = events.filter((e) => e.pid === m.pid && e.tid === m.tid && e.ph !== 'M');
  if (!best || mine.length > best.length) best = mine;
}
if (!best) {
  console.log('no renderer main thread in the trace');
} else {
  // Top-level tasks: RunTask spans not inside another one (Chromium nests two names).
  const runs = best.filter((e) => e.ph === 'X' && /RunTask$/.test(e.name)).sort((a, b) => a.ts - b.ts || b.dur - a.dur);
  const tasks = [];
  for (const t of runs) {
    const last = tasks[tasks.length - 1];
    if (!last || t.ts >= last.ts + last.dur) tasks.push(t);
  }
  const span = tasks.length ? (Math.max(...tasks.map((t) => t.ts + t.dur)) - Math.min(...tasks.map((t) => t.ts))) / 1e3 : 0;
  const busy = tasks.reduce((a, t) => a + t.dur, 0) / 1e3;
  console.log(`  main thread: ${tasks.length} tasks, busy ${busy.toFixed(0)} ms of ${span.toFixed(0)} ms` +
              ` (${span ? ((100 * busy) / span).toFixed(0) : 0} %)`);
  const times = selfTimes(best);
  const self = [...times].filter(([, v]) => v > 0).sort((a, b) => b[1] - a[1]).slice(0, 15);
  console.log('  self time by activity (ms, times it ran):');
  for (const [name, us] of self) console.log(`    ${(us / 1e3).toFixed(1).padStart(9)}  ${name} ×${times.counts.get(name)}`);
  const long = tasks.filter((t) => t.dur >= 50e3).sort((a, b) => b.dur - a.dur);
  console.log(`  long tasks (>= 50 ms): ${long.length}; longest ${long.slice(0, 5).map((t) => (t.dur / 1e3).toFixed(0)).join(', ') || '-'} ms`);
  for (const t of long.slice(0, 3)) {
    const inside = best.filter((e) => e.ts >= t.ts && e.ts < t.ts + t.dur && e !== t);
    const top = [...selfTimes(inside)].filter(([, v]) => v > 0).sort((a, b) => b[1] - a[1]).slice(0, 5);
    console.log(`    ${(t.dur / 1e3).toFixed(0)} ms task: ` + top.map(([n, us]) => `${n} ${(us / 1e3).toFixed(0)}`).join(', '));
  }
}
// JavaScript self time per function, from the sampling profiler.
if (profile) {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map();
  for (let i = 0; i < profile.samples.length; i++) {
    const f = byId.get(profile.samples[i]).callFrame;
    const key = `${f.functionName || '(anonymous)'} ${f.url.split('/').pop()}:${f.lineNumber + 1}`;
    self.set(key, (self.get(key) || 0) + (profile.timeDeltas[i] || 0));
  }
  const top = [...self].filter(([k]) => !/^\((idle|program)\)/.test(k)).sort((a, b) => b[1] - a[1]).slice(0, 15);
  console.log('  JavaScript self time by function (ms, sampled):');
  for (const [name, us] of top) console.log(`    ${(us / 1e3).toFixed(1).padStart(9)}  ${name}`);
}
const { median, p99, worst } = report.clickLatencyMs;
console.log(`  clicks ${report.clicks}: median ${median} ms, p99 ${p99} ms, worst ${worst} ms; received ${report.received}`);
