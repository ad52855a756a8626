import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { UserError } from '@biore/runtime';
import type { Encoding, SubwordTokenizer } from './wordpiece.ts';

/** The part of sentencepiece-js (WASM build of Google's sentencepiece) used here; it reads the model file locally, no network. */
interface SppProcessor {
  load(path: string): Promise<void>;
  encodePieces(text: string): string[];
  encodeIds(text: string): number[];
  decodeIds(ids: number[]): string;
  processor: { PieceToId(piece: unknown): number } & Record<string, unknown>;
  sentencepiece: { StringView: new (s: string) => { getView(): unknown; delete(): void } };
}

export interface SentencePieceOptions {
  /** the model's classification / separator pieces (ALBERT-style BERTs use [CLS] and [SEP]) */
  clsToken?: string;
  sepToken?: string;
  /** lower-case before encoding, for uncased models whose normaliser does not */
  doLowerCase?: boolean;
}

/**
 * A BERT tokenizer over a SentencePiece `.model` (for BERTs that ship one instead of vocab.txt), through
 * sentencepiece-js. Loading is local (fs) and needs no network. `encode`/`encodeWords` give the same
 * Encoding as WordPieceTokenizer, so the BERT code takes either.
 */
export class SentencePieceTokenizer implements SubwordTokenizer {
  private constructor(private readonly sp: SppProcessor, readonly modelPath: string, readonly options: SentencePieceOptions) {}

  static async load(modelPath: string, options: SentencePieceOptions = {}): Promise<SentencePieceTokenizer> {
    if (!existsSync(modelPath)) throw new UserError('SentencePiece model not found', { file: modelPath });
    const bytes = readFileSync(modelPath);
    // a ModelProto starts with field 1 (pieces, length-delimited): tag byte 0x0a
    if (bytes.length < 2 || bytes[0] !== 0x0a) throw new UserError('not a SentencePiece model (expected a ModelProto starting with its pieces)', { file: modelPath });
    const require = createRequire(import.meta.url);
    const { SentencePieceProcessor } = require('sentencepiece-js') as { SentencePieceProcessor: new () => SppProcessor };
    const sp = new SentencePieceProcessor();
    await sp.load(modelPath);
    // sentencepiece-js drops the load status; a model that failed to load encodes everything to nothing
    if (sp.encodeIds('a b').length === 0) throw new UserError('sentencepiece could not load this model', { file: modelPath });
    return new SentencePieceTokenizer(sp, modelPath, options);
  }

  private prep(text: string): string {
    return this.options.doLowerCase ? text.toLowerCase() : text;
  }

  tokenize(text: string): string[] {
    return this.sp.encodePieces(this.prep(text));
  }

  ids(text: string): number[] {
    return this.sp.encodeIds(this.prep(text));
  }

  decode(ids: number[]): string {
    return this.sp.decodeIds(ids);
  }

  /** The id of a piece (the unknown id when the model lacks it). */
  id(piece: string): number {
    const view = new this.sp.sentencepiece.StringView(piece);
    const v = view.getView();
    try {
      return this.sp.processor.PieceToId(v);
    } finally {
      (v as { delete(): void }).delete();
      view.delete();
    }
  }

  encodeWords(words: readonly string[], maxLength = 512): Encoding {
    const cls = this.options.clsToken ?? '[CLS]', sep = this.options.sepToken ?? '[SEP]';
    const pieces = [cls], ids = [this.id(cls)], wordIndex = [-1];
    for (let w = 0; w < words.length; w++) {
      const ps = this.tokenize(words[w]), is = this.ids(words[w]);
      for (let i = 0; i < ps.length && pieces.length < maxLength - 1; i++) {
        pieces.push(ps[i]); ids.push(is[i]); wordIndex.push(w);
      }
    }
    pieces.push(sep); ids.push(this.id(sep)); wordIndex.push(-1);
    return { pieces, ids, wordIndex };
  }

  /** [CLS] pieces [SEP]; a new word starts at each piece beginning with ▁. */
  encode(text: string, maxLength = 512): Encoding {
    const ps = this.tokenize(text), is = this.ids(text);
    const cls = this.options.clsToken ?? '[CLS]', sep = this.options.sepToken ?? '[SEP]';
    const pieces = [cls], ids = [this.id(cls)], wordIndex = [-1];
    let w = -1;
    for (let i = 0; i < ps.length && pieces.length < maxLength - 1; i++) {
      if (ps[i].startsWith('\u2581') || w < 0) w++;
      pieces.push(ps[i]); ids.push(is[i]); wordIndex.push(w);
    }
    pieces.push(sep); ids.push(this.id(sep)); wordIndex.push(-1);
    return { pieces, ids, wordIndex };
  }
}
