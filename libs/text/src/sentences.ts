/**
 * A rule-based sentence splitter for biomedical abstracts and papers.
 *
 * A sentence ends at `.`, `?` or `!` (plus any closing quotes right after it) followed by whitespace and a
 * word that can begin a sentence: one starting with a capital (`The`, `Égalité`), a digit (`17-AAG`, `30 patients`),
 * a gene or chemical name that starts in lower case but holds a capital or digit (`mRNA`, `p53`, `cAMP`, `hRRM2`)
 * or starts with a locant / stereo prefix (`l-glutamine`, `c-fos`, `trans-resveratrol`), a bracketed stereo
 * descriptor glued to its name (`(-)-Stepholidine`, `(R)-Roscovitine`, `[Trp(7)]GnRH-I`), a list mark `(3)` or
 * a bracketed capitalised word (`(ABSTRACT TRUNCATED AT 250 WORDS)`).
 * A plain lower-case word (`E. coli`, `1 mg. anastrozole`) never begins one. A blank line always ends a sentence.
 *
 * A period does NOT end a sentence:
 * - after an abbreviation in ABBREVIATIONS, matched case-sensitively (`Dr.` but not `DR.`, the dopamine
 *   receptor; `No.` but not `NO.`, nitric oxide; `e.g.`, `i.e.`, `et al.`, `Fig.`, `vs.`, …);
 * - after a route of administration (`i.v.`, `i.p.`, `p.o.`, …) only when the word before it is a preposition or
 *   article (`provoked by i.v. CCK-8`); `was infused i.v. Infusion …` is two sentences;
 * - after a single capital that is part of a name (`R. A. Jones`, `Dr. J. Smith`), i.e. when the next word is an
 *   initial or an abbreviated word, or the word before is an initial or a title; otherwise `protein kinase C. The …`,
 *   `37 degrees C. In …` and `vitamin D. These …` end there (the price: `by J. Smith` ends there too);
 * - inside an abbreviated journal title (`Proc. Natl. Acad. Sci.`, `J. Biol. Chem.`): a capitalised word of up to
 *   seven letters and a period, followed by another, and the last one of two or more before a volume or `USA`;
 * - after a taxonomic `sp.` / `spp.` followed by a strain code (`Nocardiopsis sp. KMF-001`);
 * - after a list number at the start of a sentence (`5. These results …` stays one sentence);
 * - inside matched parentheses or brackets (`(see Fig. 2. Note …)`) up to 250 characters long; unmatched brackets
 *   are ignored, and so is a longer pair (a stray opener pairing with a closer sentences later);
 * - inside a decimal number (`1.5`), which never has whitespace after the point anyway.
 * Units (`min.`, `h.`, `microM.`) and `etc.` are not abbreviations: `for 30 min. The …` is two sentences.
 * Spans are [start, end) string indices with surrounding whitespace trimmed.
 */
export interface Span {
  start: number;
  end: number;
}

export interface SentenceOptions {
  /**
   * 'blue': BLUE's ChemProt construction on top of the rules above (Peng et al. 2019, create_chemprot_bert.py):
   * a sentence is glued to the one before unless that one ends in `.?!` other than `i.v.` and it begins with an
   * upper-case letter, and no sentence ends after a word whose period spaCy's tokenizer keeps (a capital
   * after a non-capital: `5 microM.`, `IgG.`, `kinase C.`). Instance counts then compare with BLUE's.
   */
  compat?: 'blue';
}

/** Abbreviations after which a period never ends a sentence, as written (case matters: `NO.` is nitric oxide). */
export const ABBREVIATIONS: ReadonlySet<string> = new Set([
  'e.g.', 'E.g.', 'i.e.', 'I.e.', 'al.', 'Fig.', 'fig.', 'Figs.', 'figs.', 'vs.', 'Vs.', 'v.', 'approx.', 'Approx.',
  'ca.', 'cf.', 'Cf.', 'Dr.', 'Drs.', 'No.', 'Nos.', 'no.', 'Mr.', 'Ms.', 'Mrs.', 'Prof.', 'St.', 'Ref.', 'Refs.',
  'ref.', 'refs.', 'Eq.', 'Eqs.', 'eq.', 'Vol.', 'vol.', 'resp.', 'Inc.', 'Ltd.', 'Co.', 'Corp.', 'viz.', 'pp.',
  'Ed.', 'Eds.', 'ed.', 'eds.', 'Suppl.', 'Tab.', 'Jan.', 'Feb.', 'Mar.', 'Apr.', 'Jun.', 'Jul.', 'Aug.', 'Sep.',
  'Sept.', 'Oct.', 'Nov.', 'Dec.', 'b.w.', 'subsp.', 'var.', 'cv.', 'Ph.D.', 'M.D.', 'U.S.', 'U.S.A.', 'U.K.',
]);

/** Routes of administration: they end a sentence unless a preposition or article stands before them. */
export const ROUTES: ReadonlySet<string> = new Set([
  'i.v.', 'i.p.', 's.c.', 'i.m.', 'p.o.', 'i.c.v.', 'i.t.', 'i.n.', 'i.c.', 'i.a.', 'b.i.d.', 't.i.d.', 'q.d.', 'q.i.d.',
]);
const ROUTE_GUARDS = new Set(['by', 'of', 'the', 'a', 'an', 'and', 'or', 'with', 'after', 'following', 'via', 'either', 'both', 'vs.']);

const OPENERS = '([{';
const MAX_BRACKETED = 250;
const CLOSERS = ')]}';
const CLOSING_QUOTES = new Set(['"', "'", '\u201d', '\u2019', '\u00bb']);
const isSpace = (c: string) => /\s/u.test(c);
const isUpper = (c: string) => /[\p{Lu}\p{Lt}]/u.test(c);

/** Marks every index inside a matched bracket pair (unmatched brackets are ignored). */
function bracketDepth(text: string): Uint8Array {
  const inside = new Uint8Array(text.length);
  const stack: { ch: number; at: number }[] = [];
  for (let i = 0; i < text.length; i++) {
    const o = OPENERS.indexOf(text[i]);
    if (o >= 0) { stack.push({ ch: o, at: i }); continue; }
    const c = CLOSERS.indexOf(text[i]);
    if (c >= 0) {
      // pop to the nearest matching opener; a stray closer with no opener is ignored
      let k = stack.length - 1;
      while (k >= 0 && stack[k].ch !== c) k--;
      if (k < 0) continue;
      const from = stack[k].at;
      stack.length = k;
      // a stray opener can pair with a closer sentences later ("4(4 methyl … malate). … (H)"): a longer pair hides nothing
      if (i - from > MAX_BRACKETED) continue;
      for (let j = from + 1; j < i; j++) inside[j] = 1;
    }
  }
  return inside;
}

/** The whitespace-delimited word ending at `end` (exclusive), stripped of leading brackets/quotes, and where it starts. */
function wordBefore(text: string, end: number): { word: string; start: number } {
  let s = end;
  while (s > 0 && !isSpace(text[s - 1])) s--;
  const raw = s;
  while (s < end && /[([{"'\u201c\u2018]/u.test(text[s])) s++;
  return { word: text.slice(s, end), start: raw };
}

/** The whitespace-delimited word starting at `start`. */
function wordAt(text: string, start: number): string {
  let e = start;
  while (e < text.length && !isSpace(text[e])) e++;
  return text.slice(start, e);
}

const INITIAL = /^\p{Lu}\.$/u;
const JOURNAL_WORD = /^\p{Lu}\p{Ll}{0,6}\.$/u;
const LOWER_NAME = /^\p{Ll}[^\s]*[\p{Lu}\d]/u; // mRNA, p53, cAMP, beta(1)-adrenoceptor
const LOWER_PREFIX = /^(?:[a-z]{1,2}|cis|trans|tert|sec|iso|alpha|beta|gamma|delta|kappa|omega)-/; // l-glutamine, c-fos
const UNIT_CHAIN = /^[a-z]{1,3}\(/; // "10 mg. kg(-1)" is one unit
const GLUED_STEREO = /^[([][-+±RSEZDL\d,'αβ]{1,12}[)\]]\S/u; // (-)-Stepholidine, (R)-Roscovitine, [Trp(7)] is caught below
const BRACKETED_PREFIX = /^\[[^\]\s]{1,20}\]\S/u;
const LIST_MARK = /^(?:\(\d{1,2}\)|\(\p{Lu}{3,}\b)/u; // "(3) There is …", "(ABSTRACT TRUNCATED AT 250 WORDS)"

/** Whether the word at `next` can begin a sentence at all. */
function canBegin(next: string, blue: boolean): boolean {
  const c = next[0];
  if (isUpper(c)) return true;
  if (blue) return false;
  if (/\d/.test(c)) return true;
  if (/\p{Ll}/u.test(c)) return !UNIT_CHAIN.test(next) && (LOWER_NAME.test(next) || LOWER_PREFIX.test(next));
  if (c === '(' || c === '[') return GLUED_STEREO.test(next) || BRACKETED_PREFIX.test(next) || LIST_MARK.test(next);
  return false;
}

// spaCy's suffix rules split a final period off after a lower-case letter, a digit or two capitals, not after one capital
const SPACY_KEEPS_PERIOD = /(?:^|[^\p{Lu}])\p{Lu}\.$/u;

function isBoundaryAfterPeriod(text: string, dot: number, next: string, sentenceStart: number, blue: boolean): boolean {
  const { word, start } = wordBefore(text, dot + 1);
  if (ABBREVIATIONS.has(word)) return false;
  if (blue && (word === 'i.v.' || SPACY_KEEPS_PERIOD.test(word))) return false;
  const prev = start > 0 ? wordBefore(text, trimEnd(text, start)).word : '';
  if (ROUTES.has(word)) return !ROUTE_GUARDS.has(prev.toLowerCase());
  if (INITIAL.test(word)) {
    // a name or a citation: "R. A. Jones", "Dr. J. Smith", "J. Biol. Chem."; else "kinase C. The" ends here
    if (JOURNAL_WORD.test(next)) return false;
    if (INITIAL.test(prev) || ABBREVIATIONS.has(prev) || prev === '') return false;
    if (!isUpper(next[0])) return false; // "E. coli", "L. (EIH)"
    return true;
  }
  if ((word === 'sp.' || word === 'spp.') && /\d/.test(next)) return false; // a strain code
  if (JOURNAL_WORD.test(word) && JOURNAL_WORD.test(next)) return false; // 'Proc. Natl. Acad. Sci.', 'J. Biol. Chem.'
  // the end of such a title: 'Proc. Natl. Acad. Sci. USA 107', 'J. Biol. Chem. 270'
  if (JOURNAL_WORD.test(word) && (JOURNAL_WORD.test(prev) || INITIAL.test(prev)) && /^(?:\d|\p{Lu}{2,4}\b)/u.test(next)) return false;
  if (/^\d{1,2}\.$/.test(word) && trimStart(text, sentenceStart) === start) return false; // "5. These results"
  return true;
}

const trimEnd = (text: string, i: number) => { while (i > 0 && isSpace(text[i - 1])) i--; return i; };
const trimStart = (text: string, i: number) => { while (i < text.length && isSpace(text[i])) i++; return i; };

/** Sentence spans of `text`. */
export function splitSentences(text: string, opts: SentenceOptions = {}): Span[] {
  const blue = opts.compat === 'blue';
  const inside = bracketDepth(text);
  const cuts: number[] = []; // sentence end positions (exclusive)
  let sentenceStart = 0;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (ch === '\n') {
      // a blank line ends a sentence
      let j = i + 1;
      while (j < text.length && (text[j] === ' ' || text[j] === '\t' || text[j] === '\r')) j++;
      if (j < text.length && text[j] === '\n') { cuts.push(i); sentenceStart = i; i = j; }
      continue;
    }
    if (ch !== '.' && ch !== '?' && ch !== '!') continue;
    if (inside[i]) continue;
    let j = i + 1;
    while (j < text.length && CLOSING_QUOTES.has(text[j])) j++;
    if (j >= text.length || !isSpace(text[j])) continue;
    const end = j;
    while (j < text.length && isSpace(text[j])) j++;
    if (j >= text.length) continue;
    const next = wordAt(text, j);
    if (!canBegin(next, blue)) continue;
    if (ch === '.' && !isBoundaryAfterPeriod(text, i, next, sentenceStart, blue)) continue;
    cuts.push(end);
    sentenceStart = end;
  }
  const spans: Span[] = [];
  let from = 0;
  for (const cut of [...cuts, text.length]) {
    let s = from;
    let e = cut;
    while (s < e && isSpace(text[s])) s++;
    while (e > s && isSpace(text[e - 1])) e--;
    if (e > s) spans.push({ start: s, end: e });
    from = cut;
  }
  return spans;
}
