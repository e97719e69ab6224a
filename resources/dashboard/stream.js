// The connection to the gateway's /events stream, and an honest account of its state.
//
// EventSource reconnects by itself (every `retry:` ms, sending Last-Event-ID) after a network
// error, but gives up for good (readyState CLOSED) on an HTTP error status. Then, and when the
// page is reloaded, we reconnect ourselves with ?last_event_id= from the id kept in
// sessionStorage. Whenever the stream errors we probe the gateway to say *why*: unreachable
// (healthz fails), or reachable but the stream was cut / refused (with the HTTP status and the
// gateway's own reason).

import { EVENT } from './records.js';

const STORAGE_KEY = 'llmstreamer.lastEventId';
const STALL_MS = 10000; // stats arrive every second: this much silence means a stalled stream
const FRESH_TAIL = 500; // events of history a fresh page starts with

function loadLastId() {
  try { return sessionStorage.getItem(STORAGE_KEY) || ''; } catch { return ''; }
}

function saveLastId(id) {
  try { sessionStorage.setItem(STORAGE_KEY, id); } catch { /* storage disabled */ }
}

async function probe(url, timeoutMs = 2500) {
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(), timeoutMs);
  try {
    const res = await fetch(url, { cache: 'no-store', signal: abort.signal });
    // For /events a success would be a stream: we only wanted the status.
    const body = res.ok ? '' : (await res.text()).trim();
    return { reachable: true, status: res.status, body,
             retryAfter: Number(res.headers.get('Retry-After')) || 0 };
  } catch {
    return { reachable: false };
  } finally {
    clearTimeout(timer);
    abort.abort();
  }
}

// ---- the event source: in a worker when the browser allows it ----------------------------------
// feedworker.js holds the EventSource and hands over batches of events; WorkerSource is its
// stand-in here, with the part of EventSource's interface that Stream uses (readyState, close,
// onopen / onmessage / onerror, addEventListener), so Stream reads the same either way.

let feedWorker = null; // created on first use; false when workers are unavailable
let lastSourceId = 0;
const workerSources = new Map(); // id -> WorkerSource, open ones only

class WorkerSource {
  constructor(url) {
    this.id = ++lastSourceId;
    this.readyState = EventSource.CONNECTING;
    this.onopen = this.onmessage = this.onerror = null;
    this.listeners = new Map();
    workerSources.set(this.id, this);
    feedWorker.postMessage({ cmd: 'open', id: this.id, url: new URL(url, location.href).href,
                             types: Object.values(EVENT) });
  }

  addEventListener(type, listener) { this.listeners.set(type, listener); }

  close() {
    if (!workerSources.delete(this.id)) return;
    this.readyState = EventSource.CLOSED;
    if (feedWorker) feedWorker.postMessage({ cmd: 'close', id: this.id });
  }

  receive(m) {
    if (m.kind === 'events') {
      for (const [type, data, lastEventId] of m.events) {
        if (!workerSources.has(this.id)) return; // closed by one of these events' handlers
        const e = { data, lastEventId };
        if (type === EVENT.message) this.onmessage?.(e);
        else this.listeners.get(type)?.(e);
      }
      return;
    }
    this.readyState = m.readyState;
    if (m.kind === 'open') this.onopen?.();
    else this.onerror?.();
  }

  // The worker died (it could not even load): as if the connection failed for good.
  fail() {
    workerSources.delete(this.id);
    this.readyState = EventSource.CLOSED;
    this.onerror?.();
  }
}

function openSource(url) {
  if (feedWorker === null) {
    try {
      feedWorker = new Worker('feedworker.js');
      feedWorker.onmessage = ({ data }) => workerSources.get(data.id)?.receive(data);
      feedWorker.onerror = () => {
        // From now on the page reads the stream itself; the next reconnect does so.
        feedWorker = false;
        for (const s of [...workerSources.values()]) s.fail();
      };
    } catch {
      feedWorker = false;
    }
  }
  return feedWorker ? new WorkerSource(url) : new EventSource(url);
}

export class Stream {
  // handlers: message(data, id), gap(obj, id), stats(obj, id), dropped(obj), shutdown(obj),
  //           status(state, text), opened(resumed)
  constructor(handlers) {
    this.h = handlers;
    this.channels = '';
    this.source = null;
    this.lastId = loadLastId();
    this.lastSaved = this.lastId;
    this.lastEventAt = 0;
    this.everOpened = false;
    this.retryTimer = 0;
    this.backoffMs = 1000;
    this.probing = false;
    this.state = 'connecting';
    setInterval(() => this.watchdog(), 2000);
    // Keep the id for a reload even if the last frame's save did not run.
    addEventListener('pagehide', () => this.persist());
  }

  // Writes the newest id to sessionStorage; called once per animation frame, not per event.
  persist() {
    if (this.lastId && this.lastId !== this.lastSaved) {
      saveLastId(this.lastId);
      this.lastSaved = this.lastId;
    }
  }

  url() {
    const q = new URLSearchParams();
    if (this.channels) q.set('channels', this.channels);
    // Resume where we were; a fresh page starts with the newest lines of the gateway's history.
    if (this.lastId) q.set('last_event_id', this.lastId);
    else q.set('tail', String(FRESH_TAIL));
    // URLSearchParams writes a space as '+', which the gateway (QUrlQuery) reads as a '+': a literal
    // '+' is already %2B here, so every '+' left is a space.
    const s = q.toString().replace(/\+/g, '%20');
    return 'events' + (s ? '?' + s : '');
  }

  setStatus(state, text) {
    this.state = state;
    this.h.status(state, text);
  }

  // `why` marks a deliberate reconnect (a new channel selection), which is no outage.
  connect(channels = this.channels, why = '') {
    this.channels = channels;
    this.close();
    if (why) this.setStatus('connecting', why);
    else if (this.everOpened) this.setStatus('reconnecting', 'reconnecting…');
    else this.setStatus('connecting', 'connecting…');
    const es = openSource(this.url());
    this.source = es;
    this.lastEventAt = Date.now();
    const track = (e) => {
      this.lastEventAt = Date.now();
      if (e.lastEventId) this.lastId = e.lastEventId;
    };
    const json = (e) => { try { return JSON.parse(e.data); } catch { return null; } };
    es.onopen = () => {
      if (es !== this.source) return;
      this.backoffMs = 1000;
      this.lastEventAt = Date.now();
      const resumed = this.everOpened || !!this.lastId;
      this.everOpened = true;
      this.h.opened(resumed);
    };
    es.onmessage = (e) => { track(e); this.h.message(e.data, e.lastEventId); };
    es.addEventListener(EVENT.gap, (e) => { track(e); this.h.gap(json(e) || {}, e.lastEventId); });
    es.addEventListener(EVENT.stats, (e) => { track(e); this.h.stats(json(e) || {}, e.lastEventId); });
    es.addEventListener(EVENT.dropped, (e) => { track(e); this.h.dropped(json(e) || {}); });
    es.addEventListener(EVENT.shutdown, (e) => {
      track(e);
      this.h.shutdown(json(e) || {});
      this.setStatus('reconnecting', 'gateway shutting down');
    });
    es.onerror = () => { if (es === this.source) this.onError(es); };
  }

  close() {
    clearTimeout(this.retryTimer);
    if (this.source) {
      this.source.close();
      this.source = null;
    }
  }

  async onError(es) {
    if (this.probing) return;
    this.probing = true;
    const closed = es.readyState === EventSource.CLOSED;
    // EventSource still retrying by itself: is the gateway there at all?
    // EventSource gave up (HTTP error): ask /events itself for the status and reason.
    const r = await probe(closed ? this.url() : 'healthz');
    this.probing = false;
    // Replaced meanwhile, or EventSource got through while we asked: then it is live again.
    if (es !== this.source || es.readyState === EventSource.OPEN) return;
    if (!r.reachable) {
      this.setStatus('unreachable', 'gateway unreachable · retrying');
    } else if (closed && r.status === 401) {
      // Signed out (the gateway restarted and forgot our session, or the token was revoked):
      // reloading the page brings up the gateway's sign-in page.
      this.setStatus('reconnecting', 'sign-in required');
      location.reload();
      return;
    } else if (closed && r.status >= 400) {
      this.setStatus('reconnecting', `HTTP ${r.status}${r.body ? ': ' + r.body : ''} · retrying`);
    } else {
      this.setStatus('reconnecting', 'stream interrupted · reconnecting');
    }
    if (closed || es.readyState === EventSource.CLOSED) this.scheduleReconnect(r.retryAfter * 1000);
  }

  scheduleReconnect(minMs = 0) {
    clearTimeout(this.retryTimer);
    const delay = Math.max(minMs, this.backoffMs);
    this.backoffMs = Math.min(this.backoffMs * 2, 15000);
    this.retryTimer = setTimeout(() => this.connect(), delay);
  }

  // A TCP connection can die without an error (suspended laptop, dropped NAT entry): the
  // gateway sends stats every second, so prolonged silence means we must reconnect ourselves.
  watchdog() {
    const es = this.source;
    if (!es || es.readyState !== EventSource.OPEN) return;
    const silent = Date.now() - this.lastEventAt;
    if (silent > STALL_MS) {
      this.setStatus('reconnecting', `no data for ${Math.round(silent / 1000)} s · reconnecting`);
      this.connect();
    }
  }
}
