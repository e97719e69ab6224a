// The dashboard's records (resources/dashboard/records.js) against tests/fixtures/records.json,
// the table tst_logrecorddecoder holds the desktop client to, and its vocabulary against
// common/vocabulary.h: one reading of a payload for both clients.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import {
  EVENT, FIELDS, GAP_REASON, LEVELS, LEVEL_ALIASES, chips, compactJson, compileMatcher, guessLevel,
  idAfter, idFilter, idOf, markerRecord, normLevel, parseId, parseRecord, toNdjson, toText,
} from '../../resources/dashboard/records.js';

const rows = JSON.parse(readFileSync(new URL('../fixtures/records.json', import.meta.url), 'utf8'));
const header = readFileSync(new URL('../../common/vocabulary.h', import.meta.url), 'utf8');

// A fixture string: text, or [[piece, times], ...] for long text.
const text = (v) => (Array.isArray(v) ? v.map(([piece, times]) => piece.repeat(times)).join('') : v);

// What the gateway sends for a published payload (Envelope::encode): an object, trimmed, as it
// came; anything else as a JSON string. (Rows whose payload Qt and JSON.parse would judge
// differently would fail on `obj` in one of the two tests.)
function envelopeOf(payload) {
  const trimmed = payload.replace(/^[ \t\n\r]+|[ \t\n\r]+$/g, '');
  let object = false;
  if (trimmed.startsWith('{')) {
    try {
      const v = JSON.parse(trimmed);
      object = v !== null && typeof v === 'object' && !Array.isArray(v);
    } catch { /* text */ }
  }
  return '{"id":"1795564825851-7","channel":"logs:generation","ts":1795564826663,"payload":' +
    (object ? trimmed : JSON.stringify(payload)) + '}';
}

const KNOWN = ['msg', 'level', 'service', 'model', 'error', 'tin', 'tout', 'dur', 'ttft', 'obj',
  'channel', 'unreadable', 'id'];

describe('records.json', () => {
  it('has rows with unique names', () => {
    assert.ok(rows.length > 100);
    assert.equal(new Set(rows.map((r) => r.name)).size, rows.length);
  });

  for (const row of rows) {
    it(row.name, () => {
      const exp = row.expected;
      for (const key of Object.keys(exp)) assert.ok(KNOWN.includes(key), `unknown expectation ${key}`);
      const raw = row.payload !== undefined ? envelopeOf(text(row.payload)) : text(row.envelope);
      const rec = parseRecord(raw, '7-7');
      if (exp.unreadable) {
        assert.equal(rec.kind, 'error');
        assert.match(rec.text, /^unreadable event/);
        return;
      }
      assert.equal(rec.kind, 'msg');
      assert.deepEqual(
        { msg: rec.msg, level: rec.level, channel: rec.channel, service: rec.service, model: rec.model,
          error: rec.err, tin: rec.tin, tout: rec.tout, dur: rec.dur, ttft: rec.ttft, obj: rec.obj },
        { msg: text(exp.msg), level: exp.level ?? '', channel: exp.channel ?? 'logs:generation',
          service: exp.service ?? '', model: exp.model ?? '', error: exp.error ?? '', tin: exp.tin,
          tout: exp.tout, dur: exp.dur, ttft: exp.ttft, obj: exp.obj ?? false });
      const id = idOf(rec);
      assert.deepEqual(id && [id.name, id.value], exp.id ?? null);
      assert.equal(rec.ts, 1795564826663);
      assert.equal(rec.raw, raw);
    });
  }
});

// The lists of records.js are common/vocabulary.h's, read out of the header.
describe('vocabulary.h', () => {
  const list = (name) => {
    const m = new RegExp(`\\b${name}\\[\\] = \\{([^}]*)\\}`).exec(header);
    assert.ok(m, `${name} in common/vocabulary.h`);
    return [...m[1].matchAll(/QLatin1StringView\("([^"]*)"\)/g)].map((x) => x[1]);
  };

  it('names the same events', () => {
    const events = Object.fromEntries(
      [...header.matchAll(/QByteArrayView (\w+)Event\("([^"]*)"\)/g)].map((m) => [m[1], m[2]]));
    assert.deepEqual(events, { ...EVENT });
  });

  it('gives the same reasons for a gap', () => {
    const reasons = Object.fromEntries(
      [...header.matchAll(/QLatin1StringView (\w+)Gap\("([^"]*)"\)/g)].map((m) => [m[1], m[2]]));
    assert.deepEqual(reasons, { ...GAP_REASON });
  });

  it('has the same fields and aliases, in the same order', () => {
    const fields = Object.fromEntries(
      [...header.matchAll(/QLatin1StringView (\w+)Fields\[\]/g)].map((m) => [m[1], list(`${m[1]}Fields`)]));
    assert.deepEqual(fields, JSON.parse(JSON.stringify(FIELDS)));
  });

  it('has the same level names and aliases', () => {
    assert.deepEqual(list('levelNames'), [...LEVELS]);
    const block = /levelAliases\[\] = \{([\s\S]*?)\n\};/.exec(header);
    assert.ok(block, 'levelAliases in common/vocabulary.h');
    const aliases = Object.fromEntries([...block[1].matchAll(
      /\{QLatin1StringView\("(\w+)"\),\s*QLatin1StringView\("(\w+)"\)\}/g)].map((m) => [m[1], m[2]]));
    assert.deepEqual(aliases, { ...LEVEL_ALIASES });
  });

  it('every field and level name has rows in records.json', () => {
    const payloads = rows.map((r) => text(r.payload ?? '')).join('\n').toLowerCase();
    const words = [...Object.values(FIELDS).flat(), ...LEVELS, ...Object.keys(LEVEL_ALIASES)];
    for (const w of words) assert.ok(payloads.includes(`"${w.toLowerCase()}"`), w);
  });
});

describe('levels', () => {
  it('normalises names, aliases and pino numbers', () => {
    assert.equal(normLevel('warning'), 'WARN');
    assert.equal(normLevel(' Err '), 'ERROR');
    assert.equal(normLevel(45), 'WARN');
    assert.equal(normLevel(null), '');
  });

  it('guesses from plain text', () => {
    assert.equal(guessLevel('x ERROR y'), 'ERROR');
    assert.equal(guessLevel('level=critical'), 'FATAL');
    assert.equal(guessLevel('an error'), '');
  });
});

describe('compactJson', () => {
  it('removes whitespace between tokens only', () => {
    assert.equal(compactJson('{ "a b" : [ 1 ,\n\t2 ] , "c\\" d" : "e\\\\" }'), '{"a b":[1,2],"c\\" d":"e\\\\"}');
    assert.equal(compactJson(''), '');
  });
});

describe('text forms', () => {
  const env = (payload) => envelopeOf(payload);

  it('writes a line of text with the LLM columns', () => {
    const rec = parseRecord(env(JSON.stringify({
      level: 'error', service: 'api', msg: 'failed', 'gen_ai.request.model': 'org/m1',
      'gen_ai.usage.input_tokens': 12, 'gen_ai.usage.output_tokens': 3, duration_ms: 1500,
      'error.type': 'timeout',
    })));
    assert.equal(toText(rec), '2026-11-25T00:00:26.663Z logs:generation ERROR api failed ' +
      'error.type=timeout model=org/m1 tokens in 12, out 3 duration 1500 ms');
  });

  it('writes the whole message, not the line\'s cut', () => {
    const rec = parseRecord(env('x'.repeat(2500)));
    assert.equal(rec.msg.length, 2001);
    assert.ok(toText(rec).endsWith(' - - ' + 'x'.repeat(2500)));
  });

  it('writes a payload without a message as the line does', () => {
    const rec = parseRecord(env('{"b": 1,\n "a": "x"}'));
    assert.ok(toText(rec).endsWith(' {"b":1,"a":"x"}'));
  });

  it('writes markers', () => {
    const m = { ...markerRecord('gap', 'gap · unknown-id', { reason: 'unknown-id' }), ts: 0 };
    assert.equal(toText(m), '1970-01-01T00:00:00.000Z -- gap · unknown-id');
    assert.deepEqual(JSON.parse(toNdjson(m)),
      { event: 'gap', ts: 0, message: 'gap · unknown-id', data: { reason: 'unknown-id' } });
  });

  it('writes NDJSON as received, on one line', () => {
    const compact = env('{"msg":"x"}');
    assert.equal(toNdjson(parseRecord(compact)), compact);
    const multiline = env('{\n"msg":"x"\n}');
    assert.equal(toNdjson(parseRecord(multiline)), JSON.stringify(JSON.parse(multiline)));
  });
});

describe('trace and request ids', () => {
  const rec = (payload) => parseRecord(envelopeOf(JSON.stringify(payload)), '7-7');
  const trace = '4bf92f3577b34da6a3ce929d0e0e4736';

  it('chips the trace id before the request id', () => {
    const r = rec({ msg: 'm', trace_id: trace, request_id: 'r-42' });
    assert.deepEqual(idOf(r), { name: 'trace_id', value: trace });
    assert.deepEqual(chips(r).at(-1), ['id', '4bf92f35…', `trace_id ${trace}`]);
    assert.ok(toText(r).endsWith(` m trace_id=${trace}`));
  });

  it('chips the request id without a trace id, whole when short', () => {
    const r = rec({ msg: 'm', request_id: 'r-42', trace_id: null });
    assert.deepEqual(idOf(r), { name: 'request_id', value: 'r-42' });
    assert.deepEqual(chips(r), [['id', 'r-42', 'request_id r-42']]);
    assert.deepEqual(idOf(rec({ request_id: 42 })), { name: 'request_id', value: '42' });
  });

  it('has no chip without an id', () => {
    for (const p of [{ msg: 'm' }, { trace_id: {}, request_id: [] }, { trace: { id: 'x' } }]) {
      assert.equal(idOf(rec(p)), null);
      assert.deepEqual(chips(rec(p)), []);
    }
    assert.equal(idOf(parseRecord(envelopeOf('trace_id=abc plain text'), '7-7')), null);
  });

  it('filters to the records of one id, not ids that contain it', () => {
    const { match, error } = compileMatcher({ channels: '', q: idFilter('r-42'), level: '' });
    assert.equal(error, '');
    assert.ok(match(rec({ msg: 'a', request_id: 'r-42' })));
    assert.ok(match(rec({ msg: 'b', request_id: 'R-42', level: 'error' }))); // text filters ignore case
    assert.ok(!match(rec({ msg: 'c', request_id: 'r-421' })));
    assert.ok(!match(rec({ msg: 'r-42 in the message' })));
    assert.equal(idFilter('a"b'), '"a\\"b"');
    assert.ok(compileMatcher({ q: idFilter('a"b') }).match(rec({ trace_id: 'a"b' })));
  });
});

describe('compileMatcher', () => {
  const recs = [
    parseRecord(env2('logs:a', '{"msg":"one","level":"debug"}')),
    parseRecord(env2('logs:b', '{"msg":"two","level":"error","request_id":"req-42"}')),
    markerRecord('gap', 'gap'),
  ];
  function env2(channel, payload) {
    return `{"id":"1-1","channel":${JSON.stringify(channel)},"ts":1,"payload":${payload}}`;
  }
  const shown = (filters) => recs.filter(compileMatcher(filters).match).map((r) => r.msg ?? r.text);

  it('filters by channel, level and text, never hiding markers', () => {
    assert.deepEqual(shown({ channels: '', q: '', level: '' }), ['one', 'two', 'gap']);
    assert.deepEqual(shown({ channels: 'logs:b', q: '', level: '' }), ['two', 'gap']);
    assert.deepEqual(shown({ channels: '', q: '', level: 'warn' }), ['two', 'gap']);
    assert.deepEqual(shown({ channels: '', q: 'REQ-42', level: '' }), ['two', 'gap']);
    assert.deepEqual(shown({ channels: '', q: '/^logs:a /', level: '' }), ['one', 'gap']);
  });

  it('says why a regex is not used', () => {
    assert.match(compileMatcher({ channels: '', q: '/(a+)+/', level: '' }).error, /./);
    assert.match(compileMatcher({ channels: '', q: '/[/', level: '' }).error, /./);
  });
});

describe('event ids', () => {
  it('reads pub/sub ids and stream ids, and nothing else', () => {
    assert.deepEqual(parseId('1795564825851-7'), { epoch: 1795564825851, ms: 0, seq: 7 });
    assert.deepEqual(parseId('s1795564825851-0'), { epoch: 'stream', ms: 1795564825851, seq: 0 });
    for (const bad of ['', null, undefined, '12', 's12', 'x1-2', '1-2-3', ' 1-2', 's-1-2', '1-'])
      assert.equal(parseId(bad), null, String(bad));
  });
  it('reads positions of several partitions by their marked entry', () => {
    assert.deepEqual(parseId('c1,5-0,*7-1,'), { epoch: 'cursor', ms: 7, seq: 1, partition: 1 });
    assert.deepEqual(parseId('c1,*9-2'), { epoch: 'cursor', ms: 9, seq: 2, partition: 0 });
    for (const bad of ['c1,5-0,7-1', 'c2,*5-0', 'c1,*5-0,*6-0', 'c1,x,*5-0', 'c1,*', 'c1,*5'])
      assert.equal(parseId(bad), null, bad);
    const id = (s) => parseId(s);
    assert.equal(idAfter(id('c1,*7-1,5-0'), id('c1,7-0,*5-0')), true);
    assert.equal(idAfter(id('c1,7-1,*7-1'), id('c1,*7-1,7-1')), true); // same id: by partition
    assert.equal(idAfter(id('c1,*7-1,7-1'), id('c1,7-1,*7-1')), false);
  });
  it('orders ids of one epoch', () => {
    const id = (s) => parseId(s);
    assert.equal(idAfter(id('s1001-0'), id('s1000-5')), true);
    assert.equal(idAfter(id('s1000-5'), id('s1000-4')), true);
    assert.equal(idAfter(id('s1000-4'), id('s1000-4')), false);
    assert.equal(idAfter(id('s999-9'), id('s1000-0')), false);
    assert.equal(idAfter(id('7-3'), id('7-2')), true);
    assert.equal(idAfter(id('7-2'), id('7-2')), false);
  });
});
