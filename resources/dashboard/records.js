// Log records: what a line of the log view is made of, read from the gateway's envelopes; the
// filter over them; their text and NDJSON forms for downloads.
//
// The event names and payload fields are common/vocabulary.h's, read by the rules its header
// comment states, which the desktop client follows too (desktop/logrecorddecoder.cpp).
// tests/fixtures/records.json holds both clients to one table, and tests/js/records.test.mjs also
// checks the lists below against that header.
//
// A pure module (no DOM), so that node's test runner can import it.

import { compileSelection } from './glob.js';
import { compileRegexFilter, parseRegexQuery } from './regexfilter.js';
import { count, hhmm, millis } from './format.js';

// ---- the vocabulary (common/vocabulary.h) ------------------------------------------------------

// SSE event types; envelopes come as the default, "message".
// Event ids: "<boot>-<seq>" with pub/sub (the gateway's start time in ms and a sequence number:
// ids of one gateway run), "s<ms>-<seq>" with Redis Streams (the entry id: the same on every
// gateway). Returns { epoch, ms, seq }: two ids are ordered when their epochs are equal.
export function parseId(id) {
  const m = /^(s?)(\d+)-(\d+)$/.exec(id || '');
  if (m) {
    return m[1] ? { epoch: 'stream', ms: Number(m[2]), seq: Number(m[3]) }
      : { epoch: Number(m[2]), ms: 0, seq: Number(m[3]) };
  }
  // A position in a stream of several partitions, "c1,<ms>-<seq>,*<ms>-<seq>,...": the entry
  // of the event is the one marked. Such ids order only the history's events (by that entry's
  // id, then partition); live events of several partitions come in the gateway's read order.
  const parts = /^c1,/.test(id || '') ? id.slice(3).split(',') : [];
  const own = parts.findIndex((p) => p.startsWith('*'));
  if (own < 0 || parts.some((p, i) => i !== own && p !== '' && !/^\d+-\d+$/.test(p))) return null;
  const e = /^\*(\d+)-(\d+)$/.exec(parts[own]);
  return e ? { epoch: 'cursor', ms: Number(e[1]), seq: Number(e[2]), partition: own } : null;
}

// Whether id `a` comes after id `b` (both from parseId, of the same epoch).
export function idAfter(a, b) {
  if (a.ms !== b.ms) return a.ms > b.ms;
  if (a.seq !== b.seq) return a.seq > b.seq;
  return (a.partition ?? 0) > (b.partition ?? 0);
}

export const EVENT = Object.freeze({
  message: 'message', gap: 'gap', stats: 'stats', dropped: 'dropped', shutdown: 'shutdown',
});

// Why a gap happened.
export const GAP_REASON = Object.freeze({
  historyExceeded: 'history-exceeded', gatewayRestarted: 'gateway-restarted',
  unknownId: 'unknown-id', redisDisconnected: 'redis-disconnected',
  streamLost: 'redis-restarted-empty', streamTrimmed: 'trimmed',
});

// Payload fields, aliases in priority order.
export const FIELDS = Object.freeze({
  message: ['msg', 'message', 'text', 'event'],
  level: ['level', 'severity', 'lvl', 'levelname'],
  service: ['service', 'service.name'],
  model: ['gen_ai.request.model', 'gen_ai.response.model'],
  errorType: ['error.type'],
  inputTokens: ['gen_ai.usage.input_tokens'],
  outputTokens: ['gen_ai.usage.output_tokens'],
  durationMs: ['duration_ms'],
  ttftMs: ['ttft_ms'],
  // What the producer writes when it reads a log line (README, "Log formats"). The time is the
  // envelope's here; the ids are a line's trace/request chip.
  time: ['ts'],
  requestId: ['request_id'],
  traceId: ['trace_id'],
  spanId: ['span_id'],
});

// Level names, least severe first, and the other names payloads use for them.
export const LEVELS = Object.freeze(['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR', 'FATAL']);
export const LEVEL_ALIASES = Object.freeze({
  DBG: 'DEBUG', VERBOSE: 'DEBUG', INFORMATION: 'INFO', NOTICE: 'INFO', WARNING: 'WARN',
  ERR: 'ERROR', CRITICAL: 'FATAL', CRIT: 'FATAL', PANIC: 'FATAL', EMERG: 'FATAL', ALERT: 'FATAL',
});
export const LEVEL_RANK = Object.freeze(Object.fromEntries(LEVELS.map((name, i) => [name, i + 1])));

export const MSG_DISPLAY_CHARS = 2000; // longer messages are cut in the line (the payload expands whole)
export const MAX_TOKENS = 2147483647; // the largest token count (the desktop keeps 32 bits)

// ---- levels -----------------------------------------------------------------------------------

export function normLevel(v) {
  if (typeof v === 'number') { // pino/bunyan numeric levels
    return v >= 60 ? 'FATAL' : v >= 50 ? 'ERROR' : v >= 40 ? 'WARN' : v >= 30 ? 'INFO'
      : v >= 20 ? 'DEBUG' : 'TRACE';
  }
  if (typeof v !== 'string') return '';
  const s = v.trim().toUpperCase();
  const n = Object.hasOwn(LEVEL_ALIASES, s) ? LEVEL_ALIASES[s] : s;
  return Object.hasOwn(LEVEL_RANK, n) ? n : '';
}

// Plain-text lines: loggers print the level as an upper-case word, or as level=xxx.
const GUESS_WORD = /\b(FATAL|CRITICAL|PANIC|ERROR|WARNING|WARN|INFO|DEBUG|TRACE)\b/;
const GUESS_KV = /\blevel["']?\s*[=:]\s*["']?([a-zA-Z]+)/i;
export function guessLevel(text) {
  const head = text.length > 300 ? text.slice(0, 300) : text;
  const kv = GUESS_KV.exec(head);
  if (kv && normLevel(kv[1])) return normLevel(kv[1]);
  const w = GUESS_WORD.exec(head);
  return w ? normLevel(w[1]) : '';
}

// ---- fields -----------------------------------------------------------------------------------

const isObject = (v) => v !== null && typeof v === 'object' && !Array.isArray(v);
const isScalar = (v) => typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean';
const own = (obj, key) => (Object.hasOwn(obj, key) ? obj[key] : undefined);

// A field by its dotted OpenTelemetry name: flat ("gen_ai.usage.input_tokens": 1), else nested.
export function field(obj, name) {
  const flat = own(obj, name);
  if (flat !== undefined && flat !== null) return flat;
  if (!name.includes('.')) return undefined;
  let v = obj;
  for (const part of name.split('.')) {
    if (!isObject(v)) return undefined;
    v = own(v, part);
  }
  return v;
}

// The value of the first alias that holds a string, a number or a boolean: null, objects and
// arrays are skipped ({"service": {"name": …}} is where service.name lives, not a service).
export function firstOf(obj, aliases) {
  for (const name of aliases) {
    const v = field(obj, name);
    if (isScalar(v)) return v;
  }
  return undefined;
}

// How a field's value reads as text (the desktop writes numbers as String() does too).
function textOf(v) {
  return isScalar(v) ? String(v) : '';
}

// A number, or a string holding a JSON number between JSON whitespace ("12.5", " 3 "); nothing
// looser ("+5", "0x10", ".5", "Infinity").
const JSON_NUMBER = /^[ \t\n\r]*-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?[ \t\n\r]*$/;
export function num(v) {
  const n = typeof v === 'string' && JSON_NUMBER.test(v) ? Number(v) : v;
  return typeof n === 'number' && Number.isFinite(n) ? n + 0 : undefined; // + 0: 0, not -0
}

// Token counts are whole numbers, as the gateway counts them (12.0 is twelve, 12.5 is no count).
export function tokens(v) {
  const n = num(v);
  return Number.isInteger(n) && n >= 0 && n <= MAX_TOKENS ? n : undefined;
}

// JSON text without the whitespace between its tokens: a payload without a message, as its line
// shows it. The desktop does the same to the same bytes (compactJson in logrecorddecoder.cpp).
export function compactJson(json) {
  let out = '';
  let from = 0;
  let inString = false;
  for (let i = 0; i < json.length; i++) {
    const c = json[i];
    if (inString) {
      if (c === '\\') i++;
      else if (c === '"') inString = false;
    } else if (c === '"') {
      inString = true;
    } else if (c === ' ' || c === '\t' || c === '\n' || c === '\r') {
      out += json.slice(from, i);
      from = i + 1;
    }
  }
  return out + json.slice(from);
}

// The payload's JSON text as the gateway wrote it: the envelope's last member. Every string
// before it is escaped, so the first `,"payload":` is the real one.
function payloadText(raw) {
  const at = raw.indexOf(',"payload":');
  const end = raw.lastIndexOf('}');
  return at < 0 || end < at ? null : raw.slice(at + 11, end).replace(/^[ \t\n\r]+|[ \t\n\r]+$/g, '');
}

// The whole message of an object payload: its first message alias, else the payload itself.
function messageOf(p, raw) {
  const m = textOf(firstOf(p, FIELDS.message));
  if (m) return m;
  const json = payloadText(raw);
  return json === null ? JSON.stringify(p) : compactJson(json);
}

// At most MSG_DISPLAY_CHARS UTF-16 code units, never half a surrogate pair.
function cut(s) {
  if (s.length <= MSG_DISPLAY_CHARS) return s;
  const high = s.charCodeAt(MSG_DISPLAY_CHARS - 1);
  const end = high >= 0xd800 && high <= 0xdbff ? MSG_DISPLAY_CHARS - 1 : MSG_DISPLAY_CHARS;
  return s.slice(0, end) + '…';
}

// ---- records ----------------------------------------------------------------------------------

// A record of one message event. `raw` is the envelope exactly as received (for NDJSON and the
// expanded view); everything else is what a line shows.
export function parseRecord(raw, id) {
  let env;
  try {
    env = JSON.parse(raw);
  } catch (err) {
    return markerRecord('error', `unreadable event ${id || ''}: ${err.message}`);
  }
  // The wire format's envelope, as the desktop checks it (Envelope::decode).
  if (!isObject(env) || typeof env.id !== 'string' || typeof env.channel !== 'string' ||
      typeof env.ts !== 'number' || !(typeof env.payload === 'string' || isObject(env.payload))) {
    return markerRecord('error', `unreadable event ${id || ''}: not an envelope`);
  }
  const p = env.payload;
  const rec = {
    kind: 'msg', id: env.id || id || '', ts: env.ts,
    channel: env.channel, level: '', service: '', msg: '', err: '', obj: false,
    model: '', tin: undefined, tout: undefined, dur: undefined, ttft: undefined,
    trace: '', req: '', raw, open: false,
  };
  if (isObject(p)) {
    rec.obj = true;
    rec.msg = messageOf(p, raw);
    rec.level = normLevel(firstOf(p, FIELDS.level)) || guessLevel(rec.msg);
    rec.service = textOf(firstOf(p, FIELDS.service));
    rec.model = textOf(firstOf(p, FIELDS.model));
    rec.err = textOf(firstOf(p, FIELDS.errorType));
    rec.tin = tokens(firstOf(p, FIELDS.inputTokens));
    rec.tout = tokens(firstOf(p, FIELDS.outputTokens));
    rec.dur = num(firstOf(p, FIELDS.durationMs));
    rec.ttft = num(firstOf(p, FIELDS.ttftMs));
    rec.trace = textOf(firstOf(p, FIELDS.traceId));
    rec.req = textOf(firstOf(p, FIELDS.requestId));
  } else {
    rec.msg = p;
    rec.level = guessLevel(rec.msg);
  }
  rec.msg = cut(rec.msg);
  return rec;
}

// A visible, never-filtered line about the stream itself: a gap, a disconnect, a shutdown.
export function markerRecord(kind, text, data = null) {
  return { kind, text, data, ts: Date.now(), id: '' };
}

export function payloadOf(rec) {
  try { return JSON.parse(rec.raw).payload; } catch { return rec.raw; }
}

// Text searched by the filter: the columns and the whole payload (so request ids match too).
function hay(rec) {
  if (rec.hay === undefined) {
    const p = payloadOf(rec);
    rec.hay = `${rec.channel} ${rec.level} ${rec.service} ${typeof p === 'string' ? p : JSON.stringify(p)}`;
  }
  return rec.hay;
}

// The filter of the view: channel globs (as the gateway reads them), level, and text or
// /regex/flags. `error` says why a regex is not used (invalid, or refused as too costly);
// onSuspend(message) is called if a regex spends its time budget (see regexfilter.js).
export function compileMatcher({ channels, q, level }, { onSuspend } = {}) {
  const inSelection = compileSelection(channels);
  const min = LEVEL_RANK[normLevel(level || '')] || 0;
  let regex = null, needle = '', error = '';
  const rq = parseRegexQuery(q);
  if (rq) {
    const filter = compileRegexFilter(rq.source, rq.flags, { onSuspend });
    if (filter.error) error = filter.error;
    else regex = filter;
  } else if (q) {
    needle = q.toLowerCase();
  }
  const match = (rec) => {
    if (rec.kind !== 'msg') return true; // markers are never hidden
    if (!inSelection(rec.channel)) return false;
    if (min && (LEVEL_RANK[rec.level] || 0) < min) return false;
    if (regex) return regex.test(hay(rec));
    if (needle) {
      if (rec.hayLower === undefined) rec.hayLower = hay(rec).toLowerCase();
      return rec.hayLower.includes(needle);
    }
    return true;
  };
  return { match, error };
}

// ---- text forms -------------------------------------------------------------------------------

const shortModel = (m) => m.slice(m.lastIndexOf('/') + 1);

// The id that ties a record to others, for its chip: the trace id, else the request id; null
// when it has neither.
export function idOf(rec) {
  if (rec.trace) return { name: FIELDS.traceId[0], value: rec.trace };
  if (rec.req) return { name: FIELDS.requestId[0], value: rec.req };
  return null;
}

// The filter text that shows the lines of one id (a click on its chip): the id as a JSON string,
// quotes included, so that "r-42" finds the records whose field is r-42 and not r-421.
export function idFilter(value) {
  return JSON.stringify(value);
}

const shortId = (v) => (v.length > 10 ? v.slice(0, 8) + '…' : v);

// The LLM columns of a line: [kind, text shown, title].
export function chips(rec) {
  const out = [];
  if (rec.model) out.push(['model', shortModel(rec.model), rec.model]);
  if (rec.tin !== undefined || rec.tout !== undefined) {
    const a = rec.tin !== undefined ? count(rec.tin) : '?';
    const b = rec.tout !== undefined ? count(rec.tout) : '…';
    out.push(['tok', `${a} → ${b}`, `tokens in ${rec.tin ?? '?'}, out ${rec.tout ?? '?'}`]);
  }
  if (rec.dur !== undefined) out.push(['dur', millis(rec.dur), `duration ${rec.dur} ms`]);
  if (rec.ttft !== undefined) out.push(['ttft', millis(rec.ttft), `time to first token ${rec.ttft} ms`]);
  const id = idOf(rec);
  if (id) out.push(['id', shortId(id.value), `${id.name} ${id.value}`]);
  return out;
}

export function toText(rec) {
  const time = new Date(rec.ts).toISOString();
  if (rec.kind !== 'msg') return `${time} -- ${rec.text}`;
  const p = payloadOf(rec);
  const msg = rec.obj ? messageOf(p, rec.raw) : textOf(p);
  const extra = chips(rec).map(([k, , title]) => {
    if (k === 'model') return 'model=' + rec.model;
    if (k === 'id') return `${idOf(rec).name}=${idOf(rec).value}`;
    return title;
  });
  if (rec.err) extra.unshift('error.type=' + rec.err);
  return [time, rec.channel, rec.level || '-', rec.service || '-', msg, ...extra].join(' ');
}

export function toNdjson(rec) {
  if (rec.kind !== 'msg') return JSON.stringify({ event: rec.kind, ts: rec.ts, message: rec.text, data: rec.data });
  // An object payload keeps the producer's bytes, which may include line breaks.
  return rec.raw.includes('\n') || rec.raw.includes('\r') ? JSON.stringify(JSON.parse(rec.raw)) : rec.raw;
}

// ---- history (GET /api/history) ---------------------------------------------------------------
// Older lines come from the gateway's history, a page at a time: {"events": [envelopes, oldest
// first], "before": id of the next older page or null, "scanned", "stopped", "transport"}.

export const HISTORY_PAGE = 200; // envelopes asked for per request (the gateway allows 1..1000)

// The URL of a page of history: the selection as /events takes it, `before` an event id (none:
// the newest page), `q` the filter box's text (text, or /regex/flags).
export function historyUrl({ channels = '', before = '', q = '', limit = HISTORY_PAGE } = {}) {
  const p = new URLSearchParams();
  if (channels) p.set('channels', channels);
  if (before) p.set('before', before);
  if (q) p.set('q', q);
  p.set('limit', String(limit));
  // As stream.js: the gateway (QUrlQuery) reads '+' as a '+', so spaces go as %20.
  return 'api/history?' + p.toString().replace(/\+/g, '%20');
}

// Index of the quote closing the JSON string that opens at `at`, or -1.
function stringEnd(text, at) {
  for (let k = at + 1; k < text.length; k++) {
    const c = text.charCodeAt(k);
    if (c === 0x5c) k++;
    else if (c === 0x22) return k;
  }
  return -1;
}

// The JSON text of each element of the array under the top-level member `name` of `text` (a
// JSON object), exactly as written; null when there is no such array. Records keep the
// envelope's own bytes (for the payload as the producer wrote it, and for NDJSON), as live
// events do; re-serializing the parsed object would reorder keys such as "2" and rewrite
// numbers such as 1.0.
export function rawArrayMember(text, name) {
  const key = JSON.stringify(name);
  let depth = 0, last = '';
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '"') {
      const end = stringEnd(text, i);
      if (end < 0) return null;
      // At depth 1 the string before a '[' is that array's key.
      if (depth === 1) last = text.slice(i, end + 1);
      i = end;
    } else if (c === '{' || c === '[') {
      if (depth === 1 && c === '[' && last === key) return arrayElements(text, i);
      depth++;
    } else if (c === '}' || c === ']') {
      depth--;
    }
  }
  return null;
}

function arrayElements(text, open) {
  const out = [];
  let depth = 0, from = open + 1;
  for (let i = open + 1; i < text.length; i++) {
    const c = text[i];
    if (c === '"') {
      i = stringEnd(text, i);
      if (i < 0) return null;
    } else if (c === '{' || c === '[') {
      depth++;
    } else if ((c === '}' || c === ']') && depth > 0) {
      depth--;
    } else if (depth === 0 && (c === ',' || c === ']')) {
      const el = text.slice(from, i).trim();
      if (el) out.push(el);
      if (c === ']') return out;
      from = i + 1;
    }
  }
  return null;
}

// A page of history as records (oldest first) with where it stopped; throws an Error saying
// what is wrong with a body that is not such a page.
export function parseHistory(text) {
  let body;
  try {
    body = JSON.parse(text);
  } catch (err) {
    throw new Error(`the gateway's history answer is not JSON: ${err.message}`);
  }
  if (!isObject(body) || !Array.isArray(body.events) ||
      !(body.before === null || typeof body.before === 'string')) {
    throw new Error('the gateway\'s history answer has no "events" list or "before" id');
  }
  const raws = rawArrayMember(text, 'events');
  const exact = raws !== null && raws.length === body.events.length;
  const records = body.events.map((env, i) => parseRecord(exact ? raws[i] : JSON.stringify(env),
                                                          isObject(env) ? env.id : ''));
  return {
    records, before: body.before, scanned: Number(body.scanned) || 0,
    stopped: typeof body.stopped === 'string' ? body.stopped : '',
    transport: typeof body.transport === 'string' ? body.transport : '',
  };
}

// The id of the oldest message in `list` (records in view order), or ''.
export function oldestMessageId(list) {
  for (const rec of list) if (rec.kind === 'msg' && parseId(rec.id)) return rec.id;
  return '';
}

// The records of an older page (oldest first) that may go above `shown` (in view order): messages
// older than the oldest message shown and of its id epoch, none already shown, in strictly
// increasing id order. Nothing is shown twice and nothing out of order, whatever the page holds.
export function olderRecords(shown, page) {
  const seen = new Set();
  let oldest = null;
  for (const rec of shown) {
    if (rec.kind !== 'msg') continue;
    const id = parseId(rec.id);
    if (id && !oldest) oldest = id;
    seen.add(rec.id);
  }
  const out = [];
  let prev = null;
  for (const rec of page) {
    const id = rec.kind === 'msg' ? parseId(rec.id) : null;
    if (!id || seen.has(rec.id)) continue;
    // (Positions of several partitions: the gateway's before= already left out what is shown.)
    if (oldest && (id.epoch !== oldest.epoch || (id.epoch !== 'cursor' && !idAfter(oldest, id)))) continue;
    if (prev && (id.epoch !== prev.epoch || !idAfter(id, prev))) continue;
    seen.add(rec.id);
    out.push(rec);
    prev = id;
  }
  return out;
}

// What an answer of /api/history other than 200 means, in plain words.
export function historyError(status, body) {
  const reason = String(body || '').trim();
  if (status === 401) return 'sign-in required to read the history (reload the page)';
  return `the gateway refused the history request (HTTP ${status})` + (reason ? `: ${reason}` : '');
}

// ---- delivery badge ---------------------------------------------------------------------------

// The header's account of completeness: `since` is when the view started receiving (ms), `gap`
// the last gap event ({at, reason, message}) or null. Returns { state, text, title }.
export function deliveryBadge({ since, gap }) {
  if (gap) {
    const what = gap.reason || 'unknown';
    const message = gap.message || 'events were lost';
    return {
      state: 'gap',
      text: `gap at ${hhmm(gap.at)}: ${what} · ${message}`,
      title: `Events are missing at ${hhmm(gap.at)} (${what}): ${message}. ` +
        `Complete since then: every event after the gap has arrived.`,
    };
  }
  if (!since) return { state: 'waiting', text: 'not receiving yet', title: 'No stream received yet.' };
  return {
    state: 'complete',
    text: `complete since ${hhmm(since)}`,
    title: `Complete since ${hhmm(since)}: every event since this view started receiving has ` +
      'arrived, with no gap.',
  };
}
