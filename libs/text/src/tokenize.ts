/**
 * A word tokenizer with character offsets, tuned for biomedical text.
 *
 * Rules (offsets are JavaScript string indices, i.e. UTF-16 code units, `end` exclusive):
 * - A word is a run of letters, digits and combining marks (any script; astral characters are never split).
 * - Inside a word these connectors are kept when a word character follows them directly:
 *   hyphens `-` `‐` `‑` (IL-2, 5-HT, anti-inflammatory, 2-fold) and apostrophes `'` `’` (Alzheimer's, 5'-UTR)
 *   (an apostrophe may be followed by a hyphen: 5'-UTR); `.` and `,` only between two digits
 *   (1.5, 0.05, 1,2-dichloroethane, 10,000).
 * - Every other non-space character is a token of its own: brackets, `/`, `+`, `%`, `;`, `:`, sentence periods,
 *   a trailing hyphen or apostrophe, `<`, `=` … So `5-HT(2A)` is `5-HT ( 2A )` and `Na+/K+` is `Na + / K +`.
 * - Whitespace (any Unicode space) separates tokens and is never part of one.
 * TOKEN_PATTERN states these rules as one regular expression; the scanner below implements them by hand
 * (faster on English text) and a test checks the two agree.
 */
export interface Token {
  text: string;
  start: number;
  end: number;
}

/** The tokenizer's definition as a regular expression (global, Unicode). */
export const TOKEN_PATTERN =
  /[\p{L}\p{N}\p{M}]+(?:(?:['\u2019][-\u2010\u2011]?|[-\u2010\u2011]|(?<=\p{N})[.,](?=\p{N}))[\p{L}\p{N}\p{M}]+)*|[^\s\p{L}\p{N}\p{M}]/gu;

const WORD_RE = /^[\p{L}\p{N}\p{M}]$/u;
const NUM_RE = /^\p{N}$/u;
const SPACE_RE = /^\s$/u;
// per-BMP-code-unit caches: 0 = not yet classified, 1 = yes, 2 = no
const wordCache = new Uint8Array(65536);
const numCache = new Uint8Array(65536);
const spaceCache = new Uint8Array(65536);
for (let c = 0; c < 128; c++) {
  const ch = String.fromCharCode(c);
  wordCache[c] = WORD_RE.test(ch) ? 1 : 2;
  numCache[c] = NUM_RE.test(ch) ? 1 : 2;
  spaceCache[c] = SPACE_RE.test(ch) ? 1 : 2;
}

function classify(cache: Uint8Array, re: RegExp, c: number): boolean {
  let v = cache[c];
  if (v === 0) cache[c] = v = re.test(String.fromCharCode(c)) ? 1 : 2;
  return v === 1;
}

const isHigh = (c: number) => c >= 0xd800 && c <= 0xdbff;
const isLow = (c: number) => c >= 0xdc00 && c <= 0xdfff;

/** Width (1 or 2 code units) of the code point at i, and whether it is a word character / a number. */
function codePointAt(s: string, i: number): { width: number; word: boolean; num: boolean } {
  const c = s.charCodeAt(i);
  if (isHigh(c) && i + 1 < s.length && isLow(s.charCodeAt(i + 1))) {
    const ch = s.slice(i, i + 2);
    return { width: 2, word: /^[\p{L}\p{N}\p{M}]$/u.test(ch), num: /^\p{N}$/u.test(ch) };
  }
  return { width: 1, word: classify(wordCache, WORD_RE, c), num: classify(numCache, NUM_RE, c) };
}

/** Width of the word character at i, or 0 when there is none. */
function wordWidth(s: string, i: number): number {
  if (i >= s.length) return 0;
  const c = s.charCodeAt(i);
  if (c < 128) return wordCache[c] === 1 ? 1 : 0;
  const cp = codePointAt(s, i);
  return cp.word ? cp.width : 0;
}

function isNumAt(s: string, i: number): boolean {
  if (i >= s.length) return false;
  const c = s.charCodeAt(i);
  if (c < 128) return numCache[c] === 1;
  return codePointAt(s, i).num;
}

const isHyphen = (c: number) => c === 0x2d || c === 0x2010 || c === 0x2011;
const isApostrophe = (c: number) => c === 0x27 || c === 0x2019;

/** Calls emit(start, end) for each token of s, in order. */
function scan(s: string, emit: (start: number, end: number) => void): void {
  const n = s.length;
  let i = 0;
  while (i < n) {
    const c = s.charCodeAt(i);
    if (c < 128 ? spaceCache[c] === 1 : !isHigh(c) && classify(spaceCache, SPACE_RE, c)) { i++; continue; }
    const w = wordWidth(s, i);
    if (w === 0) {
      const width = isHigh(c) && i + 1 < n && isLow(s.charCodeAt(i + 1)) ? 2 : 1;
      emit(i, i + width);
      i += width;
      continue;
    }
    const start = i;
    let lastNum = isNumAt(s, i);
    i += w;
    for (;;) {
      while (i < n) {
        const cc = s.charCodeAt(i);
        if (cc < 128) {
          if (wordCache[cc] !== 1) break;
          lastNum = numCache[cc] === 1;
          i++;
          continue;
        }
        const cp = codePointAt(s, i);
        if (!cp.word) break;
        lastNum = cp.num;
        i += cp.width;
      }
      if (i >= n) break;
      const d = s.charCodeAt(i);
      let next = -1;
      if (isApostrophe(d)) {
        next = i + 1;
        if (next < n && isHyphen(s.charCodeAt(next)) && wordWidth(s, next + 1) > 0) next++;
      } else if (isHyphen(d)) next = i + 1;
      else if ((d === 0x2e || d === 0x2c) && lastNum && isNumAt(s, i + 1)) next = i + 1;
      if (next < 0 || wordWidth(s, next) === 0) break;
      i = next;
    }
    emit(start, i);
  }
}

/** Tokens of `s` with their character offsets into `s`. */
export function tokenize(s: string): Token[] {
  const out: Token[] = [];
  scan(s, (start, end) => out.push({ text: s.slice(start, end), start, end }));
  return out;
}

/** The token strings of `s` (`tokenize(s).map(t => t.text)`). */
export function words(s: string): string[] {
  const out: string[] = [];
  scan(s, (start, end) => out.push(s.slice(start, end)));
  return out;
}
