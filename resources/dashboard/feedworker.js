// Reads the gateway's /events stream off the page's main thread (stream.js starts it).
//
// At thousands of events a second, an EventSource on the main thread costs it a task per
// network read and an event dispatch per message: most of its time in a flood, and clicks waited
// behind them. Here the EventSource lives in a worker, which hands the page its events in order,
// in batches (every BATCH_MS at most, BATCH_MAX events at most), and its state changes (open, error) after the events
// that came before them. Messages are tagged with the id of the source they belong to: the page
// ignores those of a source it has closed.
'use strict';

const BATCH_MS = 25;
// The page handles a batch in one task: a bounded batch keeps that task short, so a click never
// waits behind thousands of events (a worker that was kept off the CPU for a moment reads many
// at once).
const BATCH_MAX = 200;

let source = null;
let sourceId = 0;
let batch = [];
let timer = 0;

function flush() {
  clearTimeout(timer);
  timer = 0;
  if (!batch.length) return;
  postMessage({ id: sourceId, kind: 'events', events: batch });
  batch = [];
}

function closeSource() {
  clearTimeout(timer);
  timer = 0;
  batch = [];
  if (source) source.close();
  source = null;
}

function openSource(id, url, types) {
  closeSource();
  sourceId = id;
  const es = new EventSource(url);
  source = es;
  const queue = (type) => (e) => {
    batch.push([type, e.data, e.lastEventId]);
    if (batch.length >= BATCH_MAX) flush();
    else if (!timer) timer = setTimeout(flush, BATCH_MS);
  };
  const state = (kind) => () => {
    flush();
    postMessage({ id, kind, readyState: es.readyState });
  };
  es.onopen = state('open');
  es.onerror = state('error');
  for (const type of types) es.addEventListener(type, queue(type));
}

onmessage = ({ data }) => {
  if (data.cmd === 'open') openSource(data.id, data.url, data.types);
  else if (data.cmd === 'close' && data.id === sourceId) closeSource();
};
