// The dashboard's guard against regex filters that freeze the page (resources/dashboard/regexfilter.js):
// what it refuses and why, what it lets through, the text bound and the time budget.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  checkRegex, compileRegexFilter, parseRegexQuery, BUDGET_MS, TEXT_MAX, TEXT_MAX_TWO_REPEATS,
} from '../../resources/dashboard/regexfilter.js';

describe('checkRegex', () => {
  // Each is exponential (or worse than cubic) for a backtracking engine on some line.
  const refused = [
    ['(a+)+$', /\(a\+\)\+ repeats a group that itself repeats/],
    ['^(a+)+$', /nested repeats can take exponential time/],
    ['(a*)*b', /\(a\*\)\*/],
    ['(.*)*', /\(\.\*\)\*/],
    ['(a|aa)+$', /has "\|"/],
    ['(a|ab)*c', /has "\|"/],
    ['(?:foo|bar)+', /has "\|"/],
    ['(a?)+', /\(a\?\)\+/],
    ['(x+x+)+y', /\(x\+x\+\)\+/],
    ['((ab)+)+', /\(\(ab\)\+\)\+/],
    ['(\\w+\\s?)+$', /repeats a group/],
    ['([a-zA-Z]+)*', /repeats a group/],
    ['(a|b){1,30}', /repeats a group/],
    ['(a+){2,}', /repeats a group/],
    ['^([a-zA-Z0-9])(([\\-.]|[_]+)?([a-zA-Z0-9]+))*(@){1}[a-z0-9]+[.]{1}(([a-z]{2,3})|([a-z]{2,3}[.]{1}[a-z]{2,3}))$', /repeats a group/],
    ['(\\w+)\\1', /backreferences such as \\1/],
    ['(?<w>\\w+) \\k<w>', /backreferences such as \\k<w>/],
    ['.*.*.*x', /more than 2 unbounded repeats/],
    ['a*a*a*a*a*b', /more than 2 unbounded repeats/],
    ['(.*a){12}', /more than 2 unbounded repeats/],
    ['\\d+.\\d+.\\d+', /more than 2 unbounded repeats/],
    ['.{0,100}.{0,100}.{0,100}', /more than 2 unbounded repeats/],
    ['(a{1,3}){16}', /too many combinations/],
    ['a?'.repeat(20) + 'a'.repeat(20), /too many combinations/],
    ['('.repeat(70) + 'a' + ')'.repeat(70), /more than 64 nested groups/],
  ];
  for (const [source, why] of refused) {
    it(`refuses /${source.length > 40 ? source.slice(0, 40) + '…' : source}/`, () => {
      new RegExp(source); // a valid regex: refused for its cost, not its syntax
      const { reason } = checkRegex(source, '');
      assert.match(reason, /^regex refused: /);
      assert.match(reason, why);
    });
  }

  const accepted = [
    ['err(or)?', 0], ['timeout|refused', 0], ['^ERROR\\b', 0], ['status=5\\d\\d', 0],
    ['(\\d{1,3}\\.){3}\\d{1,3}', 0], ['\\d{4}-\\d{2}-\\d{2}T', 0], ['(?:GET|POST) /api', 0],
    ['user-\\d+', 1], ['err.*timeout', 1], ['(ab)+', 1], ['(?<n>a+)?', 1], ['[(a+)+]', 0],
    ['\\(a+\\)+', 2], ['err.*timeout.*ms', 2], ['user=\\w+ status=\\d+', 2], ['(a+){2}', 2],
    ['[\\1]', 0], ['a{,5}', 0], ['(?=a+)b', 1],
  ];
  for (const [source, repeats] of accepted) {
    it(`accepts /${source}/ with ${repeats} unbounded repeats`, () => {
      assert.deepEqual(checkRegex(source, ''), { reason: '', repeats });
    });
  }

  it('reads u and v mode escapes and classes', () => {
    assert.deepEqual(checkRegex('\\p{L}+ \\u{1F600}', 'u'), { reason: '', repeats: 1 });
    assert.deepEqual(checkRegex('[\\p{L}--[a-z]]+', 'v'), { reason: '', repeats: 1 });
    // Outside u mode \p is a "p", and {2,} its repeat.
    assert.deepEqual(checkRegex('\\p{2,}', ''), { reason: '', repeats: 1 });
    assert.match(checkRegex('(\\p{L}+)+', 'u').reason, /repeats a group/);
  });
});

describe('compileRegexFilter', () => {
  it('parses /source/flags from the filter box', () => {
    assert.deepEqual(parseRegexQuery('/err(or)?/i'), { source: 'err(or)?', flags: 'i' });
    assert.equal(parseRegexQuery('plain text'), null);
    assert.equal(parseRegexQuery('//'), null);
  });

  it('filters with an ordinary regex, ignoring g and y', () => {
    const f = compileRegexFilter('err(or)?', 'giy');
    assert.equal(f.error, '');
    assert.equal(f.test('ERROR: disk full'), true);
    assert.equal(f.test('Err'), true);
    assert.equal(f.test('all good'), false);
    assert.equal(f.test('ERROR again'), true, 'not stateful');
  });

  it('says why an invalid or costly regex is not used', () => {
    assert.match(compileRegexFilter('(', '').error, /^invalid regular expression: /);
    assert.match(compileRegexFilter('a', 'q').error, /^invalid regular expression: /);
    const f = compileRegexFilter('(a+)+$', '');
    assert.match(f.error, /^regex refused: \(a\+\)\+ repeats a group/);
    assert.equal(f.test, undefined);
  });

  it('tries the regex on the start of a line only', () => {
    const one = compileRegexFilter('x$', '');
    assert.equal(one.test('a'.repeat(TEXT_MAX - 1) + 'x'), true);
    assert.equal(one.test('a'.repeat(TEXT_MAX) + 'x'), false);
    const two = compileRegexFilter('a.*b.*x', '');
    assert.equal(two.test('ab' + 'c'.repeat(TEXT_MAX_TWO_REPEATS - 3) + 'x'), true);
    assert.equal(two.test('ab' + 'c'.repeat(TEXT_MAX_TWO_REPEATS) + 'x'), false);
  });

  it('suspends itself, once, when its tests spend the time budget', () => {
    // Called before and after each test: every test takes BUDGET_MS / 4 + 1 ms.
    let clock = 0, calls = 0;
    const now = () => (calls++ % 2 ? (clock += BUDGET_MS / 4 + 1) : clock);
    const notes = [];
    const f = compileRegexFilter('^keep', '', { now, onSuspend: (m) => notes.push(m) });
    assert.equal(f.test('drop'), false);
    assert.equal(f.test('keep'), true);
    assert.equal(f.test('drop'), false);
    assert.deepEqual(notes, []);
    assert.equal(f.test('drop'), false); // the budget is spent with this one
    assert.equal(notes.length, 1);
    assert.match(notes[0], /^regex filter suspended: .* every line is shown; edit the filter/);
    assert.equal(f.test('drop'), true, 'lets every line through');
    assert.equal(notes.length, 1);
  });

  it('gives every window its own budget', () => {
    // Tests of two thirds of the budget, one per window: never suspended.
    let clock = 0, calls = 0;
    const now = () => (calls++ % 2 ? (clock += (BUDGET_MS * 2) / 3) : (clock += 2000));
    let suspended = false;
    const f = compileRegexFilter('^keep', '', { now, onSuspend: () => { suspended = true; } });
    for (let i = 0; i < 50; i++) assert.equal(f.test('drop'), false);
    assert.equal(suspended, false);
  });
});
