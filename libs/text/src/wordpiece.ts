import { existsSync, readFileSync } from 'node:fs';
import { UserError, readJson, writeFileAtomic } from '@biore/runtime';

/**
 * BERT's tokenizer, rule for rule as the reference (google-research/bert `tokenization.py`, HF `BertTokenizer`):
 * BasicTokenizer (clean text, CJK spacing, whitespace split, lower-casing and accent stripping, punctuation
 * split), then WordPiece (greedy longest-match-first, `##` continuations, `[UNK]` for words it cannot cover
 * or longer than 100 characters). Strings are walked by code point, as Python walks them.
 */

export const BERT_SPECIAL_TOKENS = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]'] as const;

/** Python's `unicodedata` whitespace test in the reference: space, \t, \n, \r and category Zs. */
function isWhitespace(ch: string): boolean {
  return ch === ' ' || ch === '\t' || ch === '\n' || ch === '\r' || /^\p{Zs}$/u.test(ch);
}

/** The reference's control test: category C*, but \t \n \r count as whitespace. */
function isControl(ch: string): boolean {
  if (ch === '\t' || ch === '\n' || ch === '\r') return false;
  return /^\p{C}$/u.test(ch);
}

/** The reference's punctuation: ASCII 33–47, 58–64, 91–96, 123–126 (so $ + < = > ^ ` | ~ too) and Unicode P*. */
export function isBertPunctuation(ch: string): boolean {
  const cp = ch.codePointAt(0)!;
  if ((cp >= 33 && cp <= 47) || (cp >= 58 && cp <= 64) || (cp >= 91 && cp <= 96) || (cp >= 123 && cp <= 126)) return true;
  return /^\p{P}$/u.test(ch);
}

function isChineseChar(cp: number): boolean {
  return (cp >= 0x4e00 && cp <= 0x9fff) || (cp >= 0x3400 && cp <= 0x4dbf) || (cp >= 0x20000 && cp <= 0x2a6df) ||
    (cp >= 0x2a700 && cp <= 0x2b73f) || (cp >= 0x2b740 && cp <= 0x2b81f) || (cp >= 0x2b820 && cp <= 0x2ceaf) ||
    (cp >= 0xf900 && cp <= 0xfaff) || (cp >= 0x2f800 && cp <= 0x2fa1f);
}

/** Python's `str.split()` after cleaning: runs of whitespace separate, ends are dropped. */
function whitespaceSplit(s: string): string[] {
  const t = s.trim();
  return t ? t.split(/\s+/u) : [];
}

export function stripAccents(s: string): string {
  let out = '';
  for (const ch of s.normalize('NFD')) if (!/^\p{Mn}$/u.test(ch)) out += ch;
  return out;
}

export interface BasicTokenizerOptions {
  /** lower-case (and, unless stripAccents is false, strip accents); default true (uncased models) */
  doLowerCase?: boolean;
  /** undefined: follow doLowerCase, as the original BERT */
  stripAccents?: boolean;
  tokenizeChineseChars?: boolean;
  /** tokens kept whole (neither lower-cased nor split) */
  neverSplit?: Iterable<string>;
}

export class BasicTokenizer {
  readonly doLowerCase: boolean;
  readonly stripAccents?: boolean;
  readonly tokenizeChineseChars: boolean;
  readonly neverSplit: Set<string>;
  constructor(o: BasicTokenizerOptions = {}) {
    this.doLowerCase = o.doLowerCase ?? true;
    this.stripAccents = o.stripAccents;
    this.tokenizeChineseChars = o.tokenizeChineseChars ?? true;
    this.neverSplit = new Set(o.neverSplit ?? []);
  }

  /** Removes NUL, U+FFFD and control characters; every whitespace character becomes a space. */
  cleanText(text: string): string {
    let out = '';
    for (const ch of text) {
      const cp = ch.codePointAt(0)!;
      if (cp === 0 || cp === 0xfffd || isControl(ch)) continue;
      out += isWhitespace(ch) ? ' ' : ch;
    }
    return out;
  }

  tokenize(text: string, neverSplit?: Iterable<string>): string[] {
    const never = neverSplit ? new Set([...this.neverSplit, ...neverSplit]) : this.neverSplit;
    let t = this.cleanText(text);
    if (this.tokenizeChineseChars) {
      let o = '';
      for (const ch of t) o += isChineseChar(ch.codePointAt(0)!) ? ` ${ch} ` : ch;
      t = o;
    }
    const split: string[] = [];
    for (let tok of whitespaceSplit(t)) {
      if (!never.has(tok)) {
        if (this.doLowerCase) {
          tok = tok.toLowerCase();
          if (this.stripAccents !== false) tok = stripAccents(tok);
        } else if (this.stripAccents) {
          tok = stripAccents(tok);
        }
      }
      split.push(...splitOnPunctuation(tok, never));
    }
    return whitespaceSplit(split.join(' '));
  }
}

function splitOnPunctuation(text: string, never: Set<string>): string[] {
  if (never.has(text)) return [text];
  const out: string[] = [];
  let startNew = true;
  for (const ch of text) {
    if (isBertPunctuation(ch)) {
      out.push(ch);
      startNew = true;
    } else {
      if (startNew) out.push('');
      startNew = false;
      out[out.length - 1] += ch;
    }
  }
  return out;
}

/** Reads a BERT `vocab.txt`: one token a line, the id is the line number (a later duplicate wins, as in the reference). */
export function readVocabFile(path: string): string[] {
  if (!existsSync(path)) throw new UserError('vocabulary file not found', { file: path });
  const text = readFileSync(path, 'utf8');
  const lines = text.split('\n');
  if (lines.length && lines[lines.length - 1] === '') lines.pop();
  const tokens = lines.map((l) => l.replace(/\r$/, ''));
  if (tokens.length === 0) throw new UserError('empty vocabulary', { file: path });
  return tokens;
}

export function writeVocabFile(path: string, tokens: readonly string[]): void {
  for (let i = 0; i < tokens.length; i++) if (/[\n\r]/.test(tokens[i])) throw new Error(`vocabulary token ${i} contains a newline`);
  writeFileAtomic(path, tokens.join('\n') + '\n');
}

export interface WordPieceOptions extends BasicTokenizerOptions {
  unkToken?: string;
  maxInputCharsPerWord?: number;
  /**
   * Entity markers mapped to reserved vocabulary tokens, e.g. `{ '@GENE$': '[unused1]', '<chem>': '[unused2]' }`.
   * Off by default: the reference (BioBERT's protocol) tokenizes `@GENE$` as `@ gene $`.
   */
  markers?: Record<string, string>;
  /** the source named in errors */
  source?: string;
}

export interface Encoding {
  /** [CLS] pieces… [SEP], truncated to maxLength */
  pieces: string[];
  ids: number[];
  /** for each piece, the index of the input word it came from (-1 for [CLS] / [SEP]) */
  wordIndex: number[];
}

/** What BERT code needs of a subword tokenizer: WordPieceTokenizer (vocab.txt) and SentencePieceTokenizer (.model) both fill it. */
export interface SubwordTokenizer {
  tokenize(text: string): string[];
  /** [CLS] pieces [SEP] of a text, cut to maxLength */
  encode(text: string, maxLength?: number): Encoding;
  /** the same for pre-split words, each word tokenized on its own */
  encodeWords(words: readonly string[], maxLength?: number): Encoding;
  /** the id of a piece (the unknown id when absent) */
  id(piece: string): number;
}

/** BERT's full tokenizer: BasicTokenizer, then WordPiece over a vocabulary. */
export class WordPieceTokenizer implements SubwordTokenizer {
  readonly vocab: readonly string[];
  readonly idOf = new Map<string, number>();
  readonly basic: BasicTokenizer;
  readonly unkToken: string;
  readonly maxInputCharsPerWord: number;
  readonly markers: Record<string, string>;
  private readonly specials: string[];

  constructor(vocab: readonly string[], readonly options: WordPieceOptions = {}) {
    this.vocab = vocab;
    vocab.forEach((t, i) => this.idOf.set(t, i));
    this.unkToken = options.unkToken ?? '[UNK]';
    this.maxInputCharsPerWord = options.maxInputCharsPerWord ?? 100;
    this.markers = options.markers ?? {};
    const src = options.source ?? 'vocabulary';
    if (!this.idOf.has(this.unkToken)) throw new UserError(`the vocabulary has no '${this.unkToken}' token`, { file: src });
    for (const [m, tok] of Object.entries(this.markers)) {
      if (!this.idOf.has(tok)) throw new UserError(`entity marker '${m}' maps to '${tok}', which is not in the vocabulary`, { file: src });
    }
    this.specials = [...BERT_SPECIAL_TOKENS.filter((t) => this.idOf.has(t)), ...Object.keys(this.markers)]
      .sort((a, b) => b.length - a.length);
    this.basic = new BasicTokenizer({ ...options, neverSplit: [...(options.neverSplit ?? []), ...BERT_SPECIAL_TOKENS] });
  }

  static fromVocabFile(path: string, options: WordPieceOptions = {}): WordPieceTokenizer {
    return new WordPieceTokenizer(readVocabFile(path), { source: path, ...options });
  }

  get size(): number {
    return this.vocab.length;
  }

  id(token: string): number {
    return this.idOf.get(token) ?? this.idOf.get(this.unkToken)!;
  }

  /** Greedy longest-match-first word pieces of one basic token. */
  wordPieces(token: string): string[] {
    const chars = Array.from(token);
    if (chars.length > this.maxInputCharsPerWord) return [this.unkToken];
    const out: string[] = [];
    let start = 0;
    while (start < chars.length) {
      let end = chars.length;
      let cur: string | undefined;
      while (start < end) {
        let sub = chars.slice(start, end).join('');
        if (start > 0) sub = '##' + sub;
        if (this.idOf.has(sub)) { cur = sub; break; }
        end--;
      }
      if (cur === undefined) return [this.unkToken];
      out.push(cur);
      start = end;
    }
    return out;
  }

  /** Splits text around special tokens and markers found verbatim (HF keeps those whole). */
  private splitSpecials(text: string): { text: string; special?: string }[] {
    if (this.specials.length === 0) return [{ text }];
    const out: { text: string; special?: string }[] = [];
    let from = 0;
    let i = 0;
    while (i < text.length) {
      const hit = this.specials.find((s) => text.startsWith(s, i));
      if (hit) {
        if (i > from) out.push({ text: text.slice(from, i) });
        out.push({ text: hit, special: this.markers[hit] ?? hit });
        i += hit.length;
        from = i;
      } else i++;
    }
    if (from < text.length) out.push({ text: text.slice(from) });
    return out;
  }

  /** Basic tokens of a text, each with its word pieces (a special token or marker is one word of one piece). */
  words(text: string): { word: string; pieces: string[] }[] {
    const out: { word: string; pieces: string[] }[] = [];
    for (const part of this.splitSpecials(text)) {
      if (part.special) { out.push({ word: part.text, pieces: [part.special] }); continue; }
      for (const tok of this.basic.tokenize(part.text)) {
        out.push({ word: tok, pieces: this.basic.neverSplit.has(tok) ? [tok] : this.wordPieces(tok) });
      }
    }
    return out;
  }

  /** The word pieces of a text, exactly as BertTokenizer.tokenize. */
  tokenize(text: string): string[] {
    return this.words(text).flatMap((w) => w.pieces);
  }

  /**
   * Encodes pre-split words (each word tokenized on its own) as [CLS] pieces [SEP], keeping which word each piece
   * came from; pieces past maxLength - 2 are cut.
   */
  encodeWords(words: readonly string[], maxLength = 512): Encoding {
    return this.assemble(words.map((w) => this.tokenize(w)), maxLength);
  }

  /** Encodes a text as [CLS] pieces [SEP], cut to maxLength; wordIndex numbers the basic tokens. */
  encode(text: string, maxLength = 512): Encoding {
    return this.assemble(this.words(text).map((w) => w.pieces), maxLength);
  }

  /** [CLS] + each word's pieces + [SEP], cut to maxLength; wordIndex maps each piece to its word (-1: special). */
  private assemble(piecesPerWord: readonly (readonly string[])[], maxLength: number): Encoding {
    const pieces = ['[CLS]'];
    const wordIndex = [-1];
    for (let w = 0; w < piecesPerWord.length; w++) {
      for (const p of piecesPerWord[w]) {
        if (pieces.length >= maxLength - 1) break;
        pieces.push(p);
        wordIndex.push(w);
      }
    }
    pieces.push('[SEP]');
    wordIndex.push(-1);
    return { pieces, ids: pieces.map((p) => this.id(p)), wordIndex };
  }
}

export interface WordPieceTrainingOptions {
  /** final vocabulary size, specials included */
  vocabSize: number;
  /** words seen fewer times do not take part (default 2) */
  minFrequency?: number;
  /** reserved `[unusedN]` slots after [PAD], as BERT's vocab.txt (default 10) */
  unused?: number;
  /** cap on the alphabet: characters seen fewer times are left to [UNK] (default 2) */
  minCharFrequency?: number;
}

/**
 * Learns a WordPiece vocabulary from word counts (words as the BasicTokenizer emits them) the way HF
 * tokenizers' WordPiece trainer does: start from every character (word-initial form and `##` form), then
 * repeatedly merge the most frequent adjacent pair of pieces (ties: the smaller pair string) until the
 * vocabulary is full. Order: [PAD], [unused0..], [UNK], [CLS], [SEP], [MASK], then the alphabet, then merges.
 */
export function trainWordPieceVocab(counts: Map<string, number>, o: WordPieceTrainingOptions): string[] {
  const minFreq = o.minFrequency ?? 2;
  const unused = o.unused ?? 10;
  const specials = ['[PAD]', ...Array.from({ length: unused }, (_, i) => `[unused${i}]`), '[UNK]', '[CLS]', '[SEP]', '[MASK]'];
  const words: string[][] = [];
  const freq: number[] = [];
  const charCount = new Map<string, number>();
  for (const [w, c] of counts) {
    const chars = Array.from(w);
    for (const ch of chars) charCount.set(ch, (charCount.get(ch) ?? 0) + c);
    if (c < minFreq || chars.length === 0 || chars.length > 100) continue;
    words.push(chars.map((ch, i) => (i === 0 ? ch : '##' + ch)));
    freq.push(c);
  }
  const vocab = [...specials];
  const have = new Set(vocab);
  const alphabet = [...charCount].filter(([, c]) => c >= (o.minCharFrequency ?? 2)).map(([ch]) => ch).sort();
  for (const ch of alphabet) for (const f of [ch, '##' + ch]) if (!have.has(f)) { have.add(f); vocab.push(f); }
  for (const w of words) for (const p of w) if (!have.has(p)) { have.add(p); vocab.push(p); }

  // pair counts with an index of the words each pair occurs in, updated incrementally per merge
  const SEP = '\u0000';
  const pairCount = new Map<string, number>();
  const pairWords = new Map<string, Set<number>>();
  const addWord = (wi: number, sign: number) => {
    const w = words[wi];
    for (let i = 0; i + 1 < w.length; i++) {
      const k = w[i] + SEP + w[i + 1];
      const v = (pairCount.get(k) ?? 0) + sign * freq[wi];
      if (v > 0) pairCount.set(k, v); else pairCount.delete(k);
      if (sign > 0) {
        let s = pairWords.get(k);
        if (!s) pairWords.set(k, (s = new Set()));
        s.add(wi);
      }
    }
  };
  for (let wi = 0; wi < words.length; wi++) addWord(wi, 1);
  while (vocab.length < o.vocabSize) {
    let best = '';
    let bestC = 0;
    for (const [k, c] of pairCount) if (c > bestC || (c === bestC && c > 0 && k < best)) { best = k; bestC = c; }
    if (bestC <= 0) break;
    const [a, b] = best.split(SEP);
    const merged = a + b.slice(2);
    for (const wi of pairWords.get(best) ?? []) {
      const w = words[wi];
      addWord(wi, -1);
      const nw: string[] = [];
      for (let i = 0; i < w.length; i++) {
        if (i + 1 < w.length && w[i] === a && w[i + 1] === b) { nw.push(merged); i++; } else nw.push(w[i]);
      }
      words[wi] = nw;
      addWord(wi, 1);
    }
    pairWords.delete(best);
    pairCount.delete(best);
    if (!have.has(merged)) { have.add(merged); vocab.push(merged); }
  }
  return vocab;
}

/** What a Hugging Face `tokenizer.json` (the `tokenizers` library's file) says about a WordPiece tokenizer. */
export interface TokenizerJsonWordPiece {
  /** tokens by id: `model.vocab`, then any `added_tokens` past it */
  vocab: string[];
  /** from `normalizer` (BertNormalizer, or a Sequence of NFD / Lowercase / StripAccents); undefined when it has none */
  doLowerCase?: boolean;
  stripAccents?: boolean;
  tokenizeChineseChars?: boolean;
  unkToken: string;
  maxInputCharsPerWord: number;
}

type Json = Record<string, unknown>;

/** Lower-casing and accent stripping a `normalizer` entry asks for (undefined: no normalizer). */
function normalizerSettings(n: unknown, path: string): { doLowerCase?: boolean; stripAccents?: boolean; tokenizeChineseChars?: boolean } {
  if (n === null || n === undefined) return {};
  const o = n as Json;
  switch (o.type) {
    case 'BertNormalizer':
      return {
        doLowerCase: o.lowercase !== false,
        stripAccents: typeof o.strip_accents === 'boolean' ? o.strip_accents : undefined,
        tokenizeChineseChars: o.handle_chinese_chars !== false,
      };
    case 'Sequence': {
      const parts = Array.isArray(o.normalizers) ? (o.normalizers as Json[]) : [];
      const types = parts.map((p) => p?.type);
      const known = ['NFD', 'NFC', 'NFKD', 'NFKC', 'Lowercase', 'StripAccents', 'BertNormalizer'];
      const odd = types.find((t) => !known.includes(String(t)));
      if (odd !== undefined) throw new UserError(`tokenizer.json normalizer ${JSON.stringify(odd)} is not one a BERT WordPiece tokenizer uses`, { file: path });
      const bert = parts.find((p) => p.type === 'BertNormalizer');
      const inner = bert ? normalizerSettings(bert, path) : {};
      return {
        ...inner,
        doLowerCase: types.includes('Lowercase') || inner.doLowerCase === true,
        stripAccents: types.includes('StripAccents') ? true : bert ? inner.stripAccents : false,
      };
    }
    case 'Lowercase':
      return { doLowerCase: true, stripAccents: false };
    default:
      throw new UserError(`tokenizer.json normalizer ${JSON.stringify(o.type)} is not one a BERT WordPiece tokenizer uses`, { file: path });
  }
}

/**
 * Reads the WordPiece vocabulary and settings of a `tokenizer.json` (what transformers writes for a BERT today,
 * beside or instead of `vocab.txt`): `model` must be WordPiece with `##` continuations, the pre-tokenizer
 * BERT's (or absent); anything else is a UserError naming the file and the field.
 */
export function readTokenizerJson(path: string): TokenizerJsonWordPiece {
  const j = readJson<Json>(path, 'tokenizer.json');
  const model = j?.model as Json | undefined;
  if (!model || typeof model !== 'object') throw new UserError("no 'model' section: not a tokenizers tokenizer.json", { file: path });
  if (model.type !== 'WordPiece') throw new UserError(`model.type is ${JSON.stringify(model.type)}; only WordPiece tokenizers (BERT) load from tokenizer.json`, { file: path });
  const prefix = model.continuing_subword_prefix ?? '##';
  if (prefix !== '##') throw new UserError(`model.continuing_subword_prefix is ${JSON.stringify(prefix)}; BERT's WordPiece uses "##"`, { file: path });
  const pre = j.pre_tokenizer as Json | null | undefined;
  const preTypes = !pre ? [] : pre.type === 'Sequence' && Array.isArray(pre.pretokenizers) ? (pre.pretokenizers as Json[]).map((p) => p?.type) : [pre.type];
  const odd = preTypes.find((t) => !['BertPreTokenizer', 'WhitespaceSplit', 'Whitespace', 'Punctuation'].includes(String(t)));
  if (odd !== undefined) throw new UserError(`pre_tokenizer ${JSON.stringify(odd)} is not BERT's (BertPreTokenizer); this tokenizer.json is not a BERT WordPiece tokenizer`, { file: path });
  const v = model.vocab;
  if (!v || typeof v !== 'object' || Array.isArray(v)) throw new UserError('model.vocab must map each token to its id', { file: path });
  const byId: string[] = [];
  const put = (tok: string, id: unknown, where: string) => {
    if (typeof id !== 'number' || !Number.isInteger(id) || id < 0) throw new UserError(`${where}: token ${JSON.stringify(tok)} has id ${JSON.stringify(id)}; expected a non-negative integer`, { file: path });
    if (byId[id] !== undefined && byId[id] !== tok) throw new UserError(`${where}: id ${id} is given to both ${JSON.stringify(byId[id])} and ${JSON.stringify(tok)}`, { file: path });
    byId[id] = tok;
  };
  for (const [tok, id] of Object.entries(v as Record<string, unknown>)) put(tok, id, 'model.vocab');
  for (const a of Array.isArray(j.added_tokens) ? (j.added_tokens as Json[]) : []) put(String(a.content), a.id, 'added_tokens');
  const gap = Array.from({ length: byId.length }, (_, i) => i).find((i) => byId[i] === undefined);
  if (gap !== undefined) throw new UserError(`no token has id ${gap} (ids must run 0..${byId.length - 1})`, { file: path });
  if (byId.length === 0) throw new UserError('empty vocabulary in model.vocab', { file: path });
  const unkToken = typeof model.unk_token === 'string' ? model.unk_token : '[UNK]';
  const maxInputCharsPerWord = typeof model.max_input_chars_per_word === 'number' ? model.max_input_chars_per_word : 100;
  return { vocab: byId, ...normalizerSettings(j.normalizer, path), unkToken, maxInputCharsPerWord };
}

/** A `tokenizer.json` for a BERT WordPiece vocabulary, laid out as `tokenizers` writes it for BertTokenizerFast. */
export function tokenizerJson(vocab: readonly string[], o: { doLowerCase: boolean; stripAccents?: boolean }): string {
  const special = new Set<string>(BERT_SPECIAL_TOKENS);
  const id = (t: string) => vocab.indexOf(t);
  const added = vocab.flatMap((t, i) => (special.has(t) ? [{ id: i, content: t, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true }] : []));
  return JSON.stringify({
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: added,
    normalizer: { type: 'BertNormalizer', clean_text: true, handle_chinese_chars: true, strip_accents: o.stripAccents ?? null, lowercase: o.doLowerCase },
    pre_tokenizer: { type: 'BertPreTokenizer' },
    post_processor: {
      type: 'TemplateProcessing',
      single: [{ SpecialToken: { id: '[CLS]', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }, { SpecialToken: { id: '[SEP]', type_id: 0 } }],
      pair: [{ SpecialToken: { id: '[CLS]', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }, { SpecialToken: { id: '[SEP]', type_id: 0 } },
        { Sequence: { id: 'B', type_id: 1 } }, { SpecialToken: { id: '[SEP]', type_id: 1 } }],
      special_tokens: Object.fromEntries(['[CLS]', '[SEP]'].filter((t) => id(t) >= 0).map((t) => [t, { id: t, ids: [id(t)], tokens: [t] }])),
    },
    decoder: { type: 'WordPiece', prefix: '##', cleanup: true },
    model: { type: 'WordPiece', unk_token: '[UNK]', continuing_subword_prefix: '##', max_input_chars_per_word: 100, vocab: Object.fromEntries(vocab.map((t, i) => [t, i])) },
  }, null, 2) + '\n';
}
