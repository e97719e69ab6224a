// The dashboard's channel globs (resources/dashboard/glob.js) against the table that
// tests/tst_channelglob.cpp holds the gateway's ChannelGlob to: one grammar for both.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { compileGlob, compileSelection, globMatches, parseSelection } from '../../resources/dashboard/glob.js';

const rows = JSON.parse(readFileSync(new URL('../fixtures/channelglob.json', import.meta.url), 'utf8'));

describe('globMatches', () => {
  it('reads the shared fixture', () => {
    assert.ok(rows.length > 100);
  });

  for (const [i, { glob, name, match }] of rows.entries()) {
    it(`${i}: ${JSON.stringify(glob)} ~ ${JSON.stringify(name)} is ${match}`, () => {
      assert.equal(globMatches(glob, name), match);
    });
  }

  it('never throws, whatever the glob', () => {
    const alphabet = ['a', '-', '[', ']', '^', '!', '\\', '*', '?', 'z', 'é'];
    let n = 0;
    for (const a of alphabet) for (const b of alphabet) for (const c of alphabet) {
      const g = compileGlob(a + b + c);
      for (const name of ['', 'a', 'z', '-', ']', 'é', 'aa']) g(name);
      n++;
    }
    assert.equal(n, alphabet.length ** 3);
  });

  it('is linear for hostile globs', () => {
    const g = compileGlob('*a'.repeat(200) + 'b');
    assert.equal(g('a'.repeat(10000)), false);
    assert.equal(g('a'.repeat(10000) + 'b'), true);
  });
});

describe('selections', () => {
  it('split on commas and trim as the gateway does', () => {
    assert.deepEqual(parseSelection(' logs:a , logs:[z-a],,logs:a\u0085,\t'), ['logs:a', 'logs:[z-a]']);
    assert.deepEqual(parseSelection(''), []);
    // QString::trimmed() keeps U+FEFF.
    assert.deepEqual(parseSelection('\ufeffa'), ['\ufeffa']);
  });

  it('match a name when any of their globs does', () => {
    const sel = compileSelection('logs:[z-a], logs:[!a]');
    assert.equal(sel('logs:m'), true);
    assert.equal(sel('logs:!'), true);
    assert.equal(sel('logs:a'), true);
    assert.equal(sel('logs:A'), false);
    assert.equal(sel('logs:mm'), false);
    assert.equal(compileSelection('')('anything'), true);
  });
});
