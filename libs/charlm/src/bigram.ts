import type { BatchedStream } from './batching.ts';

/**
 * The baseline a character LM must beat: P(next | previous) with add-k smoothing over the dictionary,
 * estimated from the training split.
 */
export class CharBigram {
  private readonly pair: Float64Array;
  private readonly row: Float64Array;
  constructor(readonly vocabSize: number, readonly k: number) {
    this.pair = new Float64Array(vocabSize * vocabSize);
    this.row = new Float64Array(vocabSize);
  }

  /** Counts the successive pairs of a stream. */
  add(ids: ArrayLike<number>, from = 0, to = ids.length): this {
    const V = this.vocabSize;
    for (let i = from + 1; i < to; i++) {
      this.pair[ids[i - 1] * V + ids[i]]++;
      this.row[ids[i - 1]]++;
    }
    return this;
  }

  /** log2 P(next | prev) */
  log2Prob(prev: number, next: number): number {
    const V = this.vocabSize;
    return Math.log2((this.pair[prev * V + next] + this.k) / (this.row[prev] + this.k * V));
  }

  /** Bits per character over the successive pairs of a stream. */
  bitsPerChar(ids: ArrayLike<number>, from = 0, to = ids.length): number {
    let bits = 0;
    for (let i = from + 1; i < to; i++) bits -= this.log2Prob(ids[i - 1], ids[i]);
    return bits / Math.max(1, to - from - 1);
  }

  /** Bits per character over exactly the (input, target) pairs an LM is scored on in a batched stream. */
  bitsPerCharBatched(s: BatchedStream): number {
    let bits = 0;
    const B = s.batch;
    for (let t = 0; t + 1 < s.rows; t++) for (let b = 0; b < B; b++) bits -= this.log2Prob(s.data[t * B + b], s.data[(t + 1) * B + b]);
    return bits / Math.max(1, (s.rows - 1) * B);
  }
}

/**
 * Chooses k on the training split alone: counts on its first 90 %, scores each candidate on the last
 * 10 %, then refits the chosen k on all of it.
 */
export function estimateBigram(train: Int32Array[], vocabSize: number, candidates = [1, 0.5, 0.2, 0.1, 0.05, 0.02, 0.01, 0.005, 0.001]): CharBigram {
  let bestK = candidates[0];
  let best = Infinity;
  for (const k of candidates) {
    const m = new CharBigram(vocabSize, k);
    let bits = 0;
    let n = 0;
    for (const ids of train) m.add(ids, 0, Math.floor(ids.length * 0.9));
    for (const ids of train) {
      const from = Math.floor(ids.length * 0.9);
      if (ids.length - from < 2) continue;
      bits += m.bitsPerChar(ids, from) * (ids.length - from - 1);
      n += ids.length - from - 1;
    }
    const bpc = n ? bits / n : 0;
    if (bpc < best) [best, bestK] = [bpc, k];
  }
  const model = new CharBigram(vocabSize, bestK);
  for (const ids of train) model.add(ids);
  return model;
}
