// Regex filters that cannot freeze the page. A /regex/ from a shared URL runs on every line the
// gateway sends, and a JavaScript regex cannot be interrupted: /(a+)+$/ on a line of 34 a's and a
// '!' backtracks 2^34 times, minutes of a frozen tab. Three bounds, each for what the previous one
// leaves open:
//   1. checkRegex() refuses, before the first test, what can take exponential time: a repeated
//      group that contains a repeat or '|' (star height > 1, like (a+)+ or (a|ab)*),
//      backreferences, and more than MAX_UNBOUNDED unbounded repeats (.*.*.*x is O(n^4)).
//   2. Each test sees at most TEXT_MAX characters of a line (TEXT_MAX_TWO_REPEATS with two
//      unbounded repeats), so what is left stays short: on this VM (V8 of node 20) the worst
//      line for one repeat, /.*x/ on 4,096 a's, takes 8 ms; for two, /.*.*x/ on 1,000, 0.17 s.
//   3. A time budget: when tests take more than BUDGET_MS of a WINDOW_MS window, regex filtering
//      is suspended (every line shows) and the page says so, until the filter is edited.
//
// Hand-written: the npm checkers do not fit a page served without a build step. safe-regex and
// safe-regex2 are CommonJS with a parser dependency (a bundler would be needed), and
// redos-detector's ES module is 210 KB (its parser bundled) of exhaustive analysis: more than the
// rest of the dashboard together, for one filter box.
//
// A pure module (no DOM), so that node's test runner can import it.

export const TEXT_MAX = 4096;
export const TEXT_MAX_TWO_REPEATS = 1024;
export const MAX_UNBOUNDED = 2;
export const BUDGET_MS = 300;
export const WINDOW_MS = 1000;
const LONG = 16; // a repeat of 16 or more possible counts ({0,15} is bounded) costs like *
const MAX_WAYS = 10000; // alternatives x bounded repeat counts, at one position
const MAX_DEPTH = 64;

// "/source/flags" from the filter box, or null for plain text.
export function parseRegexQuery(q) {
  const m = /^\/(.+)\/([a-z]*)$/s.exec(q || '');
  return m ? { source: m[1], flags: m[2] } : null;
}

const QUANTIFIER = /\{(\d+)(?:(,)(\d*))?\}/y;

// `{ min, max, end }` of the quantifier at i (with its lazy '?'), or null.
function readQuantifier(s, i) {
  let min, max, end;
  const c = s[i];
  if (c === '*' || c === '+' || c === '?') {
    min = c === '+' ? 1 : 0;
    max = c === '?' ? 1 : Infinity;
    end = i + 1;
  } else if (c === '{') {
    QUANTIFIER.lastIndex = i;
    const m = QUANTIFIER.exec(s);
    if (!m) return null; // a literal '{' (outside u/v mode)
    min = Number(m[1]);
    max = !m[2] ? min : m[3] ? Number(m[3]) : Infinity;
    end = i + m[0].length;
  } else {
    return null;
  }
  if (s[end] === '?') end++;
  return { min, max, end };
}

function skipClass(s, i, nested) {
  let j = i + 1;
  if (s[j] === '^') j++;
  for (let depth = 1; j < s.length;) {
    const c = s[j];
    if (c === '\\') j += 2;
    else if (c === '[' && nested) { depth++; j++; }
    else if (c === ']') { j++; if (--depth === 0) break; }
    else j++;
  }
  return j;
}

// Past "(", "(?:", "(?=", "(?!", "(?<=", "(?<!", "(?<name>" or "(?i-m:".
function skipGroupOpening(s, i) {
  let j = i + 1;
  if (s[j] !== '?') return j;
  j++;
  if (s[j] === ':' || s[j] === '=' || s[j] === '!') return j + 1;
  if (s[j] === '<') {
    if (s[j + 1] === '=' || s[j + 1] === '!') return j + 2;
    const close = s.indexOf('>', j);
    return close < 0 ? s.length : close + 1;
  }
  while (j < s.length && /[a-z-]/.test(s[j])) j++;
  return s[j] === ':' ? j + 1 : j;
}

const refused = (why) => ({ reason: 'regex refused: ' + why, repeats: 0 });

// Why the regex `source` (with `flags`) is refused, or '' with the number of unbounded repeats.
// Call it on a source that `new RegExp` accepted: it skips over what it does not need to know.
export function checkRegex(source, flags = '') {
  const s = source;
  const unicode = /[uv]/.test(flags);
  const named = /\(\?<[^=!]/.test(s);
  let repeats = 0;
  // One frame per open group: the ways to match of its finished alternatives (sum) and of the
  // current one (product), and the repeats counted before it opened.
  const stack = [{ sum: 0, product: 1, repeats0: 0, start: 0 }];
  let i = 0;
  while (i < s.length) {
    const c = s[i];
    const top = stack[stack.length - 1];
    if (c === '|') {
      top.sum += top.product;
      top.product = 1;
      i++;
      continue;
    }
    if (c === '(') {
      if (stack.length > MAX_DEPTH) return refused(`more than ${MAX_DEPTH} nested groups`);
      stack.push({ sum: 0, product: 1, repeats0: repeats, start: i });
      i = skipGroupOpening(s, i);
      continue;
    }
    // An atom: a closed group, an escape, a class or one character.
    let ways = 1, repeats0 = repeats;
    const start = c === ')' && stack.length > 1 ? top.start : i;
    if (c === ')') {
      if (stack.length > 1) {
        stack.pop();
        ways = top.sum + top.product;
        repeats0 = top.repeats0;
      }
      i++;
    } else if (c === '\\') {
      const e = s[i + 1];
      if ((e >= '1' && e <= '9') || (e === 'k' && s[i + 2] === '<' && (unicode || named))) {
        const end = e === 'k' ? s.indexOf('>', i) + 1 : i + 2;
        return refused(`backreferences such as ${s.slice(i, end)} can take exponential time ` +
                       'and freeze the page');
      }
      if (unicode && (e === 'p' || e === 'P' || e === 'u') && s[i + 2] === '{') {
        const close = s.indexOf('}', i + 3);
        i = close < 0 ? s.length : close + 1;
      } else {
        i += 2;
      }
    } else if (c === '[') {
      i = skipClass(s, i, flags.includes('v'));
    } else {
      i++;
    }
    const q = readQuantifier(s, i);
    if (q) {
      i = q.end;
      const spread = q.max - q.min;
      const inner = repeats > repeats0;
      if (q.max > 1 && spread >= LONG && (inner || ways > 1)) {
        return refused(`${s.slice(start, i)} repeats a group that itself repeats or has "|"; ` +
                       'such nested repeats can take exponential time and freeze the page');
      }
      if (spread >= LONG) {
        repeats++;
      } else {
        repeats += (repeats - repeats0) * (q.max - 1); // (a+){3} is a+a+a+
        ways = (spread + 1) * ways ** q.max;
      }
    }
    const owner = stack[stack.length - 1];
    owner.product *= ways;
    if (owner.product > MAX_WAYS) {
      return refused('too many combinations of alternatives and bounded repeats ' +
                     `(over ${MAX_WAYS.toLocaleString('en-US')} ways to match at one position)`);
    }
    if (repeats > MAX_UNBOUNDED) {
      return refused(`more than ${MAX_UNBOUNDED} unbounded repeats (*, +, {n,}) can take very ` +
                     'long on long lines; use at most two, or bounded ones such as \\d{1,9}');
    }
  }
  return { reason: '', repeats };
}

// A filter for /source/flags: `{ error }` when the regex is invalid or refused, else
// `{ error: '', test(text) }`. `test` tries the regex on the start of `text` within the time
// budget; once the budget is spent it calls onSuspend(message) and lets every line through.
export function compileRegexFilter(source, flags, {
  now = () => performance.now(), budgetMs = BUDGET_MS, windowMs = WINDOW_MS, onSuspend,
} = {}) {
  let re;
  try {
    re = new RegExp(source, flags.replace(/[gy]/g, '')); // g/y would make test() stateful
  } catch (e) {
    return { error: 'invalid regular expression: ' + e.message };
  }
  const { reason, repeats } = checkRegex(source, flags);
  if (reason) return { error: reason };
  const max = repeats >= 2 ? TEXT_MAX_TWO_REPEATS : TEXT_MAX;
  let windowStart = -Infinity, spent = 0, suspended = false;
  return {
    error: '',
    test(text) {
      if (suspended) return true;
      const t0 = now();
      const hit = re.test(text.length > max ? text.slice(0, max) : text);
      const t1 = now();
      if (t0 - windowStart > windowMs) {
        windowStart = t0;
        spent = 0;
      }
      spent += t1 - t0;
      if (spent > budgetMs) {
        suspended = true;
        onSuspend?.(`regex filter suspended: matching took over ${budgetMs} ms within ` +
                    `${windowMs / 1000} s, so every line is shown; edit the filter to try again`);
      }
      return hit;
    },
  };
}
