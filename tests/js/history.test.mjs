// The dashboard's reading of GET /api/history and its scroll-back merge, and the header's
// delivery badge (resources/dashboard/records.js): pages go above the lines shown in order, with
// nothing twice, whatever a page holds.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  deliveryBadge, historyError, historyUrl, markerRecord, oldestMessageId, olderRecords, parseHistory,
  parseRecord, rawArrayMember, toNdjson,
} from '../../resources/dashboard/records.js';
import { hhmm } from '../../resources/dashboard/format.js';

const env = (id, payload = `line ${id}`, channel = 'logs:a') =>
  JSON.stringify({ id, channel, ts: 1795564826663, payload });
const rec = (id) => parseRecord(env(id), id);
const ids = (list) => list.map((r) => r.id);

describe('historyUrl', () => {
  it('asks for the newest page without before, and encodes spaces as %20', () => {
    assert.equal(historyUrl(), 'api/history?limit=200');
    assert.equal(historyUrl({ channels: 'logs:*,x', before: 's17-0', q: 'a b+c', limit: 50 }),
                 'api/history?channels=logs%3A*%2Cx&before=s17-0&q=a%20b%2Bc&limit=50');
  });

  it('passes a regex as typed', () => {
    const u = new URL(historyUrl({ q: '/timeout|ERR[0-9]+/i' }), 'http://x/');
    assert.equal(u.searchParams.get('q'), '/timeout|ERR[0-9]+/i');
  });
});

describe('rawArrayMember', () => {
  it('returns each element of the named top-level array as written', () => {
    const text = '{"before":"a[b","events":[ {"id":"1-1","payload":{"2":1.0,"a":"],[}"}} ,\n' +
      '{"id":"1-2","payload":"x\\"]"}],"x":[1]}';
    assert.deepEqual(rawArrayMember(text, 'events'),
                     ['{"id":"1-1","payload":{"2":1.0,"a":"],[}"}}', '{"id":"1-2","payload":"x\\"]"}']);
    assert.deepEqual(rawArrayMember(text, 'x'), ['1']);
  });

  it('finds nothing where there is no such array', () => {
    assert.equal(rawArrayMember('{"events":{"a":[1]}}', 'a'), null);
    assert.equal(rawArrayMember('{"a":"events","b":[]}', 'events'), null);
    assert.deepEqual(rawArrayMember('{"events":[]}', 'events'), []);
    assert.equal(rawArrayMember('{"events":["unterminated', 'events'), null);
  });
});

describe('parseHistory', () => {
  it('reads a page into records that keep the envelope bytes', () => {
    // Key "2" and 1.0: JSON.stringify of the parsed object would write {"2":1,"msg":…}.
    const first = '{"id":"s10-0","channel":"logs:a","ts":10,"payload":{"msg":"hi","2":1.0}}';
    const text = `{"events":[${first},${env('s11-0')}],"before":"s10-0","scanned":2,` +
      '"stopped":"limit","transport":"streams"}';
    const page = parseHistory(text);
    assert.deepEqual(ids(page.records), ['s10-0', 's11-0']);
    assert.equal(page.records[0].raw, first);
    assert.equal(toNdjson(page.records[0]), first);
    assert.equal(page.records[0].msg, 'hi');
    assert.equal(page.records[1].msg, 'line s11-0');
    assert.deepEqual([page.before, page.scanned, page.stopped, page.transport],
                     ['s10-0', 2, 'limit', 'streams']);
  });

  it('reads the end of the history and an empty page', () => {
    const page = parseHistory('{"events":[],"before":null,"scanned":0,"stopped":"start","transport":"pubsub"}');
    assert.deepEqual(page.records, []);
    assert.equal(page.before, null);
    assert.equal(page.stopped, 'start');
  });

  it('says what is wrong with an answer that is no page', () => {
    assert.throws(() => parseHistory('<html>'), /not JSON/);
    assert.throws(() => parseHistory('{"events":{}}'), /no "events" list/);
    assert.throws(() => parseHistory('{"events":[],"before":5}'), /"before" id/);
  });
});

describe('olderRecords', () => {
  const shown = [markerRecord('info', 'following all channels'), rec('5-10'), rec('5-11'), rec('5-12')];

  it('knows the oldest message shown, markers aside', () => {
    assert.equal(oldestMessageId(shown), '5-10');
    assert.equal(oldestMessageId([markerRecord('gap', 'x')]), '');
  });

  it('keeps a page that meets the oldest line', () => {
    assert.deepEqual(ids(olderRecords(shown, ['5-7', '5-8', '5-9'].map(rec))), ['5-7', '5-8', '5-9']);
  });

  it('drops lines already shown, newer than the oldest, repeated or out of order', () => {
    const page = ['5-3', '5-6', '5-4', '5-6', '5-8', '5-10', '5-11', '5-13'].map(rec);
    assert.deepEqual(ids(olderRecords(shown, page)), ['5-3', '5-6', '5-8']);
  });

  it('drops lines of another id epoch and lines that are no messages', () => {
    const page = [rec('4-1'), rec('s1-0'), markerRecord('gap', 'x'), parseRecord('{', '5-2'), rec('5-9')];
    assert.deepEqual(ids(olderRecords(shown, page)), ['5-9']);
  });

  it('orders stream ids by time, then sequence', () => {
    const s = [rec('s2000-0')];
    const page = ['s999-5', 's1000-0', 's1000-3', 's1999-9', 's2000-0'].map(rec);
    assert.deepEqual(ids(olderRecords(s, page)), ['s999-5', 's1000-0', 's1000-3', 's1999-9']);
  });

  it('takes a page of several partitions in its order, before any live position', () => {
    // Live positions come in a gateway's read order: the gateway's before= decides what is older.
    const s = [rec('c1,*5-0,9-0')];
    const page = ['c1,*3-0,', 'c1,3-0,*4-0', 'c1,*6-0,4-0', 'c1,*6-0,4-0', 'c1,5-0,*4-0'].map(rec);
    assert.deepEqual(ids(olderRecords(s, page)), ['c1,*3-0,', 'c1,3-0,*4-0', 'c1,*6-0,4-0']);
  });

  it('takes a whole page when nothing is shown', () => {
    assert.deepEqual(ids(olderRecords([], ['s1-0', 's2-0'].map(rec))), ['s1-0', 's2-0']);
  });

  it('puts consecutive pages together in order with nothing twice', () => {
    // Pages as a gateway might cut them, overlapping by one line.
    let view = ['s90-0', 's91-0', 's92-0'].map(rec);
    const history = Array.from({ length: 95 }, (_, i) => `s${i}-0`);
    for (let before = 90; before > 0;) {
      const page = history.slice(Math.max(0, before - 20), before + 1).map(rec);
      view = olderRecords(view, page).concat(view);
      before -= 20;
    }
    assert.deepEqual(ids(view), history.slice(0, 93));
  });
});

describe('historyError', () => {
  it('says the HTTP status and the gateway\'s reason', () => {
    assert.equal(historyError(400, 'invalid regex in q: missing )\n'),
                 'the gateway refused the history request (HTTP 400): invalid regex in q: missing )');
    assert.equal(historyError(503, ''), 'the gateway refused the history request (HTTP 503)');
    assert.match(historyError(401, 'x'), /sign-in required/);
  });
});

describe('deliveryBadge', () => {
  const at = new Date(2026, 0, 2, 9, 5, 30).getTime();

  it('waits for the stream', () => {
    assert.equal(deliveryBadge({ since: 0, gap: null }).state, 'waiting');
  });

  it('says complete since the view started receiving', () => {
    const b = deliveryBadge({ since: at, gap: null });
    assert.equal(b.state, 'complete');
    assert.equal(b.text, 'complete since 09:05');
    assert.match(b.title, /^Complete since 09:05: every event/);
  });

  it('shows the last gap with its reason and message', () => {
    const b = deliveryBadge({ since: at - 60000, gap: { at, reason: 'trimmed', message: '12 entries were trimmed' } });
    assert.equal(b.state, 'gap');
    assert.equal(b.text, 'gap at 09:05: trimmed · 12 entries were trimmed');
    assert.match(b.title, /missing at 09:05 \(trimmed\): 12 entries were trimmed\. Complete since then/);
    assert.equal(hhmm(at), '09:05');
  });

  it('says something for a gap without reason or message', () => {
    assert.equal(deliveryBadge({ since: at, gap: { at, reason: '', message: '' } }).text,
                 'gap at 09:05: unknown · events were lost');
  });
});
