// LLM Streamer dashboard (first version): follows /events, renders payloads as text only,
// batches DOM work per animation frame and keeps at most MAX_LINES lines.
'use strict';
(() => {
  const MAX_LINES = 5000;
  const log = document.getElementById('log');
  const statusEl = document.getElementById('status');
  const rateEl = document.getElementById('rate');
  const countEl = document.getElementById('count');
  const liveBtn = document.getElementById('live');
  let pending = [];
  let following = true;
  let unseen = 0;
  let frameQueued = false;

  function setStatus(text, cls) {
    statusEl.textContent = text;
    statusEl.className = 'status ' + cls;
  }

  function guessLevel(text) {
    const m = /\b(ERROR|WARN(?:ING)?|INFO|DEBUG)\b/.exec(text);
    return m ? m[1].replace('WARNING', 'WARN') : '';
  }

  function lineFor(ev) {
    const div = document.createElement('div');
    div.className = 'line';
    const ts = document.createElement('span');
    ts.className = 'ts';
    ts.textContent = new Date(ev.ts).toISOString().slice(11, 23);
    const ch = document.createElement('span');
    ch.className = 'ch';
    ch.textContent = ev.channel;
    const p = ev.payload;
    let level = '';
    let text;
    if (p !== null && typeof p === 'object') {
      level = String(p.level || '').toUpperCase();
      const parts = [];
      if (p.service) parts.push('[' + p.service + ']');
      parts.push(p.msg !== undefined ? String(p.msg) : JSON.stringify(p));
      if (p['gen_ai.request.model']) parts.push('model=' + p['gen_ai.request.model']);
      if (p['gen_ai.usage.output_tokens'] !== undefined) parts.push('out=' + p['gen_ai.usage.output_tokens']);
      if (p.duration_ms !== undefined) parts.push(p.duration_ms + 'ms');
      text = parts.join(' ');
    } else {
      text = String(p);
      level = guessLevel(text);
    }
    const lvl = document.createElement('span');
    lvl.className = 'lvl lvl-' + level;
    lvl.textContent = level || '-';
    const msg = document.createElement('span');
    msg.textContent = text; // text, never HTML
    div.append(ts, ch, lvl, msg);
    return div;
  }

  function markerFor(text) {
    const div = document.createElement('div');
    div.className = 'line gap';
    div.textContent = '— ' + text + ' —';
    return div;
  }

  function queue(node) {
    pending.push(node);
    if (!frameQueued) {
      frameQueued = true;
      requestAnimationFrame(flush);
    }
  }

  function flush() {
    frameQueued = false;
    if (pending.length > MAX_LINES) pending = pending.slice(-MAX_LINES);
    const frag = document.createDocumentFragment();
    frag.append(...pending);
    if (!following) unseen += pending.length;
    pending = [];
    log.append(frag);
    while (log.childElementCount > MAX_LINES) log.firstElementChild.remove();
    countEl.textContent = log.childElementCount + ' lines';
    if (following) log.scrollTop = log.scrollHeight;
    else liveBtn.textContent = 'Paused · ' + unseen + ' new · Jump to live';
  }

  function goLive() {
    following = true;
    unseen = 0;
    liveBtn.hidden = true;
    log.scrollTop = log.scrollHeight;
  }

  log.addEventListener('scroll', () => {
    const atBottom = log.scrollHeight - log.scrollTop - log.clientHeight < 4;
    if (atBottom && !following) goLive();
    else if (!atBottom && following) {
      following = false;
      liveBtn.hidden = false;
      liveBtn.textContent = 'Paused · 0 new · Jump to live';
    }
  });
  liveBtn.addEventListener('click', goLive);
  document.addEventListener('keydown', (e) => { if (e.key === 'End') goLive(); });

  const params = new URLSearchParams(location.search);
  const url = 'events' + (params.get('channels') ? '?channels=' + encodeURIComponent(params.get('channels')) : '');
  const source = new EventSource(url);
  source.onopen = () => setStatus('live', 'live');
  source.onerror = () => setStatus(source.readyState === EventSource.CLOSED ? 'gateway unreachable' : 'reconnecting…',
                                   'reconnecting');
  source.onmessage = (e) => {
    try { queue(lineFor(JSON.parse(e.data))); } catch (err) { queue(markerFor('unreadable event: ' + err)); }
  };
  source.addEventListener('gap', (e) => {
    let text = 'gap';
    try { text = 'gap: ' + (JSON.parse(e.data).message || 'events were lost'); } catch (err) { /* keep */ }
    queue(markerFor(text));
  });
  source.addEventListener('stats', (e) => {
    try {
      const s = JSON.parse(e.data);
      rateEl.textContent = Math.round(s.rate) + ' msg/s' + (s.redis === 'connected' ? '' : ' · Redis down');
    } catch (err) { /* ignore */ }
  });
})();
