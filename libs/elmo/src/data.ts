import { Rng } from '@biore/runtime';
import { splitSentences, words } from '@biore/text';
import { BOS_TOKEN, EOS_TOKEN, tokenBatch } from './chars.ts';
import type { BilmVocabulary } from './vocab.ts';
import type { LmBatch } from './loss.ts';

/** A document's sentences as token lists (the text lib's sentence splitter and word tokenizer). */
export function tokenizeDocument(text: string): string[][] {
  const out: string[][] = [];
  for (const span of splitSentences(text)) {
    const ws = words(text.slice(span.start, span.end));
    if (ws.length) out.push(ws);
  }
  return out;
}

/**
 * A deterministic held-out split by document: document i is held out when i % every === every - 1
 * (every 10th document by default), so the split depends only on the corpus order.
 */
export function isHeldOut(docIndex: number, every = 10): boolean {
  return docIndex % every === every - 1;
}

/**
 * Training sequences from sentences: each sentence becomes `<S> w1 … wn </S>`, cut into windows of at most
 * `window` tokens that overlap by one token, so every token but the first is predicted exactly once by the
 * forward LM and every token but the last exactly once by the backward LM.
 */
export function toSequences(sentences: readonly (readonly string[])[], window: number): string[][] {
  if (window < 2) throw new Error('window must hold at least two tokens');
  const out: string[][] = [];
  for (const s of sentences) {
    const marked = [BOS_TOKEN, ...s, EOS_TOKEN];
    for (let start = 0; start < marked.length - 1; start += window - 1) out.push(marked.slice(start, start + window));
  }
  return out;
}

/** Builds the padded batch of sequences as character ids and word ids. */
export function makeBatch(seqs: readonly (readonly string[])[], vocab: BilmVocabulary, maxChars: number): LmBatch {
  const tb = tokenBatch(seqs, maxChars);
  const T = tb.shape[1];
  const wordIds = new Int32Array(seqs.length * T);
  seqs.forEach((s, b) => s.forEach((w, t) => { wordIds[b * T + t] = vocab.id(w); }));
  return { ...tb, wordIds };
}

/**
 * The batch order of one epoch, a pure function of (seed, epoch): shuffle the sequences, sort each pool of
 * 20 batches by length (less padding), cut into batches, shuffle the batches. A resumed run rebuilds it
 * from the epoch number alone.
 */
export function epochBatches(nSeqs: number, lengths: (i: number) => number, batchSize: number, seed: number, epoch: number): number[][] {
  const rng = new Rng([seed >>> 0, epoch >>> 0, 0x454c4d4f, 1]);
  const order = rng.shuffle(Array.from({ length: nSeqs }, (_, i) => i));
  const pool = batchSize * 20;
  const batches: number[][] = [];
  for (let p = 0; p < order.length; p += pool) {
    const chunk = order.slice(p, p + pool).sort((a, b) => lengths(a) - lengths(b) || a - b);
    for (let i = 0; i < chunk.length; i += batchSize) batches.push(chunk.slice(i, i + batchSize));
  }
  return rng.shuffle(batches);
}

/**
 * The unigram baseline: word probabilities from the training counts of every predicted token (words and
 * `</S>`, OOV words as `<UNK>`), add-one smoothed; returns the perplexity on the held-out sequences' forward targets.
 */
export function unigramPerplexity(train: readonly (readonly string[])[], heldout: readonly (readonly string[])[], vocab: BilmVocabulary): { perplexity: number; tokens: number } {
  const logp = unigramLogProbs(train, vocab);
  let nll = 0;
  let n = 0;
  for (const s of heldout) {
    for (let t = 1; t < s.length; t++) {
      nll -= logp[vocab.id(s[t])];
      n++;
    }
  }
  return { perplexity: Math.exp(nll / n), tokens: n };
}

/** log of the add-one smoothed training frequency of every vocabulary id as a predicted token. */
export function unigramLogProbs(train: readonly (readonly string[])[], vocab: BilmVocabulary): Float64Array {
  const counts = new Float64Array(vocab.size);
  let total = 0;
  for (const s of train) for (let t = 1; t < s.length; t++) { counts[vocab.id(s[t])]++; total++; }
  return counts.map((c) => Math.log((c + 1) / (total + vocab.size)));
}
