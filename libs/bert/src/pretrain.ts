import * as tf from '@tensorflow/tfjs-core';
import { Rng, type TensorMap } from '@biore/runtime';
import { Adam, clipByGlobalNorm } from '@biore/nn';
import { BasicTokenizer, trainWordPieceVocab, type WordPieceTokenizer } from '@biore/text';
import { BertModel } from './model.ts';

/**
 * Masked-LM pre-training pieces (Devlin et al. 2019, without next-sentence prediction): a WordPiece
 * vocabulary learnt from the corpus, documents packed into [CLS] … [SEP] sequences, 15% of the pieces
 * chosen for prediction (80% → [MASK], 10% → a random piece, 10% unchanged), cross-entropy on those.
 */

/** A WordPiece vocabulary trained on corpus lines (basic-tokenized, lower-cased when doLowerCase). */
export function corpusVocabulary(lines: Iterable<string>, o: { vocabSize: number; doLowerCase: boolean; minFrequency?: number; unused?: number }): string[] {
  const basic = new BasicTokenizer({ doLowerCase: o.doLowerCase });
  const counts = new Map<string, number>();
  for (const line of lines) for (const w of basic.tokenize(line)) counts.set(w, (counts.get(w) ?? 0) + 1);
  return trainWordPieceVocab(counts, { vocabSize: o.vocabSize, minFrequency: o.minFrequency ?? 2, unused: o.unused ?? 20 });
}

/**
 * Packs text lines (sentences or documents, in corpus order) into sequences of exactly maxLength ids,
 * [CLS] and [SEP] included, the pieces running on across lines (RoBERTa's FULL-SENTENCES packing, with one
 * segment); a final remainder shorter than half a sequence is dropped.
 */
export function packSequences(lines: Iterable<string>, tokenizer: WordPieceTokenizer, maxLength: number): number[][] {
  const room = maxLength - 2;
  const cls = tokenizer.id('[CLS]'), sep = tokenizer.id('[SEP]');
  const out: number[][] = [];
  let cur: number[] = [];
  for (const line of lines) {
    for (const p of tokenizer.tokenize(line)) {
      cur.push(tokenizer.id(p));
      if (cur.length === room) { out.push([cls, ...cur, sep]); cur = []; }
    }
  }
  if (cur.length >= room / 2) out.push([cls, ...cur, sep]);
  return out;
}

export interface MlmBatch {
  B: number;
  T: number;
  inputIds: Int32Array;
  attentionMask: Float32Array;
  /** flat indices b·T + t of the positions to predict */
  positions: Int32Array;
  /** the original ids at those positions */
  labels: Int32Array;
}

/**
 * Chooses 15% of each sequence's non-special pieces (at least one) to predict; of those 80% become [MASK],
 * 10% a random non-special piece, 10% stay. Deterministic in the Rng.
 */
export function maskSequences(seqs: readonly number[][], tokenizer: WordPieceTokenizer, rng: Rng, prob = 0.15): MlmBatch {
  const B = seqs.length;
  const T = Math.max(...seqs.map((s) => s.length));
  const inputIds = new Int32Array(B * T), attentionMask = new Float32Array(B * T);
  const positions: number[] = [], labels: number[] = [];
  const special = new Set(['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]'].map((t) => tokenizer.idOf.get(t)).filter((x) => x !== undefined));
  const maskId = tokenizer.id('[MASK]');
  // random replacements come from ordinary pieces only (not [unusedN] or specials)
  const ordinary: number[] = [];
  tokenizer.vocab.forEach((t, i) => { if (!/^\[.*\]$/.test(t)) ordinary.push(i); });
  seqs.forEach((s, b) => {
    s.forEach((id, t) => { inputIds[b * T + t] = id; attentionMask[b * T + t] = 1; });
    const candidates = s.map((id, t) => t).filter((t) => !special.has(s[t]));
    if (candidates.length === 0) return;
    rng.shuffle(candidates);
    const n = Math.max(1, Math.round(candidates.length * prob));
    for (const t of candidates.slice(0, n).sort((a, c) => a - c)) {
      positions.push(b * T + t);
      labels.push(s[t]);
      const r = rng.next();
      if (r < 0.8) inputIds[b * T + t] = maskId;
      else if (r < 0.9) inputIds[b * T + t] = ordinary[rng.int(ordinary.length)];
    }
  });
  return { B, T, inputIds, attentionMask, positions: Int32Array.from(positions), labels: Int32Array.from(labels) };
}

/** Mean cross-entropy of the masked-LM head over the chosen positions. */
export function mlmLoss(model: BertModel, batch: MlmBatch, training: boolean, rng?: Rng): tf.Scalar {
  return tf.tidy(() => {
    const { B, T } = batch;
    const out = model.forward({ inputIds: tf.tensor2d(batch.inputIds, [B, T], 'int32'), attentionMask: tf.tensor2d(batch.attentionMask, [B, T]) }, { training, rng });
    const H = model.config.hidden_size;
    const picked = tf.gather(tf.reshape(out.lastHiddenState, [B * T, H]), tf.tensor1d(batch.positions, 'int32')) as tf.Tensor2D;
    const logits = model.mlmLogits(picked);
    const oneHot = tf.oneHot(tf.tensor1d(batch.labels, 'int32'), model.config.vocab_size);
    return tf.neg(tf.mean(tf.sum(tf.mul(oneHot, tf.logSoftmax(logits)), 1))) as tf.Scalar;
  });
}

/**
 * The optimiser side of pre-training: AdamW (decay 0.01) on weights, plain Adam on biases and LayerNorm as in
 * BERT, linear warm-up then linear decay, global-norm clipping at 1. State round-trips for exact resume.
 */
export class MlmPretrainer {
  private readonly decay: Adam;
  private readonly plain: Adam;
  private readonly decayVars: Record<string, tf.Variable> = {};
  private readonly plainVars: Record<string, tf.Variable> = {};
  step = 0;
  constructor(readonly model: BertModel, readonly o: { lr: number; totalSteps: number; warmupSteps: number; weightDecay?: number; clipNorm?: number }) {
    this.decay = new Adam(o.lr, { beta1: 0.9, beta2: 0.999, epsilon: 1e-6, weightDecay: o.weightDecay ?? 0.01 });
    this.plain = new Adam(o.lr, { beta1: 0.9, beta2: 0.999, epsilon: 1e-6 });
    for (const s of model.specs) (BertModel.noDecay(s.name) ? this.plainVars : this.decayVars)[s.name] = model.p(s.name);
  }

  learningRate(step = this.step): number {
    const { lr, totalSteps, warmupSteps } = this.o;
    if (step < warmupSteps) return (lr * (step + 1)) / warmupSteps;
    return Math.max(0, (lr * (totalSteps - step)) / Math.max(1, totalSteps - warmupSteps));
  }

  /** One optimiser step on one batch; returns the loss. */
  train(batch: MlmBatch, rng: Rng): number {
    const all = { ...this.decayVars, ...this.plainVars };
    const lr = this.learningRate();
    this.decay.lr = lr;
    this.plain.lr = lr;
    const loss = tf.tidy(() => {
      const { value, grads } = tf.variableGrads(() => mlmLoss(this.model, batch, true, rng), Object.values(all));
      const named: Record<string, tf.Tensor> = {};
      for (const [k, v] of Object.entries(all)) if (grads[v.name]) named[k] = grads[v.name];
      const clipped = clipByGlobalNorm(named, this.o.clipNorm ?? 1).grads;
      const pick = (vars: Record<string, tf.Variable>) => Object.fromEntries(Object.keys(vars).filter((k) => clipped[k]).map((k) => [k, clipped[k]]));
      this.decay.step(pick(this.decayVars), this.decayVars);
      this.plain.step(pick(this.plainVars), this.plainVars);
      return value.dataSync()[0];
    });
    this.step++;
    return loss;
  }

  getState(): { json: Record<string, unknown>; tensors: TensorMap } {
    const d = this.decay.getState(), p = this.plain.getState();
    const tensors: TensorMap = {};
    for (const [k, v] of Object.entries(d.tensors)) tensors[`decay/${k}`] = v;
    for (const [k, v] of Object.entries(p.tensors)) tensors[`plain/${k}`] = v;
    return { json: { step: this.step, decay: d.json, plain: p.json }, tensors };
  }

  setState(s: { json: Record<string, unknown>; tensors: TensorMap }): void {
    const part = (prefix: string): TensorMap => Object.fromEntries(Object.entries(s.tensors).filter(([k]) => k.startsWith(prefix)).map(([k, v]) => [k.slice(prefix.length), v]));
    this.decay.setState({ json: s.json.decay as Record<string, unknown>, tensors: part('decay/') });
    this.plain.setState({ json: s.json.plain as Record<string, unknown>, tensors: part('plain/') });
    this.step = Number(s.json.step);
  }

  dispose(): void {
    this.decay.dispose();
    this.plain.dispose();
  }
}
