import * as tf from '@tensorflow/tfjs-core';
import { Rng } from '@biore/runtime';
import { dropout } from '@biore/nn';
import type { BidirectionalLM } from './model.ts';
import type { TokenBatch } from './chars.ts';

/**
 * One training batch: right-padded token sequences as character ids (+1 convention) and as word ids of the
 * softmax vocabulary. Position t's forward output predicts word t+1, its backward output word t-1.
 */
export interface LmBatch extends TokenBatch {
  /** [B·T] word ids, row-major */
  wordIds: Int32Array;
}

export interface LmLoss {
  /** 0.5·(forward mean NLL + backward mean NLL), as bilm-tf's total loss */
  loss: tf.Scalar;
  forwardNll: tf.Scalar;
  backwardNll: tf.Scalar;
  /** predicted tokens per direction */
  count: number;
}

/**
 * A log-uniform (Zipfian) sample of `n` distinct word ids of a frequency-sorted vocabulary of size V, with the
 * expected count of every id under that many tries: TF's log_uniform_candidate_sampler with unique=True,
 * the sampler bilm-tf's sampled softmax uses.
 */
export class LogUniformSampler {
  private readonly logV1: number;
  constructor(readonly vocabSize: number) {
    this.logV1 = Math.log(vocabSize + 1);
  }
  prob(k: number): number {
    return Math.log((k + 2) / (k + 1)) / this.logV1;
  }
  sample(n: number, rng: Rng): { ids: Int32Array; tries: number } {
    if (n >= this.vocabSize) throw new Error(`cannot sample ${n} distinct ids from ${this.vocabSize}`);
    const seen = new Set<number>();
    const ids = new Int32Array(n);
    let tries = 0;
    while (seen.size < n) {
      tries++;
      const k = Math.min(this.vocabSize - 1, Math.floor(Math.exp(rng.next() * this.logV1)) - 1);
      if (!seen.has(k)) {
        ids[seen.size] = k;
        seen.add(k);
      }
    }
    return { ids, tries };
  }
  /** log of the expected count of id k in `tries` draws: log(1 − (1 − p)^tries) */
  logExpected(k: number, tries: number): number {
    return Math.log(-Math.expm1(tries * Math.log1p(-this.prob(k))));
  }
}

/** Host-side index lists: which output rows predict which word, per direction. */
function targets(batch: LmBatch) {
  const [B, T] = batch.shape;
  const fwRows: number[] = [];
  const fwIds: number[] = [];
  const bwRows: number[] = [];
  const bwIds: number[] = [];
  for (let b = 0; b < B; b++) {
    const len = batch.lengths[b];
    for (let t = 0; t < len; t++) {
      if (t + 1 < len) { fwRows.push(b * T + t); fwIds.push(batch.wordIds[b * T + t + 1]); }
      if (t >= 1) { bwRows.push(b * T + t); bwIds.push(batch.wordIds[b * T + t - 1]); }
    }
  }
  return { fwRows, fwIds, bwRows, bwIds };
}

/** Mean negative log-likelihood of `ids` under the full softmax over the vocabulary. */
function fullNll(h: tf.Tensor2D, ids: number[], W: tf.Tensor2D, b: tf.Tensor1D): tf.Scalar {
  const logits = tf.add(tf.matMul(h, W, false, true), b);
  const t = tf.tensor1d(ids, 'int32');
  const trueLogit = tf.add(tf.sum(tf.mul(h, tf.gather(W, t)), 1), tf.gather(b, t));
  return tf.mean(tf.sub(tf.logSumExp(logits, 1), trueLogit));
}

/**
 * Sampled softmax (Jean et al.; TF's sampled_softmax_loss): the true word against the sampled ones, each logit
 * corrected by −log(expected count), sampled ids equal to the true one ("accidental hits") removed.
 */
function sampledNll(h: tf.Tensor2D, ids: number[], W: tf.Tensor2D, b: tf.Tensor1D, s: { ids: Int32Array; tries: number }, sampler: LogUniformSampler): tf.Scalar {
  const S = tf.tensor1d(s.ids, 'int32');
  const logQs = tf.tensor1d(Float32Array.from(s.ids, (k) => sampler.logExpected(k, s.tries)));
  const logQt = tf.tensor1d(Float32Array.from(ids, (k) => sampler.logExpected(k, s.tries)));
  const t = tf.tensor1d(ids, 'int32');
  const trueLogit = tf.sub(tf.add(tf.sum(tf.mul(h, tf.gather(W, t)), 1), tf.gather(b, t)), logQt);
  let sampled = tf.sub(tf.add(tf.matMul(h, tf.gather(W, S), false, true), tf.gather(b, S)), logQs);
  const hit = tf.equal(tf.expandDims(t, 1), tf.expandDims(S, 0));
  sampled = tf.where(hit, tf.fill(sampled.shape, -1e9), sampled);
  const all = tf.concat([tf.expandDims(trueLogit, 1), sampled], 1);
  return tf.mean(tf.sub(tf.logSumExp(all, 1), trueLogit));
}

export interface LossOptions {
  training?: boolean;
  rng?: Rng;
  /** number of sampled negatives; 0 (or ≥ vocabulary size) means the full softmax */
  negatives?: number;
  sampler?: LogUniformSampler;
}

/**
 * The biLM's loss on a batch: both directions share the softmax; the result is the mean of the two
 * directions' mean NLL. Call inside tf.tidy or variableGrads.
 */
export function bilmLoss(model: BidirectionalLM, batch: LmBatch, opts: LossOptions = {}): LmLoss {
  if (!model.softmaxW || !model.softmaxB) throw new Error('this biLM has no softmax (loaded for embedding only)');
  const W = model.softmaxW as tf.Tensor2D;
  const b = model.softmaxB as tf.Tensor1D;
  const tg = targets(batch);
  if (tg.fwIds.length === 0) throw new Error('a batch needs sequences of at least two tokens');
  const acts = model.run(batch, { training: opts.training, rng: opts.rng });
  const [B, T] = batch.shape;
  const P = model.dim;
  const rate = opts.training ? (model.options.dropout ?? 0) : 0;
  const top = (x: tf.Tensor3D) => {
    const flat = tf.reshape(x, [B * T, P]) as tf.Tensor2D;
    return rate > 0 ? (dropout(flat, rate, opts.rng!, true) as tf.Tensor2D) : flat;
  };
  const L = model.forwardLayers.length;
  const hf = tf.gather(top(acts.forward[L - 1]), tf.tensor1d(tg.fwRows, 'int32')) as tf.Tensor2D;
  const hb = tf.gather(top(acts.backward[L - 1]), tf.tensor1d(tg.bwRows, 'int32')) as tf.Tensor2D;
  const n = opts.negatives ?? 0;
  let fwNll: tf.Scalar;
  let bwNll: tf.Scalar;
  if (n > 0 && n < model.vocabSize) {
    const sampler = opts.sampler ?? new LogUniformSampler(model.vocabSize);
    if (!opts.rng) throw new Error('sampled softmax needs an rng');
    // one sample for the whole batch, as TF's sampled_softmax_loss draws once per call (per direction here)
    fwNll = sampledNll(hf, tg.fwIds, W, b, sampler.sample(n, opts.rng), sampler);
    bwNll = sampledNll(hb, tg.bwIds, W, b, sampler.sample(n, opts.rng), sampler);
  } else {
    fwNll = fullNll(hf, tg.fwIds, W, b);
    bwNll = fullNll(hb, tg.bwIds, W, b);
  }
  return { loss: tf.mul(tf.add(fwNll, bwNll), 0.5) as tf.Scalar, forwardNll: fwNll, backwardNll: bwNll, count: tg.fwIds.length };
}
