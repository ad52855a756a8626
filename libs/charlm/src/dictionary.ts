import { readFileSync, existsSync } from 'node:fs';
import { UserError } from '@biore/runtime';

export const UNK = '<unk>';
export const DICTIONARY_FILE = 'dictionary.json';

/**
 * The characters a language model knows (flair's character Dictionary): index 0 is the unknown symbol,
 * then characters by falling frequency (ties by code point), at most `maxSize` entries in all.
 * A character is a Unicode code point, never half a surrogate pair.
 */
export class CharDictionary {
  private readonly index = new Map<string, number>();
  constructor(readonly items: readonly string[]) {
    if (items[0] !== UNK) throw new Error(`a character dictionary starts with ${UNK}`);
    items.forEach((c, i) => {
      if (this.index.has(c)) throw new Error(`character ${JSON.stringify(c)} appears twice in the dictionary`);
      this.index.set(c, i);
    });
  }

  get size(): number {
    return this.items.length;
  }

  /** The id of one character; unknown characters map to 0. */
  idOf(ch: string): number {
    return this.index.get(ch) ?? 0;
  }

  /** Code-point ids of a text. */
  encode(text: string): Int32Array {
    const out = new Int32Array(text.length);
    let n = 0;
    for (const ch of text) out[n++] = this.index.get(ch) ?? 0;
    return out.slice(0, n);
  }

  decode(ids: ArrayLike<number>): string {
    let s = '';
    for (let i = 0; i < ids.length; i++) s += ids[i] === 0 ? '' : (this.items[ids[i]] ?? '');
    return s;
  }

  /** Builds the dictionary from character counts: most frequent first, capped at `maxSize` entries (with <unk>). */
  static fromCounts(counts: Map<string, number>, maxSize = 300, minCount = 1): CharDictionary {
    if (maxSize < 2) throw new UserError(`a character dictionary needs room for at least one character (max size ${maxSize})`);
    const chars = [...counts.entries()]
      .filter(([, n]) => n >= minCount)
      .sort((a, b) => b[1] - a[1] || a[0].codePointAt(0)! - b[0].codePointAt(0)!)
      .slice(0, maxSize - 1)
      .map(([c]) => c);
    return new CharDictionary([UNK, ...chars]);
  }

  toJSON(): { format: string; unk: string; items: readonly string[] } {
    return { format: 'biore-char-dictionary', unk: UNK, items: this.items };
  }

  serialize(): string {
    return JSON.stringify(this.toJSON()) + '\n';
  }

  static parse(text: string, source: string): CharDictionary {
    let j: any;
    try {
      j = JSON.parse(text);
    } catch (e) {
      throw new UserError(`malformed character dictionary JSON (${(e as Error).message})`, { file: source });
    }
    if (!j || j.format !== 'biore-char-dictionary' || !Array.isArray(j.items) || j.items[0] !== UNK) {
      throw new UserError(`not a character dictionary: expected {"format":"biore-char-dictionary","items":["${UNK}", ...]}`, { file: source });
    }
    const bad = j.items.findIndex((c: unknown, i: number) => i > 0 && (typeof c !== 'string' || [...c].length !== 1));
    if (bad >= 0) throw new UserError(`entry ${bad} is not a single character`, { file: source, record: bad });
    if (new Set(j.items).size !== j.items.length) throw new UserError('the dictionary lists a character twice', { file: source });
    return new CharDictionary(j.items);
  }

  static load(path: string): CharDictionary {
    if (!existsSync(path)) throw new UserError('character dictionary not found', { file: path });
    return CharDictionary.parse(readFileSync(path, 'utf8'), path);
  }
}

/** Adds the code points of `text` to `counts`. */
export function countChars(text: string, counts: Map<string, number> = new Map()): Map<string, number> {
  for (const ch of text) counts.set(ch, (counts.get(ch) ?? 0) + 1);
  return counts;
}
