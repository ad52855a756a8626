import * as tf from '@tensorflow/tfjs-core';
import { Rng, UserError } from '@biore/runtime';
import { LSTM, dropout, normalVariable, constantVariable } from '@biore/nn';
import { BertModel, loadBertAny } from '@biore/bert';
import type { SubwordTokenizer } from '@biore/text';
import { applyIndicator, PLACEHOLDERS, TAG_NAMES, type EntityIndicator, type RelationInstance } from '@biore/re-data';
import { registerREModelFamily, type REModel, type REModelConfig } from './contract.ts';
import { cropAroundEntities } from './crop.ts';

/**
 * The classification heads of Su & Vijay-Shanker (their Tables III and IV) on a BERT encoder:
 * - `cls`: h = h_CLS^L (BERT's usual classifier)
 * - `att_ll`: h = O, O = Σ α_i h_i^L with α = softmax(h^L K), K ∈ R^H, over the last layer's tokens
 *   h_1..h_N, i.e. without [CLS], [SEP] and padding
 * - `lstm_ll`: h = O, O = the last LSTM output over h_1^L..h_N^L
 * - `cls+att_ll`, `cls+lstm_ll`: h = [h_CLS^L; O]
 * - `att_cls`, `lstm_cls`: h = O, the attention / LSTM summary of the [CLS] vectors of layers 1..L (Song et al.)
 * and then p = softmax(W_f h + b_f), with dropout on h while training.
 */
export const BERT_HEADS = ['cls', 'cls+att_ll', 'cls+lstm_ll', 'att_ll', 'lstm_ll', 'att_cls', 'lstm_cls'] as const;
export type BertHead = (typeof BERT_HEADS)[number];

export interface BertREConfig extends REModelConfig {
  family: 'bert';
  /** a HF BERT folder (config.json, vocab.txt or a SentencePiece .model, model.safetensors or pytorch_model.bin): the starting weights and the tokenizer */
  bert: string;
  head: BertHead;
  /** word pieces per instance, [CLS] and [SEP] included (paper: 128); longer sentences are cropped around the entities */
  maxLength: number;
  /** dropout on h before the softmax layer (BERT's 0.1) */
  dropout: number;
  /** LSTM units of the lstm_* heads (default: the BERT hidden size) */
  lstmHidden?: number;
  /** 'pooled': tanh(dense(h_CLS)) as BERT's classifier (BioBERT's run_re); 'raw': h_CLS^L itself */
  clsVector: 'pooled' | 'raw';
  /** 'reference': entity markers tokenized as BERT's tokenizer does (@GENE$ → @ gene $, BioBERT); 'unused': mapped to [unused0..] */
  markerTokens: 'reference' | 'unused';
}

export const BERT_RE_DEFAULTS = { head: 'cls' as BertHead, maxLength: 128, dropout: 0.1, clsVector: 'pooled' as const, markerTokens: 'reference' as const };

export interface BertBatch {
  B: number;
  /** padded length in word pieces, [CLS] and [SEP] included */
  T: number;
  ids: Int32Array;
  mask: Float32Array;
  /** word pieces between [CLS] and [SEP], per instance */
  lengths: number[];
  pieces: string[][];
  /** words (with indicators) and, per piece, the word it belongs to (-1 for [CLS], [SEP], padding) */
  words: string[][];
  pieceWord: Int32Array;
}

/** The markers of the 'unused' option: every placeholder and tag of re-data, each given its own [unusedN]. */
export function unusedMarkerMap(): Record<string, string> {
  const markers = [...Object.values(PLACEHOLDERS), ...Object.values(TAG_NAMES).flatMap((t) => [`<${t}>`, `</${t}>`])];
  return Object.fromEntries(markers.map((m, i) => [m, `[unused${i}]`]));
}

export class BertREModel implements REModel<BertBatch> {
  readonly family = 'bert';
  readonly labels: readonly string[];
  readonly indicator: EntityIndicator;
  private readonly K?: tf.Variable;
  private readonly lstm?: LSTM;
  private readonly Wf: tf.Variable;
  private readonly bf: tf.Variable;
  readonly summaryOf: 'last-layer' | 'cls-layers' | 'none';
  readonly summarizer: 'att' | 'lstm' | 'none';
  readonly usesCls: boolean;

  constructor(private readonly cfg: BertREConfig, readonly bert: BertModel, readonly tokenizer: SubwordTokenizer, rng: Rng) {
    if (!BERT_HEADS.includes(cfg.head)) throw new UserError(`unknown BERT head '${cfg.head}'; expected one of ${BERT_HEADS.join(', ')}`);
    if (!(cfg.maxLength >= 3 && cfg.maxLength <= bert.config.max_position_embeddings)) {
      throw new UserError(`maxLength ${cfg.maxLength} must be in [3, ${bert.config.max_position_embeddings}] (the BERT's max_position_embeddings)`);
    }
    this.labels = cfg.labels;
    this.indicator = cfg.indicator;
    const H = bert.config.hidden_size;
    const h = cfg.head;
    this.usesCls = h === 'cls' || h.startsWith('cls+');
    this.summaryOf = h.endsWith('_ll') ? 'last-layer' : h.endsWith('_cls') ? 'cls-layers' : 'none';
    this.summarizer = h.includes('att_') ? 'att' : h.includes('lstm_') ? 'lstm' : 'none';
    const std = bert.config.initializer_range;
    let width = this.usesCls ? H : 0;
    if (this.summarizer === 'att') {
      this.K = normalVariable('head/K', [H], std, rng);
      width += H;
    } else if (this.summarizer === 'lstm') {
      this.lstm = new LSTM('head/lstm', { inputSize: H, hiddenSize: cfg.lstmHidden ?? H }, rng);
      width += this.lstm.outputSize;
    }
    this.Wf = normalVariable('head/output/kernel', [width, cfg.labels.length], std, rng);
    this.bf = constantVariable('head/output/bias', [cfg.labels.length], 0);
  }

  prepare(instances: readonly RelationInstance[]): BertBatch {
    const max = this.cfg.maxLength;
    const enc = instances.map((inst) => {
      let words = applyIndicator(inst, this.indicator);
      let e = this.tokenizer.encodeWords(words, Number.MAX_SAFE_INTEGER);
      // crop whole words around the two entities until the pieces fit (plain cutting could drop an entity)
      let keep = inst.tokens.length;
      while (e.ids.length > max && keep > 1) {
        keep = Math.max(1, Math.min(keep - 1, Math.floor((keep * (max - 2)) / (e.ids.length - 2))));
        words = applyIndicator(cropAroundEntities(inst, keep), this.indicator);
        e = this.tokenizer.encodeWords(words, Number.MAX_SAFE_INTEGER);
      }
      if (e.ids.length > max) e = this.tokenizer.encodeWords(words, max);
      return { e, words };
    });
    const B = instances.length;
    const T = Math.max(...enc.map(({ e }) => e.ids.length));
    const ids = new Int32Array(B * T), mask = new Float32Array(B * T), pieceWord = new Int32Array(B * T).fill(-1);
    enc.forEach(({ e }, b) => {
      e.ids.forEach((id, t) => { ids[b * T + t] = id; mask[b * T + t] = 1; pieceWord[b * T + t] = e.wordIndex[t]; });
    });
    return { B, T, ids, mask, lengths: enc.map(({ e }) => e.ids.length - 2), pieces: enc.map(({ e }) => e.pieces), words: enc.map(({ words }) => words), pieceWord };
  }

  words(batch: BertBatch): string[][] {
    return batch.words;
  }

  /** [B, T] mask of the last layer's "other" tokens h_1..h_N: no [CLS], no [SEP], no padding. */
  static otherTokensMask(lengths: number[], T: number): Float32Array {
    const m = new Float32Array(lengths.length * T);
    lengths.forEach((n, b) => m.fill(1, b * T + 1, b * T + 1 + n));
    return m;
  }

  /** softmax(h·K) over the positions where mask is 1 (exactly 0 elsewhere), and O = Σ α_i h_i. */
  static attend(h: tf.Tensor3D, K: tf.Tensor1D, mask: tf.Tensor2D): { context: tf.Tensor2D; weights: tf.Tensor2D } {
    return tf.tidy(() => {
      const [B, T, H] = h.shape;
      const scores = tf.reshape(tf.matMul(tf.reshape(h, [B * T, H]), tf.reshape(K, [H, 1])), [B, T]);
      const masked = tf.add(scores, tf.mul(tf.sub(1, mask), -1e9));
      const weights = tf.mul(tf.softmax(masked, 1), mask) as tf.Tensor2D;
      const context = tf.reshape(tf.matMul(tf.reshape(weights, [B, 1, T]), h), [B, H]) as tf.Tensor2D;
      return { context, weights };
    });
  }

  /** The representation h fed to the softmax layer, and the head's attention over word pieces where it has one. */
  represent(batch: BertBatch, training: boolean, dropoutSeed = 0): { h: tf.Tensor2D; pieceAttention?: tf.Tensor2D; layerAttention?: tf.Tensor2D } {
    return tf.tidy(() => {
      const { B, T } = batch;
      const rng = new Rng(dropoutSeed);
      const out = this.bert.forward(
        { inputIds: tf.tensor2d(batch.ids, [B, T], 'int32'), attentionMask: tf.tensor2d(batch.mask, [B, T]) },
        { training, rng },
      );
      const last = out.lastHiddenState;
      const H = last.shape[2];
      const parts: tf.Tensor2D[] = [];
      if (this.usesCls) parts.push(this.cfg.clsVector === 'raw' ? (tf.reshape(tf.slice(last, [0, 0, 0], [B, 1, H]), [B, H]) as tf.Tensor2D) : out.pooled);
      let pieceAttention: tf.Tensor2D | undefined, layerAttention: tf.Tensor2D | undefined;
      if (this.summaryOf === 'last-layer') {
        if (this.summarizer === 'att') {
          const mask = tf.tensor2d(BertREModel.otherTokensMask(batch.lengths, T), [B, T]);
          const { context, weights } = BertREModel.attend(last, this.K as tf.Tensor1D, mask);
          parts.push(context);
          pieceAttention = weights;
        } else {
          // h_1..h_N: drop [CLS]; lengths stop before [SEP] and padding
          const others = tf.slice(last, [0, 1, 0], [B, T - 1, H]) as tf.Tensor3D;
          parts.push(this.lstm!.forward(others, { lengths: batch.lengths }).final.h);
        }
      } else if (this.summaryOf === 'cls-layers') {
        const L = out.hiddenStates.length - 1;
        const clsAll = tf.stack(out.hiddenStates.slice(1).map((hs) => tf.reshape(tf.slice(hs, [0, 0, 0], [B, 1, H]), [B, H])), 1) as tf.Tensor3D;
        if (this.summarizer === 'att') {
          const { context, weights } = BertREModel.attend(clsAll, this.K as tf.Tensor1D, tf.ones([B, L]) as tf.Tensor2D);
          parts.push(context);
          layerAttention = weights;
        } else {
          parts.push(this.lstm!.forward(clsAll).final.h);
        }
      }
      let h = (parts.length === 1 ? parts[0] : tf.concat(parts, 1)) as tf.Tensor2D;
      if (training && this.cfg.dropout > 0) h = dropout(h, this.cfg.dropout, rng, true) as tf.Tensor2D;
      return { h, pieceAttention, layerAttention };
    });
  }

  forward(batch: BertBatch, training: boolean, dropoutSeed = 0): { logits: tf.Tensor2D; attention?: tf.Tensor2D } {
    return tf.tidy(() => {
      const { h, pieceAttention } = this.represent(batch, training, dropoutSeed);
      const logits = tf.add(tf.matMul(h, this.Wf as tf.Tensor2D), this.bf) as tf.Tensor2D;
      if (!pieceAttention) return { logits };
      // a word's weight is the sum of its pieces' weights, aligned with words(batch)
      const W = Math.max(1, ...batch.words.map((w) => w.length));
      const { B, T } = batch;
      const assign = new Float32Array(B * T * W);
      for (let b = 0; b < B; b++) for (let t = 0; t < T; t++) {
        const w = batch.pieceWord[b * T + t];
        if (w >= 0) assign[(b * T + t) * W + w] = 1;
      }
      const attention = tf.reshape(tf.matMul(tf.reshape(pieceAttention, [B, 1, T]), tf.tensor3d(assign, [B, T, W])), [B, W]) as tf.Tensor2D;
      return { logits, attention };
    });
  }

  private headVariables(): Record<string, tf.Variable> {
    const v: Record<string, tf.Variable> = { 'head/output/kernel': this.Wf, 'head/output/bias': this.bf };
    if (this.K) v['head/K'] = this.K;
    if (this.lstm) Object.assign(v, this.lstm.variables());
    return v;
  }

  trainableVariables(): Record<string, tf.Variable> {
    const v: Record<string, tf.Variable> = {};
    const poolerUsed = this.usesCls && this.cfg.clsVector === 'pooled';
    for (const s of this.bert.specs) {
      if (s.mlmHead || (!poolerUsed && s.name.startsWith('pooler.'))) continue; // no gradient reaches them
      v[`bert/${s.name}`] = this.bert.p(s.name);
    }
    return { ...v, ...this.headVariables() };
  }

  /** BERT's fine-tuning rule: no weight decay on biases and LayerNorm parameters */
  noWeightDecay(name: string): boolean {
    return name.startsWith('bert/') ? BertModel.noDecay(name.slice('bert/'.length)) : name.endsWith('/bias');
  }

  weights(): Record<string, tf.Variable> {
    const v: Record<string, tf.Variable> = {};
    for (const s of this.bert.specs) if (!s.mlmHead) v[`bert/${s.name}`] = this.bert.p(s.name);
    return { ...v, ...this.headVariables() };
  }

  config(): BertREConfig {
    return { ...this.cfg };
  }

  dispose(): void {
    for (const v of Object.values(this.headVariables())) v.dispose();
    this.bert.dispose();
  }
}

registerREModelFamily('bert', {
  async create(config, rng) {
    const cfg = { ...BERT_RE_DEFAULTS, ...config } as BertREConfig;
    if (typeof cfg.bert !== 'string') throw new UserError("a 'bert' RE model config needs 'bert': the path of a BERT folder");
    const { model, tokenizer } = await loadBertAny(cfg.bert, { tokenizer: cfg.markerTokens === 'unused' ? { markers: unusedMarkerMap() } : {} });
    try {
      return new BertREModel(cfg, model, tokenizer, rng);
    } catch (e) {
      model.dispose();
      throw e;
    }
  },
});
