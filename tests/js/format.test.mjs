// The dashboard's numbers and times (resources/dashboard/format.js).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { clock, count, formatRate, hhmm, millis } from '../../resources/dashboard/format.js';

describe('format', () => {
  it('counts in at most four characters', () => {
    const cases = [[0, '0'], [999, '999'], [1000, '1.0k'], [1500, '1.5k'],
      [15000, '15k'], [1e6, '1.0M'], [1.5e6, '1.5M'], [2.5e7, '25M']];
    for (const [n, s] of cases) assert.equal(count(n), s, String(n));
  });

  it('gives rates below 10 a decimal', () => {
    const cases = [[0, '0'], [0.04, '0.0'], [0.4, '0.4'], [9.94, '9.9'], [10, '10'],
      [12.6, '13'], [1500, '1.5k'], [2e6, '2.0M']];
    for (const [v, s] of cases) assert.equal(formatRate(v), s, String(v));
  });

  it('writes durations in ms, then seconds', () => {
    const cases = [[0, '0 ms'], [212.5, '213 ms'], [999, '999 ms'], [1000, '1.00 s'], [1840, '1.84 s'],
      [12500, '12.5 s']];
    for (const [ms, s] of cases) assert.equal(millis(ms), s, String(ms));
  });

  it('writes the local time of day with milliseconds', () => {
    const d = new Date(2026, 0, 2, 3, 4, 5, 6);
    assert.equal(clock(d.getTime()), '03:04:05.006');
  });

  it('writes the local time of day to the minute', () => {
    assert.equal(hhmm(new Date(2026, 0, 2, 3, 4, 59, 999).getTime()), '03:04');
    assert.equal(hhmm(new Date(2026, 0, 2, 23, 59).getTime()), '23:59');
  });
});
