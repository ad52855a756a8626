import { readFileSync, existsSync } from 'node:fs';
import { UserError, writeFileAtomic } from '@biore/runtime';

/**
 * Counts words, e.g. over a corpus streamed sentence by sentence, before a Vocabulary is cut from the counts.
 */
export class WordCounter {
  readonly counts = new Map<string, number>();
  total = 0;

  add(word: string, n = 1): void {
    this.counts.set(word, (this.counts.get(word) ?? 0) + n);
    this.total += n;
  }

  addAll(ws: Iterable<string>): void {
    for (const w of ws) this.add(w);
  }

  /** A vocabulary of the counted words with count ≥ minCount, most frequent first (see Vocabulary). */
  toVocabulary(opts: VocabularyOptions = {}): Vocabulary {
    return Vocabulary.fromCounts(this.counts, opts);
  }
}

export interface VocabularyOptions {
  /** Words seen fewer times are dropped (default 1). */
  minCount?: number;
  /** Keep at most this many counted words (after minCount), the most frequent. */
  maxSize?: number;
  /** Reserved words placed first with ids 0..k-1 and count 0 unless counted (e.g. '<pad>', '<unk>'). */
  specials?: string[];
}

/**
 * word ↔ id with counts. Ids follow frequency order: specials first, then words by count descending,
 * ties broken by plain string order (code units), so a vocabulary is a deterministic function of its counts.
 * On disk: one word a line, `word count` separated by one space (the Stanford GloVe `vocab_count` format);
 * a line with only a word has count 0.
 */
export class Vocabulary {
  private readonly idOf = new Map<string, number>();
  private readonly wordList: string[] = [];
  private readonly countList: number[] = [];

  constructor(entries: Iterable<[string, number]> = []) {
    for (const [w, c] of entries) this.push(w, c);
  }

  private push(word: string, count: number): void {
    if (this.idOf.has(word)) throw new Error(`Vocabulary: duplicate word '${word}'`);
    this.idOf.set(word, this.wordList.length);
    this.wordList.push(word);
    this.countList.push(count);
  }

  static fromCounts(counts: Map<string, number> | Iterable<[string, number]>, opts: VocabularyOptions = {}): Vocabulary {
    const minCount = opts.minCount ?? 1;
    const specials = opts.specials ?? [];
    const specialSet = new Set(specials);
    const all = counts instanceof Map ? counts : new Map(counts);
    let kept = [...all].filter(([w, c]) => c >= minCount && !specialSet.has(w));
    kept.sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
    if (opts.maxSize !== undefined) kept = kept.slice(0, opts.maxSize);
    return new Vocabulary([...specials.map((w): [string, number] => [w, all.get(w) ?? 0]), ...kept]);
  }

  /** Counts the words of the given sentences and cuts a vocabulary. */
  static build(sentences: Iterable<Iterable<string>>, opts: VocabularyOptions = {}): Vocabulary {
    const c = new WordCounter();
    for (const s of sentences) c.addAll(s);
    return c.toVocabulary(opts);
  }

  get size(): number {
    return this.wordList.length;
  }

  has(word: string): boolean {
    return this.idOf.has(word);
  }

  /** The id of `word`, or `fallback` (default -1) when it is not in the vocabulary. */
  id(word: string, fallback = -1): number {
    return this.idOf.get(word) ?? fallback;
  }

  word(id: number): string {
    const w = this.wordList[id];
    if (w === undefined) throw new RangeError(`Vocabulary: id ${id} out of range 0..${this.size - 1}`);
    return w;
  }

  count(idOrWord: number | string): number {
    const id = typeof idOrWord === 'number' ? idOrWord : this.id(idOrWord);
    return id < 0 ? 0 : (this.countList[id] ?? 0);
  }

  /** Words in id order. */
  words(): readonly string[] {
    return this.wordList;
  }

  counts(): readonly number[] {
    return this.countList;
  }

  /** Ids of `ws`, unknown words mapped to `unknownId` (default -1). */
  encode(ws: readonly string[], unknownId = -1): number[] {
    return ws.map((w) => this.idOf.get(w) ?? unknownId);
  }

  toText(): string {
    let out = '';
    for (let i = 0; i < this.wordList.length; i++) {
      const w = this.wordList[i];
      if (w.length === 0 || /\s/u.test(w)) throw new UserError(`vocabulary word ${JSON.stringify(w)} (id ${i}) is empty or contains whitespace; cannot be saved one word a line`);
      out += `${w} ${this.countList[i]}\n`;
    }
    return out;
  }

  /** Writes `word count` lines atomically. */
  save(path: string): void {
    writeFileAtomic(path, this.toText());
  }

  static parse(text: string, file = '<vocabulary>'): Vocabulary {
    const v = new Vocabulary();
    const lines = text.split('\n');
    for (let i = 0; i < lines.length; i++) {
      const line = lines[i].replace(/\r$/, '');
      if (line === '' && i === lines.length - 1) break;
      const parts = line.split(' ');
      if (parts.length > 2 || parts[0] === '') {
        throw new UserError(`expected 'word count' or 'word', got ${JSON.stringify(line.slice(0, 80))}`, { file, record: `line ${i + 1}` });
      }
      const count = parts.length === 2 ? Number(parts[1]) : 0;
      if (!Number.isInteger(count) || count < 0) {
        throw new UserError(`count must be a non-negative integer, got ${JSON.stringify(parts[1])}`, { file, record: `line ${i + 1}` });
      }
      if (v.has(parts[0])) throw new UserError(`duplicate word ${JSON.stringify(parts[0])}`, { file, record: `line ${i + 1}` });
      v.push(parts[0], count);
    }
    return v;
  }

  /** Reads a file written by save() (or any one-word-a-line list, optionally with counts). */
  static load(path: string): Vocabulary {
    if (!existsSync(path)) throw new UserError('vocabulary file not found', { file: path });
    return Vocabulary.parse(readFileSync(path, 'utf8'), path);
  }
}
