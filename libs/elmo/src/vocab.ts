import { existsSync, readFileSync } from 'node:fs';
import { UserError } from '@biore/runtime';
import { BOS_TOKEN, EOS_TOKEN, UNK_TOKEN } from './chars.ts';

/**
 * The word vocabulary of the biLM's softmax, in bilm-tf's file format: one token a line, `<S>`, `</S>`,
 * `<UNK>` first, then the words by descending frequency (which the log-uniform sampler of the sampled
 * softmax relies on: id order is frequency order).
 */
export class BilmVocabulary {
  private readonly idOf = new Map<string, number>();
  readonly bos: number;
  readonly eos: number;
  readonly unk: number;

  constructor(readonly words: readonly string[], source = 'vocabulary') {
    words.forEach((w, i) => {
      if (this.idOf.has(w)) throw new UserError(`duplicate token '${w}'`, { file: source, record: `line ${i + 1}` });
      this.idOf.set(w, i);
    });
    const missing = [BOS_TOKEN, EOS_TOKEN, UNK_TOKEN].filter((w) => !this.idOf.has(w));
    if (missing.length) {
      throw new UserError(`the vocabulary lacks ${missing.join(', ')}; a bilm-tf vocabulary starts with <S>, </S>, <UNK>, one token a line`, { file: source });
    }
    this.bos = this.idOf.get(BOS_TOKEN)!;
    this.eos = this.idOf.get(EOS_TOKEN)!;
    this.unk = this.idOf.get(UNK_TOKEN)!;
  }

  get size(): number {
    return this.words.length;
  }

  id(word: string): number {
    return this.idOf.get(word) ?? this.unk;
  }

  has(word: string): boolean {
    return this.idOf.has(word);
  }

  /** The file text: one token a line. */
  toText(): string {
    return this.words.join('\n') + '\n';
  }

  static fromText(text: string, source = 'vocabulary'): BilmVocabulary {
    const lines = text.split('\n');
    if (lines.length && lines[lines.length - 1] === '') lines.pop();
    const words = lines.map((l, i) => {
      const w = l.trim();
      if (!w) throw new UserError('empty line; expected one token a line', { file: source, record: `line ${i + 1}` });
      return w;
    });
    return new BilmVocabulary(words, source);
  }

  static load(path: string): BilmVocabulary {
    if (!existsSync(path)) throw new UserError('vocabulary file not found', { file: path });
    return BilmVocabulary.fromText(readFileSync(path, 'utf8'), path);
  }

  /**
   * `<S>`, `</S>`, `<UNK>`, then the words counted at least `minCount` times, most frequent first
   * (ties in string order), at most `maxSize` words in all.
   */
  static fromCounts(counts: Map<string, number>, opts: { minCount?: number; maxSize?: number } = {}): BilmVocabulary {
    const specials = new Set([BOS_TOKEN, EOS_TOKEN, UNK_TOKEN]);
    let kept = [...counts].filter(([w, c]) => c >= (opts.minCount ?? 1) && !specials.has(w));
    kept.sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
    if (opts.maxSize !== undefined) kept = kept.slice(0, Math.max(0, opts.maxSize - 3));
    return new BilmVocabulary([BOS_TOKEN, EOS_TOKEN, UNK_TOKEN, ...kept.map(([w]) => w)]);
  }
}
