// Channel globs exactly as the gateway reads them (common/channelglob.cpp, itself Redis's
// stringmatchlen): `*`, `?`, `[abc]`, `[^a-z]` (a reversed range like z-a is swapped), `\`
// escapes; `!` is a literal. Matching is over the UTF-8 bytes of glob and name, as in Redis:
// `?` is one byte, so `?` does not match "é" but `??` does. tests/fixtures/channelglob.json holds
// the expectations that both implementations are tested against.
//
// A pure module (no DOM), so that node's test runner can import it.

const utf8 = new TextEncoder();

// C++ `char` is signed on the gateway's platforms (x86-64, like Redis there): a range ends at a
// byte compared as -128..127, so bytes >= 0x80 sort below ASCII. Only ranges see this.
const signed = (b) => (b << 24) >> 24;

// One unit of a glob, as ChannelGlob's Token: a literal byte, '?', '*' or a class body.
const LITERAL = 0, ANY = 1, STAR = 2, CLASS = 3;

function tokenize(p) {
  const out = [];
  for (let i = 0; i < p.length; i++) {
    const c = p[i];
    if (c === 0x5c /* \ */ && i + 1 < p.length) {
      out.push({ kind: LITERAL, ch: p[++i] });
    } else if (c === 0x2a /* * */) {
      if (!out.length || out[out.length - 1].kind !== STAR) out.push({ kind: STAR });
    } else if (c === 0x3f /* ? */) {
      out.push({ kind: ANY });
    } else if (c === 0x5b /* [ */) {
      let j = i + 1;
      if (j < p.length && p[j] === 0x5e /* ^ */) j++;
      // A class runs to the next ']' that is neither escaped nor the end of a range ("[a-]]" is
      // the range a..']'), or to the end of the glob.
      while (j < p.length && p[j] !== 0x5d /* ] */) {
        if (p[j] === 0x5c && j + 1 < p.length) j += 2;
        else if (j + 2 < p.length && p[j + 1] === 0x2d /* - */) j += 3;
        else j++;
      }
      out.push({ kind: CLASS, set: p.subarray(i + 1, j) });
      i = j;
    } else {
      out.push({ kind: LITERAL, ch: c });
    }
  }
  return out;
}

function classMatches(set, c) {
  let negate = false;
  if (set.length && set[0] === 0x5e /* ^ */) {
    negate = true;
    set = set.subarray(1);
  }
  let found = false;
  for (let i = 0; i < set.length && !found; i++) {
    if (set[i] === 0x5c && i + 1 < set.length) {
      found = set[++i] === c;
    } else if (i + 2 < set.length && set[i + 1] === 0x2d /* - */) {
      let lo = signed(set[i]), hi = signed(set[i + 2]);
      if (lo > hi) [lo, hi] = [hi, lo];
      const s = signed(c);
      found = s >= lo && s <= hi;
      i += 2;
    } else {
      found = set[i] === c;
    }
  }
  return found !== negate;
}

function accepts(t, c) {
  return t.kind === LITERAL ? t.ch === c : t.kind === ANY ? true : classMatches(t.set, c);
}

// Backtracks to the last star only: linear in glob x name, even for "*a*a*a*a*b".
function wildcardMatch(pat, s) {
  let p = 0, i = 0, starP = -1, starI = 0;
  while (i < s.length) {
    if (p < pat.length && pat[p].kind === STAR) {
      starP = p++;
      starI = i;
    } else if (p < pat.length && accepts(pat[p], s[i])) {
      p++;
      i++;
    } else if (starP >= 0) {
      p = starP + 1;
      i = ++starI;
    } else {
      return false;
    }
  }
  while (p < pat.length && pat[p].kind === STAR) p++;
  return p === pat.length;
}

// A predicate for one glob, tokenized once.
export function compileGlob(glob) {
  const pat = tokenize(utf8.encode(glob));
  const empty = glob === '';
  // Like Redis, only the empty glob matches the empty name, not even "*".
  return (name) => (name === '' ? empty : wildcardMatch(pat, utf8.encode(name)));
}

export function globMatches(glob, name) {
  return compileGlob(glob)(name);
}

// QString::trimmed()'s white space (String.prototype.trim differs in U+0085 and U+FEFF).
const QT_SPACE = '[\\t\\n\\v\\f\\r \\u0085\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000]';
const TRIM = new RegExp(`^${QT_SPACE}+|${QT_SPACE}+$`, 'g');

// The entries of a `?channels=` value, split and trimmed as the gateway does (no escape for ',').
export function parseSelection(text) {
  const out = [];
  for (const part of (text || '').split(',')) {
    const entry = part.replace(TRIM, '');
    if (entry && !out.includes(entry)) out.push(entry);
  }
  return out;
}

// A predicate for a whole selection ("" selects everything). Results are remembered per name:
// a stream has few channel names and this runs for every line.
export function compileSelection(text) {
  const globs = parseSelection(text).map(compileGlob);
  if (!globs.length) return () => true;
  const seen = new Map();
  return (name) => {
    let hit = seen.get(name);
    if (hit === undefined) {
      hit = globs.some((g) => g(name));
      if (seen.size >= 10000) seen.clear(); // a producer inventing names must not grow this
      seen.set(name, hit);
    }
    return hit;
  };
}
