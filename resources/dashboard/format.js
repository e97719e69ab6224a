// Numbers and times as the dashboard shows them: in the lines, the header and the charts.
//
// A pure module (no DOM), so that node's test runner can import it.

const pad = (n, w = 2) => String(n).padStart(w, '0');

// Local time of day with milliseconds: 14:03:27.091.
export function clock(ts) {
  const d = new Date(ts);
  return `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${pad(d.getMilliseconds(), 3)}`;
}

// Local time of day to the minute: 14:03.
export function hhmm(ts) {
  const d = new Date(ts);
  return `${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

// A count in at most four characters: 999, 1.5k, 15k, 1.5M, 15M.
export function count(n) {
  if (n >= 1e6) return (n / 1e6).toFixed(n >= 1e7 ? 0 : 1) + 'M';
  if (n >= 1e3) return (n / 1e3).toFixed(n >= 1e4 ? 0 : 1) + 'k';
  return String(Math.round(n));
}

// A rate: a count, with a decimal below 10 (0.4/s is not 0/s).
export function formatRate(v) {
  return v >= 10 || v === 0 ? count(v) : v.toFixed(1);
}

// A duration: 850 ms, 1.25 s, 12.5 s.
export function millis(ms) {
  return ms >= 1000 ? (ms / 1000).toFixed(ms >= 10000 ? 1 : 2) + ' s' : Math.round(ms) + ' ms';
}
