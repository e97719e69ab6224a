// Test harness for the dashboard's end-to-end tests: a private redis-server on a free loopback
// port, the real gateway binary on --port 0, the real producer binary, Debian's nginx in front of
// gateways (with the shipped config), and Debian's Chromium driven by playwright-core (no
// browser is ever downloaded). Every process started here is killed when the test process ends,
// whether the tests passed or not.
//
// Paths come from the environment (set by ctest, see tests/dashboard.cmake):
//   LLMSTREAMER_GATEWAY, LLMSTREAMER_PRODUCER, REDIS_SERVER, REDIS_CLI, CHROMIUM, NGINX
import { spawn } from 'node:child_process';
import https from 'node:https';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

let chromium;
try {
  ({ chromium } = await import('playwright-core'));
} catch (err) {
  throw new Error('playwright-core is not installed: run scripts/install-deps.sh ' +
                  `(npm ci --prefix tests) (${err.message})`);
}

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const bin = {
  gateway: process.env.LLMSTREAMER_GATEWAY || path.join(root, 'build/gateway/llmstreamer-gateway'),
  producer: process.env.LLMSTREAMER_PRODUCER || path.join(root, 'build/producer/llmstreamer-producer'),
  redisServer: process.env.REDIS_SERVER || 'redis-server',
  redisCli: process.env.REDIS_CLI || 'redis-cli',
  chromium: process.env.CHROMIUM || '/usr/bin/chromium',
  nginx: process.env.NGINX || '/usr/sbin/nginx',
};

// ---- process bookkeeping ----------------------------------------------------------------------

const children = new Set();
const tempDirs = new Set();

function track(child) {
  children.add(child);
  child.on('exit', () => children.delete(child));
  return child;
}

export function killAll() {
  for (const child of children) {
    try { child.kill('SIGKILL'); } catch { /* already gone */ }
  }
  for (const dir of tempDirs) {
    try { rmSync(dir, { recursive: true, force: true }); } catch { /* best effort */ }
  }
  tempDirs.clear();
}
process.on('exit', killAll);
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(sig, () => {
    killAll();
    process.exit(130);
  });
}

function tempDir(prefix) {
  const dir = mkdtempSync(path.join(tmpdir(), prefix));
  tempDirs.add(dir);
  return dir;
}

const exited = (child) => (child.exitCode !== null || child.signalCode !== null
  ? Promise.resolve(child.exitCode)
  : new Promise((resolve) => child.once('exit', (code) => resolve(code))));

// ---- waiting on conditions (never fixed sleeps) -----------------------------------------------

export async function waitFor(fn, { timeout = 10000, interval = 50, what = 'condition' } = {}) {
  const deadline = Date.now() + timeout;
  let last;
  for (;;) {
    try {
      last = await fn();
      if (last) return last;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeout} ms waiting for ${what}` +
                      (last instanceof Error ? `: ${last.message}` : ''));
    }
    await new Promise((r) => setTimeout(r, interval));
  }
}

// Waits for a line of a child's output matching re; returns the match.
function waitForOutput(child, stream, re, timeout, what) {
  return new Promise((resolve, reject) => {
    let buf = '';
    const timer = setTimeout(() => done(new Error(`timed out waiting for ${what}; output:\n${buf}`)), timeout);
    const onData = (d) => {
      buf += d;
      const m = re.exec(buf);
      if (m) done(null, m);
    };
    const onExit = (code) => done(new Error(`${what}: process exited (${code}); output:\n${buf}`));
    function done(err, m) {
      clearTimeout(timer);
      child[stream].off('data', onData);
      child.off('exit', onExit);
      if (err) reject(err); else resolve(m);
    }
    child[stream].setEncoding('utf8');
    child[stream].on('data', onData);
    child.once('exit', onExit);
  });
}

export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

// ---- redis --------------------------------------------------------------------------------------

export async function startRedis(port) {
  for (let attempt = 0; ; attempt++) {
    const p = port || await freePort();
    const dir = tempDir('llmstreamer-redis-');
    const proc = track(spawn(bin.redisServer, [
      '--port', String(p), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no',
      '--dir', dir, '--daemonize', 'no', '--loglevel', 'warning',
    ], { stdio: ['ignore', 'pipe', 'pipe'] }));
    try {
      await waitFor(async () => (await redisCli(p, 'PING')).trim() === 'PONG',
                    { timeout: 5000, what: 'redis-server to answer PING' });
      return {
        port: p,
        url: `redis://127.0.0.1:${p}`,
        proc,
        async stop() {
          proc.kill('SIGKILL');
          await exited(proc);
        },
      };
    } catch (err) {
      proc.kill('SIGKILL');
      if (port || attempt >= 2) throw err;
    }
  }
}

export function redisCli(port, ...args) {
  return new Promise((resolve, reject) => {
    const child = spawn(bin.redisCli, ['-h', '127.0.0.1', '-p', String(port), ...args],
                        { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => { out += d; });
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 && !out.startsWith('Could not connect')
      ? resolve(out) : reject(new Error(`redis-cli ${args.join(' ')}: exit ${code} ${out}`))));
  });
}

export async function publish(redis, channel, message) {
  await redisCli(redis.port, 'PUBLISH', channel, message);
}

// Publishes lines through the real producer (`pipe` exits once Redis acknowledged them all);
// `transport: 'streams'` adds them to the Redis stream instead.
// `format` is the producer's --format: 'text' (the default here) publishes each line as it came,
// which is what the tests compare payloads with; 'auto' turns JSON and logfmt lines into records.
export async function publishLines(redis, channel, lines,
                                   { transport = 'pubsub', format = 'text' } = {}) {
  const child = track(spawn(bin.producer, ['--redis-url', redis.url, '--transport', transport,
                                           'pipe', '--channel', channel, '--format', format],
                            { stdio: ['pipe', 'ignore', 'pipe'] }));
  let err = '';
  child.stderr.on('data', (d) => { err += d; });
  child.stdin.end(lines.join('\n') + '\n');
  const code = await exited(child);
  if (code !== 0) throw new Error(`producer pipe exited ${code}: ${err}`);
}

// `llmstreamer-producer pipe` kept open, for a producer that goes on while a test acts:
// write(line) publishes one line, end() closes its input and resolves once Redis acknowledged
// everything. `args` come before the command (e.g. ['--transport', 'streams']).
export function startPipe(redis, channel, { args = [] } = {}) {
  const child = track(spawn(bin.producer,
                            ['--redis-url', redis.url, ...args, 'pipe', '--channel', channel,
                             '--format', 'text'],
                            { stdio: ['pipe', 'ignore', 'pipe'] }));
  let err = '';
  child.stderr.on('data', (d) => { err += d; });
  return {
    write(line) { child.stdin.write(line + '\n'); },
    async end() {
      child.stdin.end();
      const code = await exited(child);
      if (code !== 0) throw new Error(`producer pipe exited ${code}: ${err}`);
    },
  };
}

// `llmstreamer-producer simulate`; resolves with the child (wait on `done`).
export function simulate(redis, { rate, duration, seed = 7, service = 'vllm-01' }) {
  const args = ['--redis-url', redis.url, 'simulate', '--rate', String(rate), '--seed', String(seed),
                '--service', service];
  if (duration) args.push('--duration', String(duration));
  const child = track(spawn(bin.producer, args, { stdio: ['ignore', 'ignore', 'pipe'] }));
  let err = '';
  child.stderr.on('data', (d) => { err += d; });
  return {
    child,
    done: exited(child).then((code) => {
      if (code !== 0 && code !== null) throw new Error(`producer simulate exited ${code}: ${err}`);
      return code;
    }),
    stop() { child.kill('SIGTERM'); return exited(child); },
  };
}

// `llmstreamer-producer otlp` on a free port; `args` come before the command (e.g.
// ['--transport', 'streams', '--buffer', '20']), `otlpArgs` after it. Resolves once it answers
// HTTP; stop() sends SIGTERM and resolves with its exit code and stderr (the summary).
export async function startOtlp(redis, { args = [], otlpArgs = [], timeout = 15000 } = {}) {
  for (let attempt = 0; ; attempt++) {
    // A free port may be taken by another process before the receiver binds it: try another.
    const port = await freePort();
    const child = track(spawn(bin.producer, ['--redis-url', redis.url, ...args, 'otlp',
                                             '--listen', `127.0.0.1:${port}`, ...otlpArgs],
                              { stdio: ['ignore', 'ignore', 'pipe'] }));
    let err = '';
    child.stderr.on('data', (d) => { err += d; });
    const url = `http://127.0.0.1:${port}`;
    try {
      await waitFor(async () => {
        if (child.exitCode !== null) {
          throw new Error(`producer otlp exited (${child.exitCode}): ${err}`);
        }
        return (await fetch(url + '/v1/logs')).status === 405;
      }, { timeout, what: 'the OTLP receiver to answer' });
    } catch (e) {
      child.kill('SIGKILL');
      if (attempt >= 2) throw e;
      continue;
    }
    return {
      url,
      port,
      stderr: () => err,
      async stop() {
        child.kill('SIGTERM');
        const code = await exited(child);
        return { code, stderr: err };
      },
    };
  }
}

// The gateway's /events as a plain SSE client: `events` fills with the envelopes of the default
// event type ({id, channel, ts, payload}); close() ends the stream.
export async function openEvents(gw, channels = 'logs:*') {
  const controller = new AbortController();
  const res = await fetch(`${gw.url}/events?channels=${encodeURIComponent(channels)}`,
                          { signal: controller.signal });
  if (!res.ok) throw new Error(`/events: ${res.status} ${await res.text()}`);
  const events = [];
  const reading = (async () => {
    const decoder = new TextDecoder();
    let buf = '';
    try {
      for await (const chunk of res.body) {
        buf += decoder.decode(chunk, { stream: true });
        for (let end = buf.indexOf('\n\n'); end >= 0; end = buf.indexOf('\n\n')) {
          const block = buf.slice(0, end);
          buf = buf.slice(end + 2);
          let type = 'message';
          const data = [];
          for (const line of block.split('\n')) {
            if (line.startsWith('event:')) type = line.slice(6).trim();
            else if (line.startsWith('data:')) data.push(line.slice(5).replace(/^ /, ''));
          }
          if (type === 'message' && data.length) events.push(JSON.parse(data.join('\n')));
        }
      }
    } catch (err) {
      if (err.name !== 'AbortError') throw err;
    }
  })();
  return { events, close: async () => { controller.abort(); await reading.catch(() => {}); } };
}

// ---- gateway ----------------------------------------------------------------------------------

// GET over HTTPS trusting `ca` (PEM): resolves with the status (node's fetch takes no CA).
export function httpsStatus(url, ca) {
  return new Promise((resolve, reject) => {
    https.get(url, { ca }, (res) => {
      res.resume();
      resolve(res.statusCode);
    }).on('error', reject);
  });
}

// `args` are extra gateway flags; `token` authenticates the readiness check when the gateway
// was given a --token-file; `ca` (PEM) is what the check trusts when `args` turn on HTTPS.
export async function startGateway(redis, { port = 0, timeout = 15000, args = [], token, ca } = {}) {
  const deadline = Date.now() + timeout;
  const auth = token ? { headers: { Authorization: `Bearer ${token}` } } : {};
  for (;;) {
    const proc = track(spawn(bin.gateway, [
      '--bind', '127.0.0.1', '--port', String(port), '--redis-url', redis.url, '--channels', 'logs:*',
      ...args,
    ], { stdio: ['ignore', 'pipe', 'pipe'],
         env: { ...process.env, QT_LOGGING_RULES: 'llmstreamer.*.info=false' } }));
    let stderr = '';
    proc.stderr.on('data', (d) => { stderr += d; });
    try {
      const m = await waitForOutput(proc, 'stdout', /listening on (https?:\/\/127\.0\.0\.1:(\d+))/,
                                    Math.max(1000, deadline - Date.now()), 'the gateway to listen');
      const gw = {
        url: m[1],
        port: Number(m[2]),
        proc,
        stderr: () => stderr,
        async kill(signal = 'SIGKILL') {
          proc.kill(signal);
          await exited(proc);
        },
      };
      const ready = ca ? async () => (await httpsStatus(gw.url + '/readyz', ca)) === 200
        : async () => (await fetch(gw.url + '/readyz', auth)).ok;
      await waitFor(ready,
                    { timeout: Math.max(1000, deadline - Date.now()), what: 'gateway /readyz' });
      return gw;
    } catch (err) {
      proc.kill('SIGKILL');
      await exited(proc);
      // The old port may take a moment to be free again after a restart.
      if (!port || Date.now() > deadline) throw new Error(`${err.message}\nstderr: ${stderr}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }
}

// Debian's nginx on a free loopback port in front of `gateways`, with the shipped
// packaging/nginx/llmstreamer.conf (round-robin; tests/support/run-nginx.sh puts the gateways in
// its upstream and runs nginx unprivileged, as one process, in a temporary prefix).
export async function startNginx(gateways, { timeout = 15000 } = {}) {
  const prefix = tempDir('llmstreamer-nginx-');
  const port = await freePort();
  const proc = track(spawn('bash', [
    path.join(root, 'tests/support/run-nginx.sh'), bin.nginx,
    path.join(root, 'packaging/nginx/llmstreamer.conf'), prefix, String(port),
    ...gateways.map((g) => String(g.port)),
  ], { stdio: ['ignore', 'pipe', 'pipe'] }));
  let output = '';
  proc.stdout.on('data', (d) => { output += d; });
  proc.stderr.on('data', (d) => { output += d; });
  const log = () => {
    try { return readFileSync(path.join(prefix, 'error.log'), 'utf8'); } catch { return ''; }
  };
  const url = `http://127.0.0.1:${port}`;
  try {
    await waitFor(async () => {
      if (proc.exitCode !== null) throw new Error(`nginx exited (${proc.exitCode})`);
      return (await fetch(url + '/healthz')).ok;
    }, { timeout, what: 'nginx to serve /healthz' });
  } catch (err) {
    proc.kill('SIGKILL');
    throw new Error(`${err.message}\n${output}\nerror.log:\n${log()}`);
  }
  return { url, port, proc, log };
}

// Open event streams of a gateway (its llmstreamer_clients gauge).
export async function streams(gw) {
  const text = await (await fetch(gw.url + '/metrics')).text();
  const m = /^llmstreamer_clients (\d+)$/m.exec(text);
  return m ? Number(m[1]) : 0;
}

export async function metric(gw, name, channel) {
  const text = await (await fetch(gw.url + '/metrics')).text();
  const literal = (t) => t.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const re = new RegExp(`^${literal(name)}\\{channel="${literal(channel)}"\\} (\\S+)$`, 'm');
  const m = re.exec(text);
  return m ? Number(m[1]) : 0;
}

// ---- browser ------------------------------------------------------------------------------------

// `args` are extra Chromium flags.
export async function launchBrowser({ width = 1280, height = 800, colorScheme = 'dark',
                                      args = [] } = {}) {
  const dir = tempDir('llmstreamer-chromium-');
  const context = await chromium.launchPersistentContext(dir, {
    executablePath: bin.chromium,
    headless: true,
    args: ['--headless=new', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
           '--disable-background-networking', '--disable-component-update', '--disable-sync',
           '--disable-dev-shm-usage', ...args],
    viewport: { width, height },
    colorScheme,
    acceptDownloads: true,
    timeout: 30000,
  });
  const page = context.pages()[0] || await context.newPage();
  // Everything the page complains about (CSP violations, exceptions) fails the tests.
  const problems = [];
  page.on('pageerror', (err) => problems.push('pageerror: ' + err.message));
  page.on('console', (msg) => {
    if (msg.type() === 'error') problems.push('console: ' + msg.text());
  });
  return { context, page, problems, close: () => context.close() };
}

// Debug hook of the page (see resources/dashboard/app.js).
export const hook = (page, fn, ...args) =>
  page.evaluate(([f, a]) => window.__llmstreamer[f](...a), [fn, args]);

export async function waitLive(page, timeout = 10000) {
  await page.waitForFunction(() => window.__llmstreamer?.status().state === 'live', null, { timeout });
}

export async function messageTexts(page) {
  return (await hook(page, 'lines')).filter((l) => l.kind === 'msg').map((l) => l.msg);
}

// The usual stack of a dashboard test: Redis, the gateway, and a browser page showing the live
// dashboard. Pair with closeStack() in after().
export async function openStack() {
  const redis = await startRedis();
  const gw = await startGateway(redis);
  const browser = await launchBrowser();
  const page = browser.page;
  await page.goto(gw.url + '/');
  await waitLive(page);
  return { redis, gw, browser, page };
}

export async function closeStack(browser) {
  await browser?.close().catch(() => {});
  killAll();
}
