// LLM Streamer dashboard: wires the stream, the log view, the charts and the toolbar together.
// URL parameters: channels (comma-separated names/globs), q (text or /regex/flags), level
// (debug|info|warn|error: that level and above), max (lines rendered, default 5000).
import { Stream } from './stream.js';
import { StackedChart } from './chart.js';
import { LogView } from './logview.js';
import { GAP_REASON, parseRecord, markerRecord, compileMatcher, toNdjson, toText, parseId, idAfter,
         idFilter,
         historyUrl, parseHistory, historyError, oldestMessageId, olderRecords, deliveryBadge }
  from './records.js';
import { count, formatRate } from './format.js';

const $ = (id) => document.getElementById(id);
const params = new URLSearchParams(location.search);
const MAX_LINES = Math.min(100000, Math.max(100, parseInt(params.get('max'), 10) || 5000));

const filters = {
  channels: params.get('channels') || '',
  q: params.get('q') || '',
  level: (params.get('level') || '').toLowerCase(),
};

// ---- channel colours: stable per name, shared by the log and the charts -----------------------
// The palette lives in style.css (--ch0 … --ch9, classes .k0 … .k9).

const PALETTE_SIZE = 10;
const channelIndex = new Map();
function channelClass(name) {
  let i = channelIndex.get(name);
  if (i === undefined) {
    let h = 2166136261; // FNV-1a
    for (let k = 0; k < name.length; k++) h = Math.imul(h ^ name.charCodeAt(k), 16777619);
    i = (h >>> 0) % PALETTE_SIZE;
    channelIndex.set(name, i);
  }
  return 'k' + i;
}
let palette = null;
function colorFor(name) {
  if (!palette) {
    const css = getComputedStyle(document.documentElement);
    palette = Array.from({ length: PALETTE_SIZE }, (_, i) => css.getPropertyValue('--ch' + i).trim() || '#888');
  }
  return palette[Number(channelClass(name).slice(1))];
}

// ---- views ------------------------------------------------------------------------------------

const logEl = $('log');
// Reaching the top while paused loads older lines; after a refusal only the button asks again
// (each scroll event would otherwise repeat the request).
const view = new LogView(logEl, { max: MAX_LINES, channelClass, onUpdate: updateCounters,
                                  onTop: () => { if (!olderState().error) loadOlder(); },
                                  onId: (id) => showId(id) });
// The history search's results (see "history search" below): a view that never follows.
const results = new LogView($('results'), { max: MAX_LINES, channelClass, live: false,
                                            onUpdate: () => {}, onId: (id) => showId(id) });
const rateChart = new StackedChart($('chart-rate'), $('legend-rate'), { colorFor, unit: '/s' });
const tokenChart = new StackedChart($('chart-tokens'), $('legend-tokens'), { colorFor, unit: '/s' });

function updateCounters() {
  const n = view.renderedLines();
  $('lines-count').textContent = `${n.toLocaleString('en-US')} ${n === 1 ? 'line' : 'lines'}` +
    (n >= MAX_LINES ? ' (max)' : '');
  const paused = !view.following;
  $('pausebar').hidden = !paused;
  $('pause').textContent = paused ? 'Resume' : 'Pause';
  $('pause').classList.toggle('active', paused);
  if (paused) {
    const k = view.newWhilePaused;
    $('paused-text').textContent = `Paused · ${k.toLocaleString('en-US')} new ${k === 1 ? 'line' : 'lines'}`;
  }
  $('empty').hidden = view.shown.length > 0;
  showOlder();
  stream.persist(); // once per frame, not once per event
}

// ---- filters and the shareable URL ------------------------------------------------------------

function applyFilters() {
  const { match, error } = compileMatcher(filters, { onSuspend: onRegexSuspended });
  showFilterNote(error, error ? 'error' : '');
  view.setMatcher(match);
  syncUrl();
}

// A click on a trace/request chip: the lines of that id, through the filter box (so the id shows
// there, goes into the URL, and Escape clears it).
function showId(id) {
  if (searching()) leaveSearch();
  qInput.value = idFilter(id);
  filters.q = qInput.value;
  applyFilters();
}

// A regex that spent its time budget now lets every line through (see regexfilter.js).
function onRegexSuspended(message) {
  showFilterNote(message, 'suspended');
  // Called in the middle of a pass over the lines: redraw them, unfiltered, once it is over.
  setTimeout(() => { if (view.following) view.rebuild(); });
}

// Says under the filter box why it is not applied: an invalid or refused regex, or a suspended one.
function showFilterNote(text, kind) {
  const q = $('q'), note = $('q-note');
  q.classList.toggle('invalid', kind === 'error');
  q.classList.toggle('suspended', kind === 'suspended');
  q.title = text || 'plain text (any case), or /regex/flags';
  note.textContent = text;
  note.dataset.kind = kind;
  note.hidden = !text;
}

function syncUrl() {
  // Readable URLs: keep : , / * unescaped, they are harmless in a query value.
  const enc = (v) => encodeURIComponent(v).replace(/%(3A|2C|2F)/g, (s) => decodeURIComponent(s));
  const parts = [];
  for (const [key, value] of new URLSearchParams(location.search)) {
    if (!(key in filters)) parts.push(enc(key) + '=' + enc(value));
  }
  for (const key of ['channels', 'q', 'level']) {
    if (filters[key]) parts.push(key + '=' + enc(filters[key]));
  }
  const url = location.pathname + (parts.length ? '?' + parts.join('&') : '') + location.hash;
  history.replaceState(null, '', url);
}

const channelSelect = $('channel');
const levelSelect = $('level');
const qInput = $('q');

function addChannelOption(value, label = value) {
  // "(other)" and "(long names)" are the gateway's aggregate rows, not channels to select.
  if (value.startsWith('(')) return false;
  for (const o of channelSelect.options) if (o.value === value) return false;
  const opt = new Option(label, value);
  // Keep the names sorted after "all channels".
  const after = [...channelSelect.options].slice(1).find((o) => o.value > value);
  channelSelect.add(opt, after || null);
  return true;
}

async function loadChannels() {
  try {
    const res = await fetch('api/channels', { cache: 'no-store' });
    const data = await res.json();
    const allow = data.allowlist || [];
    // Globs of the allowlist are useful selections unless one of them is simply "everything".
    if (allow.length > 1) for (const a of allow) addChannelOption(a, a);
    for (const c of data.channels || []) addChannelOption(c.name);
  } catch { /* the stream's stats will fill the list */ }
}

if (filters.channels) addChannelOption(filters.channels);
channelSelect.value = filters.channels;
levelSelect.value = filters.level;
if (levelSelect.value !== filters.level) filters.level = '';
qInput.value = filters.q;

channelSelect.addEventListener('change', () => {
  filters.channels = channelSelect.value;
  applyFilters();
  view.add(markerRecord('info', filters.channels ? `following ${filters.channels}` : 'following all channels'));
  stream.connect(filters.channels, 'switching channels…');
});
levelSelect.addEventListener('change', () => {
  filters.level = levelSelect.value;
  applyFilters();
});
let qTimer = 0;
qInput.addEventListener('input', () => {
  clearTimeout(qTimer);
  qTimer = setTimeout(() => {
    filters.q = qInput.value;
    applyFilters();
  }, 40); // coalesce keystrokes, still instant to the eye
});
$('toolbar').addEventListener('submit', (e) => e.preventDefault());

// ---- following ------------------------------------------------------------------------------

$('live').addEventListener('click', () => view.goLive());
$('pause').addEventListener('click', () => (view.following ? view.pause() : view.goLive()));
$('clear').addEventListener('click', () => view.clear());
document.addEventListener('keydown', (e) => {
  const typing = e.target.closest?.('input, select, textarea');
  if (e.key === 'End' && !typing && !e.ctrlKey && !e.altKey && !e.metaKey) {
    e.preventDefault();
    if (searching()) leaveSearch();
    view.goLive();
  } else if (e.key === '/' && !typing) {
    e.preventDefault();
    qInput.focus();
    qInput.select();
  } else if (e.key === 'Escape' && e.target === qInput && qInput.value) {
    qInput.value = '';
    qInput.dispatchEvent(new Event('input'));
  }
});

// ---- older lines: scroll-back through the gateway's history ----------------------------------
// Paused at the top of the log (or by "Load older"), the page asks /api/history for the page
// before the oldest line shown, in the channels selected, and puts the lines the filter lets
// through above it (LogView.prepend: same chunks, the line in view stays put). `older` is tied
// to the oldest line shown: when the view is rebuilt (going live, a new filter), it starts over.

const older = { key: null, cursor: '', done: false, loading: false, text: '', error: false };
const OLDER_PAGES = 5; // pages fetched at most per load when the filter lets none through
const MAX_SCROLLBACK = 4 * MAX_LINES; // lines in view at most, older ones loaded included

function olderState() {
  const oldest = oldestMessageId(view.shown);
  if (older.key !== oldest) {
    Object.assign(older, { key: oldest, cursor: oldest, done: false, text: '', error: false });
  }
  return older;
}

function showOlder() {
  const o = olderState();
  const text = o.loading ? 'loading older lines…' : o.text;
  if ($('older-text').textContent !== text) $('older-text').textContent = text;
  $('older').dataset.kind = o.loading ? 'loading' : o.error ? 'error' : o.done ? 'done' : '';
  $('load-older').disabled = o.loading || o.done;
}

// One page of history, or an Error whose message says in plain words what went wrong.
async function fetchHistory(query) {
  let res;
  try {
    res = await fetch(historyUrl(query), { cache: 'no-store' });
  } catch (err) {
    throw new Error(`the gateway is unreachable (${err.message})`);
  }
  const text = await res.text();
  if (res.status !== 200) throw new Error(historyError(res.status, text));
  return parseHistory(text);
}

async function loadOlder() {
  const o = olderState();
  if (o.loading || o.done || searching()) return;
  view.pause(); // the view must hold still while lines go above it
  if (view.shown.length >= MAX_SCROLLBACK) {
    o.text = `the view holds at most ${MAX_SCROLLBACK.toLocaleString('en-US')} lines: ` +
      'search the history, or go live and scroll back again';
    showOlder();
    return;
  }
  o.loading = true;
  showOlder();
  const channels = filters.channels;
  let added = 0, scanned = 0, pages = 0, text = '', error = false;
  try {
    while (!added && !o.done && pages < OLDER_PAGES) {
      const key = o.key;
      const page = await fetchHistory({ channels, before: o.cursor });
      pages++;
      // Gone live, filtered anew or switched channels meanwhile: this page is not for that view.
      if (view.following || key !== oldestMessageId(view.shown) || channels !== filters.channels) {
        return;
      }
      scanned += page.records.length;
      const fresh = olderRecords(view.shown, page.records).filter(view.match)
        .slice(-(MAX_SCROLLBACK - view.shown.length));
      o.done = page.before === null;
      o.cursor = page.before || o.cursor;
      if (fresh.length) {
        o.key = fresh[0].id; // before prepend(), whose update would otherwise start `older` over
        view.prepend(fresh);
        added = fresh.length;
      }
    }
    const lines = (n) => `${n.toLocaleString('en-US')} ${n === 1 ? 'line' : 'lines'}`;
    if (o.done) {
      text = (added ? `${lines(added)} loaded · ` : '') + 'nothing older: this is the start of the gateway\'s history';
    } else if (added) {
      text = `${lines(added)} loaded from the history`;
    } else {
      text = `none of the ${lines(scanned)} before these matches the filter · load older to look further`;
    }
  } catch (err) {
    text = `could not load older lines: ${err.message}`;
    error = true;
  } finally {
    o.loading = false;
  }
  o.text = text;
  o.error = error;
  showOlder();
}

$('load-older').addEventListener('click', () => loadOlder());

// ---- history search ---------------------------------------------------------------------------
// "Search history" asks /api/history for the filter box's text (q: text or /regex/flags, the
// gateway matching "<channel> <payload>") in the channels selected, and shows the matches,
// oldest first, in a panel over the live log that says it is the history. "Search older" goes on
// from the `before` of the last answer, also after the gateway stopped at its scan limit. The live
// view pauses meanwhile (no work for lines nobody sees) and goes live again on the way back if it
// was following.

let search = null; // { q, channels, before, scanned, found, stopped, loading, wasFollowing }

function searching() { return search !== null; }

function describeSelection(q, channels) {
  return `${q ? `“${q}”` : 'every line'} in ${channels || 'all channels'}`;
}

function showSearch() {
  const s = search;
  const n = (v) => v.toLocaleString('en-US');
  let text;
  if (s.loading) {
    text = `searching the history… (${n(s.scanned)} entries examined so far)`;
  } else if (s.error) {
    text = `the search failed: ${s.error}`;
  } else {
    const found = s.found ? `${n(s.found)} ${s.found === 1 ? 'match' : 'matches'}` : 'no matches';
    text = `${found} · ${n(s.scanned)} history entries examined`;
    if (s.before === null) {
      text += ' · reached the oldest entry the gateway holds: nothing older';
    } else if (s.stopped === 'scan-limit') {
      text += ` · the gateway stopped after examining ${n(s.lastScanned)} entries (its limit per ` +
        'request): search older to go on';
    } else {
      text += ' · search older for more';
    }
  }
  $('results-text').textContent = text;
  $('results-text').dataset.kind = s.error ? 'error' : '';
  $('search-older').disabled = s.loading || s.before === null;
}

async function runSearch(fresh) {
  if (fresh) {
    if (!search) {
      search = { wasFollowing: view.following };
      view.pause();
    }
    Object.assign(search, { q: qInput.value, channels: filters.channels, before: '', scanned: 0,
                            lastScanned: 0, found: 0, stopped: '', loading: false, error: '',
                            run: (search.run || 0) + 1 });
    results.render([]);
    $('results-what').textContent = `in the gateway's history, not the live stream · ${describeSelection(search.q, search.channels)}`;
    $('results-panel').hidden = false;
    $('results').focus();
  }
  const s = search;
  if (!s || s.loading || s.before === null) return;
  const run = s.run;
  s.loading = true;
  s.error = '';
  showSearch();
  try {
    const page = await fetchHistory({ channels: s.channels, q: s.q, before: s.before });
    if (search !== s || s.run !== run) return; // left, or searched anew, meanwhile
    const found = olderRecords(results.shown, page.records);
    if (results.shown.length) results.prepend(found);
    else results.render(found);
    s.found += found.length;
    s.scanned += page.scanned;
    s.lastScanned = page.scanned;
    s.stopped = page.stopped;
    s.before = page.before;
  } catch (err) {
    if (search !== s || s.run !== run) return;
    s.error = err.message;
  } finally {
    if (search === s && s.run === run) s.loading = false;
  }
  if (search === s) showSearch();
}

function leaveSearch() {
  if (!search) return;
  const { wasFollowing } = search;
  search = null;
  $('results-panel').hidden = true;
  results.render([]);
  if (wasFollowing) view.goLive();
  else updateCounters();
  logEl.focus();
}

$('search').addEventListener('click', () => runSearch(true));
$('search-older').addEventListener('click', () => runSearch(false));
$('back-live').addEventListener('click', () => leaveSearch());

// ---- downloads --------------------------------------------------------------------------------

// What is in view: the search's results while they are shown.
function download(ext) {
  const lines = (searching() ? results : view).shown.map(ext === 'ndjson' ? toNdjson : toText);
  const blob = new Blob([lines.join('\n') + (lines.length ? '\n' : '')],
                        { type: ext === 'ndjson' ? 'application/x-ndjson' : 'text/plain' });
  const stamp = new Date().toISOString().replace(/[-:]/g, '').replace(/\..*/, '').replace('T', '-');
  const a = document.createElement('a');
  a.href = URL.createObjectURL(blob);
  a.download = `llmstreamer-${stamp}.${ext === 'ndjson' ? 'ndjson' : 'log'}`;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(a.href), 30000);
}
$('dl-ndjson').addEventListener('click', () => download('ndjson'));
$('dl-text').addEventListener('click', () => download('text'));

// ---- theme ------------------------------------------------------------------------------------

const THEMES = ['auto', 'light', 'dark'];
const THEME_LABEL = { auto: '◐ auto', light: '☀ light', dark: '☾ dark' };
function currentTheme() { return document.documentElement.dataset.theme || 'auto'; }
function showTheme() {
  $('theme').textContent = THEME_LABEL[currentTheme()];
  rateChart.draw();
  tokenChart.draw();
}
$('theme').addEventListener('click', () => {
  const next = THEMES[(THEMES.indexOf(currentTheme()) + 1) % THEMES.length];
  if (next === 'auto') delete document.documentElement.dataset.theme;
  else document.documentElement.dataset.theme = next;
  try {
    if (next === 'auto') localStorage.removeItem('llmstreamer.theme');
    else localStorage.setItem('llmstreamer.theme', next);
  } catch { /* not persisted */ }
  showTheme();
});
matchMedia('(prefers-color-scheme: dark)').addEventListener('change', showTheme);

// ---- connection status ------------------------------------------------------------------------
// What the header says is composed from: the stream's state, Redis's state (from stats), and a
// short-lived note after a reconnect ("nothing missed" or "after a gap").

const status = { state: 'connecting', text: 'connecting…', redisDown: false, redisReason: '',
                 note: null, awaitingFirst: false, lost: false };

function showStatus() {
  let state = status.state, text = status.text;
  if (state === 'live' && status.redisDown) {
    state = 'redis-down';
    text = 'Redis unreachable' + (status.redisReason ? ' · ' + status.redisReason : '') +
      ' · messages published meanwhile are lost';
  } else if (state === 'live' && status.note && status.note.until > Date.now()) {
    text = 'live · ' + status.note.text;
    if (status.note.warn) state = 'live-gap';
  }
  $('status').dataset.state = state;
  $('status-text').textContent = text;
  $('status').title = text;
  // The header's numbers come from the stream: while it is down they are old, and look it.
  document.querySelector('.totals').classList.toggle('stale', !state.startsWith('live') && state !== 'redis-down');
}
setInterval(showStatus, 1000); // expire notes

function note(text, warn, ms) {
  status.note = { text, warn, until: Date.now() + ms };
  showStatus();
}

let redisProbe = 0;
async function learnRedisReason() {
  if (Date.now() - redisProbe < 5000) return;
  redisProbe = Date.now();
  try {
    const r = await (await fetch('readyz', { cache: 'no-store' })).json();
    status.redisReason = r.ready ? '' : (r.reason || '').replace(/^not subscribed to Redis: /, '');
  } catch { /* keep the last reason */ }
  showStatus();
}

// ---- delivery badge ---------------------------------------------------------------------------
// "complete since HH:MM" from the moment this view started receiving, or the last gap the
// gateway announced (events are missing there; complete again since).

const delivery = { since: 0, gap: null };

function showDelivery() {
  const b = deliveryBadge(delivery);
  const el = $('delivery');
  el.hidden = b.state === 'waiting';
  el.dataset.state = b.state;
  el.title = b.title;
  el.setAttribute('aria-label', b.title);
  $('delivery-text').textContent = b.text;
}

function deliveryGap(g) {
  // A Redis outage's gap says when it ended; other gaps are announced as they happen.
  const at = Number.isFinite(g.until) ? g.until : Date.now();
  delivery.gap = { at, reason: String(g.reason || ''), message: String(g.message || '') };
  showDelivery();
}

// ---- the stream -------------------------------------------------------------------------------

let lastSeen = null; // newest message id rendered (parseId)
let wasLive = false;

function firstEvent(isGap) {
  if (!status.awaitingFirst) return;
  status.awaitingFirst = false;
  // A resuming gateway sends its gap (if any) before anything else.
  if (!isGap && status.lost) {
    note('resumed, nothing missed', false, 8000);
    view.add(markerRecord('info', 'reconnected · resumed from the last event, nothing missed'));
  }
  status.lost = false;
}

const stream = new Stream({
  opened(resumed) {
    if (!delivery.since) {
      delivery.since = Date.now();
      showDelivery();
    }
    status.state = 'live';
    status.text = 'live';
    status.awaitingFirst = resumed;
    showStatus();
  },
  status(state, text) {
    // Mark the moment the stream was lost (once per outage; a deliberate switch is no outage).
    if ((state === 'reconnecting' || state === 'unreachable') && status.state === 'live' &&
        wasLive && !status.lost) {
      status.lost = true;
      view.add(markerRecord('lost', `connection lost · ${text}`));
    }
    status.state = state;
    status.text = text;
    showStatus();
  },
  message(data, id) {
    firstEvent(false);
    wasLive = true;
    const pid = parseId(id);
    if (pid) {
      // Never show an event twice, whatever the reconnect path.
      // (Not for positions of several partitions, which the gateway sends in its read order.)
      if (lastSeen && pid.epoch === lastSeen.epoch && pid.epoch !== 'cursor' &&
          !idAfter(pid, lastSeen)) return;
      lastSeen = pid;
    }
    view.add(parseRecord(data, id));
  },
  gap(g) {
    firstEvent(true);
    const missed = typeof g.missed === 'number' ? ` (${g.missed.toLocaleString('en-US')} missed)` : '';
    view.add(markerRecord('gap', `gap · ${g.reason || 'unknown'} · ${g.message || 'events were lost'}${missed}`, g));
    deliveryGap(g);
    note(g.reason === GAP_REASON.redisDisconnected ? 'Redis was down, messages lost' : 'resumed after a gap',
         true, 30000);
  },
  stats(s) {
    firstEvent(false);
    wasLive = true;
    onStats(s);
  },
  dropped(d) {
    view.add(markerRecord('dropped', `disconnected by the gateway · ${d.message || d.reason || 'too slow'} · resuming`, d));
  },
  shutdown(d) {
    view.add(markerRecord('shutdown', d.reason || 'gateway shutting down', d));
  },
});

let tokensSeen = false;
function onStats(s) {
  const now = Date.now(); // local time: the chart's "now" must not depend on clock skew
  const rates = {}, tokens = {};
  for (const [name, c] of Object.entries(s.channels || {})) {
    rates[name] = Number(c.rate) || 0;
    tokens[name] = Number(c.tokens_rate) || 0;
    if (addChannelOption(name) && channelSelect.value !== filters.channels) {
      channelSelect.value = filters.channels;
    }
  }
  rateChart.push(now, rates);
  tokenChart.push(now, tokens);
  if (!tokensSeen && Number(s.tokens_rate) > 0) {
    tokensSeen = true;
    $('tokens-sub').textContent = 'per channel · last 2 min';
  }
  $('t-rate').textContent = formatRate(Number(s.rate) || 0);
  $('t-tokens').textContent = tokensSeen ? formatRate(Number(s.tokens_rate) || 0) : '–';
  $('t-received').textContent = count(Number(s.received) || 0);
  $('t-clients').textContent = String(s.clients ?? '–');
  const dropped = Number(s.dropped) || 0;
  $('t-dropped-box').hidden = dropped === 0;
  $('t-dropped').textContent = count(dropped);
  const down = s.redis !== undefined && s.redis !== 'connected';
  if (down !== status.redisDown) {
    status.redisDown = down;
    if (!down) status.redisReason = '';
    showStatus();
  }
  if (down) learnRedisReason();
}

// ---- start ------------------------------------------------------------------------------------

applyFilters();
showTheme();
loadChannels();
stream.connect(filters.channels);

// Read-only hook for the end-to-end tests (and the curious): numbers, never the live objects.
Object.defineProperty(window, '__llmstreamer', {
  value: Object.freeze({
    maxLines: () => MAX_LINES,
    renderedLines: () => view.renderedLines(),
    lines: () => view.shown.map((r) => (r.kind === 'msg'
      ? { kind: r.kind, id: r.id, channel: r.channel, level: r.level, msg: r.msg }
      : { kind: r.kind, text: r.text })),
    chartPoints: () => rateChart.points,
    status: () => ({ state: $('status').dataset.state, text: $('status-text').textContent }),
    lastEventId: () => stream.lastId,
    paused: () => !view.following,
    newLines: () => view.newWhilePaused,
    resultLines: () => results.shown.map((r) => ({ kind: r.kind, id: r.id, channel: r.channel, msg: r.msg })),
    searching: () => searching(),
    delivery: () => ({ state: $('delivery').dataset.state, text: $('delivery-text').textContent,
                       title: $('delivery').title }),
  }),
});
