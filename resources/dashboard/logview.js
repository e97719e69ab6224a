// The log view: keeps a bounded store of records (records.js) and renders the newest matching
// ones (at most `max` lines) into the DOM, batched (at most ten updates a second).
//
// Everything from the stream is inserted with textContent, never as HTML.
//
// Following vs paused: while following, new lines are appended and the view sticks to the
// bottom. Scrolling up (or expanding a line) pauses: the DOM is then frozen, so the line being
// read cannot move or be dropped, and new lines are only counted. Going live rebuilds the view
// from the store. While paused, older lines (from the gateway's history) can be put above the
// ones shown (prepend()); reaching the top calls onTop, which is where the page asks for them.
//
// A view made with `live: false` (the history search's results) never follows: it shows the
// records it is given with render() and prepend(), nothing else.

import { chips, idOf, payloadOf } from './records.js';
import { clock } from './format.js';

// ---- the view ---------------------------------------------------------------------------------

class Ring {
  constructor(capacity) {
    this.cap = capacity;
    this.clear();
  }
  clear() {
    this.buf = new Array(this.cap);
    this.start = 0;
    this.size = 0;
  }
  push(x) {
    if (this.size < this.cap) {
      this.buf[(this.start + this.size++) % this.cap] = x;
    } else {
      this.buf[this.start] = x;
      this.start = (this.start + 1) % this.cap;
    }
  }
  at(i) { return this.buf[(this.start + i) % this.cap]; } // 0 = oldest
}

function span(cls, text) {
  const s = document.createElement('span');
  s.className = cls;
  s.textContent = text;
  return s;
}

const CHUNK = 25; // lines per chunk element (see append())
// At most ten DOM updates a second. Each update costs the page a fixed price (style, layout,
// paint of the view, the scroll to the bottom) on top of the price per line; at thousands of
// lines a second, updating on every animation frame spent most of the main thread on that fixed
// price, and clicks waited behind it. A line after a quiet spell still shows at the next frame.
const MIN_UPDATE_MS = 100;
const LINE_PX = 20; // height of every line, as in style.css
// Lines nearer the bottom than this (or a view's height, whichever is more) are built at once;
// older ones of a large batch wait in placeholder chunks until they come near the view.
const TAIL_LINES_MIN = 100;

// Full chunks are sized by the stylesheet; a partial one gets its exact height inline.
// A chunk holding an expanded line (of unknown height) is always rendered.
function markOpen(chunk) {
  chunk.classList.toggle('has-open', !!chunk.querySelector(':scope > .line.open'));
}

function sizeChunk(chunk) {
  const n = chunk.childElementCount;
  chunk.style.containIntrinsicBlockSize = n === CHUNK ? '' : n * LINE_PX + 'px';
}

const CHIP_KINDS = ['model', 'tok', 'dur', 'ttft', 'id'];
function template(withChips) {
  const div = document.createElement('div');
  div.className = withChips ? 'line llm' : 'line';
  for (const cls of ['t', 'c', 'l', 's', 'm']) div.append(span(cls, ''));
  if (withChips) {
    const box = document.createElement('span');
    box.className = 'x';
    for (const kind of CHIP_KINDS) box.append(span('chip ' + kind, ''));
    div.append(box);
  }
  return div;
}
const LINE = template(false);
const LLM_LINE = template(true);

export class LogView {
  // max: lines rendered at most; the store keeps `storeFactor` times as many records so that a
  // new filter has something to show.
  constructor(el, { max, storeFactor = 4, channelClass, onUpdate, onTop = null, onId = null,
                    live = true }) {
    this.el = el;
    this.live = live;
    this.onTop = onTop;
    this.onId = onId; // a click on a line's trace/request chip, with the id
    this.max = max;
    this.store = new Ring(max * storeFactor);
    this.channelClass = channelClass; // name -> colour class, shared with the charts
    this.onUpdate = onUpdate;
    this.shown = []; // records rendered, in DOM order (one .line each)
    this.pending = []; // matching records waiting for the next frame
    this.following = live;
    this.newWhilePaused = 0;
    this.match = () => true;
    this.frameQueued = false;
    this.lastFlush = -Infinity; // performance.now() of the last update
    // Placeholder chunks: a chunk element of the right height whose lines are not built yet
    // (see append()), with its records; built when it comes within a view's height of the view.
    this.lazy = new Map();
    this.tailLines = TAIL_LINES_MIN;
    this.nearView = new IntersectionObserver((entries) => {
      for (const e of entries) if (e.isIntersecting) this.build(e.target);
    }, { root: el, rootMargin: '100% 0px' });
    new ResizeObserver(() => {
      this.tailLines = Math.max(TAIL_LINES_MIN, 2 * Math.ceil(el.clientHeight / LINE_PX));
    }).observe(el);
    this.autoTop = 0; // scrollTop we set ourselves; a scroll above it is the user's
    this.placedTop = -1; // scrollTop prepend() set: no scroll of the user's
    el.addEventListener('scroll', () => this.onScroll(), { passive: true });
    el.addEventListener('click', (e) => this.onClick(e));
  }

  add(rec) {
    this.store.push(rec);
    if (!this.match(rec)) return;
    if (this.following) {
      this.pending.push(rec);
      // Frames can stall (background tab): what waits is bounded too.
      if (this.pending.length > 2 * this.max) this.pending.splice(0, this.pending.length - this.max);
    } else {
      this.newWhilePaused++;
    }
    this.schedule();
  }

  schedule() {
    if (this.frameQueued) return;
    this.frameQueued = true;
    const wait = this.lastFlush + MIN_UPDATE_MS - performance.now();
    if (wait > 0) setTimeout(() => requestAnimationFrame(() => this.flush()), wait);
    else requestAnimationFrame(() => this.flush());
  }

  flush() {
    this.frameQueued = false;
    this.lastFlush = performance.now();
    if (this.following && this.pending.length) {
      const batch = this.pending;
      this.pending = [];
      if (batch.length >= this.max) {
        this.render(batch.slice(-this.max));
      } else {
        this.append(batch);
        for (const rec of batch) this.shown.push(rec);
        const excess = this.shown.length - this.max;
        if (excess > 0) {
          this.removeOldest(excess);
          this.shown.splice(0, excess);
        }
        this.stickToBottom();
      }
    }
    this.onUpdate();
  }

  // The DOM is #log > .chunk × n > .line × CHUNK. Chunks, not lines, carry
  // `content-visibility: auto`: the browser skips style, layout and paint of every chunk out of
  // view, and tracks a hundred chunks rather than thousands of lines. Every line is exactly
  // LINE_PX high (an expanded line makes its chunk always rendered), so a chunk's size is known
  // without rendering it: full chunks get it from the stylesheet, partial ones from sizeChunk().
  //
  // In a flood most lines of a batch scroll out of view in the frame they arrive: building them
  // was most of the page's work, and a busy machine fell behind. So only the newest `tailLines`
  // of a batch are built; the older ones go into placeholder chunks (one empty element of the
  // same height each), built when they come near the view (this.nearView). The browser's find
  // in page does not see lines not built yet; the downloads (from `shown`) have them all.
  append(records) {
    let last = this.el.lastElementChild;
    let room = last && !this.lazy.has(last) ? CHUNK - last.childElementCount : 0;
    if (room > 0) {
      const frag = document.createDocumentFragment();
      for (let i = 0; i < room && i < records.length; i++) frag.append(this.node(records[i]));
      last.append(frag);
      sizeChunk(last);
      markOpen(last);
    }
    if (records.length <= room) return;
    const buildFrom = records.length - this.tailLines; // records before it wait in placeholders
    const chunks = document.createDocumentFragment();
    for (let i = Math.max(room, 0); i < records.length; i += CHUNK) {
      chunks.append(this.chunk(records, i, Math.min(i + CHUNK, records.length), buildFrom));
    }
    this.el.append(chunks);
  }

  // A chunk of records[from, to): built when it reaches buildFrom, else a placeholder.
  chunk(records, from, to, buildFrom) {
    const chunk = document.createElement('div');
    chunk.className = 'chunk';
    if (to <= buildFrom) {
      this.lazy.set(chunk, records.slice(from, to));
      chunk.style.height = (to - from) * LINE_PX + 'px';
      this.nearView.observe(chunk);
    } else {
      for (let k = from; k < to; k++) chunk.append(this.node(records[k]));
      sizeChunk(chunk);
      markOpen(chunk);
    }
    return chunk;
  }

  // Puts `records` (oldest first, all older than the lines shown) above them, in the same
  // chunks as append(): the newest `tailLines` built, the older ones in placeholders, only the
  // topmost chunk partial. The line in view stays where it is on the screen: the scroll
  // position grows by exactly the height put above it (the log has no scroll anchoring).
  prepend(records) {
    if (!records.length) return;
    const el = this.el;
    const height = el.scrollHeight;
    const top = el.scrollTop;
    const buildFrom = records.length - this.tailLines;
    const chunks = document.createDocumentFragment();
    for (let i = 0, end = records.length % CHUNK || CHUNK; i < records.length; i = end, end += CHUNK) {
      chunks.append(this.chunk(records, i, end, buildFrom));
    }
    el.prepend(chunks);
    this.shown = records.concat(this.shown);
    el.scrollTop = top + (el.scrollHeight - height);
    this.placedTop = el.scrollTop;
    if (this.following) this.stickToBottom();
    this.onUpdate();
  }

  // Builds the lines of a placeholder chunk.
  build(chunk) {
    const records = this.lazy.get(chunk);
    if (!records) return;
    this.forget(chunk);
    chunk.style.height = '';
    const frag = document.createDocumentFragment();
    for (const rec of records) frag.append(this.node(rec));
    chunk.append(frag);
    sizeChunk(chunk);
    markOpen(chunk);
  }

  forget(chunk) {
    this.lazy.delete(chunk);
    this.nearView.unobserve(chunk);
  }

  // Lines in a chunk, built or not.
  linesIn(chunk) {
    return this.lazy.get(chunk)?.length ?? chunk.childElementCount;
  }

  removeOldest(n) {
    while (n > 0) {
      const first = this.el.firstElementChild;
      const waiting = this.lazy.get(first);
      const count = this.linesIn(first);
      if (count <= n) {
        if (waiting) this.forget(first);
        first.remove();
        n -= count;
      } else if (waiting) {
        waiting.splice(0, n);
        first.style.height = waiting.length * LINE_PX + 'px';
        n = 0;
      } else {
        const range = document.createRange();
        range.setStartBefore(first.firstChild);
        range.setEndAfter(first.children[n - 1]);
        range.deleteContents();
        sizeChunk(first);
        n = 0;
      }
    }
  }

  // Replaces the DOM with `list` (records, oldest first).
  render(list) {
    this.el.replaceChildren();
    this.nearView.disconnect();
    this.lazy.clear();
    this.append(list);
    this.shown = list;
    if (this.following) this.stickToBottom();
    else if (!this.live) this.el.scrollTop = this.el.scrollHeight; // the newest results first
  }

  // The newest `max` matching records of the store.
  rebuild() {
    const list = [];
    for (let i = this.store.size - 1; i >= 0 && list.length < this.max; i--) {
      const rec = this.store.at(i);
      if (this.match(rec)) list.push(rec);
    }
    list.reverse();
    this.pending = [];
    this.render(list);
    this.onUpdate();
  }

  stickToBottom(again = 2) {
    this.el.scrollTop = this.el.scrollHeight;
    this.autoTop = this.el.scrollTop;
    // Safety net: should anything below change height in the next frames (fonts, an expanded
    // line being laid out), the bottom moves; follow it.
    if (again > 0) {
      requestAnimationFrame(() => {
        const el = this.el;
        if (this.following && el.scrollHeight - el.scrollTop - el.clientHeight >= 1) this.stickToBottom(again - 1);
      });
    }
  }

  setMatcher(match) {
    this.match = match;
    this.following = true;
    this.newWhilePaused = 0;
    this.rebuild();
  }

  pause() {
    if (!this.following) return;
    this.following = false;
    this.newWhilePaused = this.pending.length; // arrived, never rendered
    this.pending = [];
    this.onUpdate();
  }

  goLive() {
    if (!this.live) return;
    const was = this.following;
    this.following = true;
    this.newWhilePaused = 0;
    if (was) {
      this.stickToBottom();
      this.onUpdate();
    } else {
      this.rebuild();
    }
  }

  clear() {
    this.following = this.live;
    this.store.clear();
    this.pending = [];
    this.newWhilePaused = 0;
    this.render([]);
    this.onUpdate();
  }

  onScroll() {
    const el = this.el;
    const top = el.scrollTop;
    const atBottom = el.scrollHeight - top - el.clientHeight < 4;
    // Lines put above a view paused at the bottom (by "Load older") leave it at the bottom: that
    // is no reason to go live and drop them.
    if (top === this.placedTop) {
      this.placedTop = -1;
      return;
    }
    this.placedTop = -1;
    if (this.following) {
      // Our own scrolls land at autoTop; content only ever grows below it. Anything above
      // autoTop is the user scrolling up.
      if (!atBottom && top < this.autoTop - 2) this.pause();
    } else if (atBottom && this.live) {
      this.goLive();
      return;
    }
    // Paused at the top (one scroll up to the top pauses first): time for older lines.
    if (!this.following && top < 2 * LINE_PX) this.onTop?.();
  }

  onClick(e) {
    if (e.target.closest('.detail')) return; // selecting text in an expanded payload
    const line = e.target.closest('.line');
    if (!line || line.parentElement?.parentElement !== this.el) return;
    if (String(getSelection() || '')) return; // the user is selecting text, not clicking
    const rec = this.recordOf(line);
    // The trace/request chip filters to its id instead of opening the line.
    if (e.target.closest('.chip.id') && this.onId && idOf(rec)) {
      this.onId(idOf(rec).value);
      return;
    }
    rec.open = !rec.open;
    if (rec.open) {
      line.classList.add('open');
      line.append(this.detail(rec));
      this.pause(); // keep the line in place while it is read
    } else {
      line.classList.remove('open');
      line.querySelector('.detail')?.remove();
    }
    markOpen(line.parentElement);
  }

  detail(rec) {
    const box = document.createElement('div');
    box.className = 'detail';
    const p = payloadOf(rec);
    box.append(
      span('meta', `id ${rec.id} · ${rec.channel} · received ${new Date(rec.ts).toISOString()}`),
      Object.assign(document.createElement('pre'), {
        className: 'payload',
        textContent: typeof p === 'string' ? p : JSON.stringify(p, null, 2),
      }));
    return box;
  }

  // The record of a rendered line: `shown` is in DOM order, so it is the line's position.
  // Found by counting on a click rather than kept per line: a map from 5,000 elements to their
  // records made every garbage collection trace it.
  recordOf(line) {
    let i = 0;
    for (let chunk = line.parentElement.previousElementSibling; chunk; chunk = chunk.previousElementSibling)
      i += this.linesIn(chunk);
    for (let prev = line.previousElementSibling; prev; prev = prev.previousElementSibling) i++;
    return this.shown[i];
  }

  // Lines are cloned from templates (one native call per line) and filled by walking the
  // elements: this is the hot path at thousands of lines per second, and it touches as few
  // nodes from JavaScript as it can (each one touched costs the garbage collector later).
  node(rec) {
    if (rec.kind !== 'msg') {
      const div = document.createElement('div');
      div.className = 'line marker m-' + rec.kind;
      div.append(span('t', clock(rec.ts)), span('mtext', rec.text));
      return div;
    }
    const cs = chips(rec);
    const div = (cs.length ? LLM_LINE : LINE).cloneNode(true);
    if (rec.level) div.className += ' L-' + rec.level;
    const t = div.firstElementChild;
    const c = t.nextElementSibling;
    const l = c.nextElementSibling;
    const s = l.nextElementSibling;
    const m = s.nextElementSibling;
    t.textContent = clock(rec.ts);
    c.textContent = rec.channel;
    c.className = 'c ' + this.channelClass(rec.channel);
    l.textContent = rec.level || '·';
    s.textContent = rec.service;
    m.textContent = rec.msg;
    if (rec.err) m.prepend(span('etype', rec.err));
    if (cs.length) {
      let box = m.nextElementSibling.firstElementChild;
      for (const kind of CHIP_KINDS) {
        const chip = cs.find((x) => x[0] === kind);
        if (chip) {
          box.textContent = chip[1];
          box.title = chip[2];
        } else {
          box.className += ' none';
        }
        box = box.nextElementSibling;
      }
    }
    if (rec.open) {
      div.classList.add('open');
      div.append(this.detail(rec));
    }
    return div;
  }

  // Message lines currently rendered (markers excluded).
  renderedLines() {
    let n = 0;
    for (const rec of this.shown) if (rec.kind === 'msg') n++;
    return n;
  }
}
