import * as tf from '@tensorflow/tfjs-core';
import { Rng } from '@biore/runtime';
import { BiLSTM, Dense, additiveAttention, dropout, glorotLimit, uniformVariable } from '@biore/nn';
import { loadEmbedder, type Embedder, type EmbedderSpec } from '@biore/embeddings';
import { applyIndicator, type EntityIndicator, type RelationInstance } from '@biore/re-data';
import { registerREModelFamily, type REModel, type REModelConfig } from './contract.ts';
import { cropAroundEntities } from './crop.ts';

export interface LiteConfig extends REModelConfig {
  family: 'lite';
  embeddings: EmbedderSpec;
  /** LSTM units per direction (Hiai et al.: 256) */
  hidden: number;
  /** dropout on the stacked embeddings and on h* before the softmax layer */
  dropoutEmbedding: number;
  dropoutOutput: number;
  /** sentences longer than this are cropped around the two entities (0: never) */
  maxTokens: number;
}

export interface LiteBatch {
  words: string[][];
  lengths: number[];
}

/**
 * The BiLSTM with attention of Zhou et al. (2016) as Hiai et al. write it (their Eqs. 1-10):
 * h_i = [fw_i; bw_i], m_i = w^T tanh(h_i), a = softmax(m), r = sum_i a_i h_i, h* = tanh(r),
 * p(y|X) = softmax(W_s h* + b_s), over the stacked embeddings X of the sentence with its entity indicators.
 */
export class LiteREModel implements REModel<LiteBatch> {
  readonly family = 'lite';
  readonly labels: readonly string[];
  readonly indicator: EntityIndicator;
  private readonly bilstm: BiLSTM;
  private readonly omega: tf.Variable;
  private readonly out: Dense;

  constructor(private readonly cfg: LiteConfig, readonly embedder: Embedder, rng: Rng) {
    this.labels = cfg.labels;
    this.indicator = cfg.indicator;
    this.bilstm = new BiLSTM('bilstm', { inputSize: embedder.embeddingLength, hiddenSize: cfg.hidden }, rng);
    const width = 2 * cfg.hidden;
    this.omega = uniformVariable('attention/omega', [width], glorotLimit(width, 1), rng);
    this.out = new Dense('output', width, cfg.labels.length, rng);
  }

  prepare(instances: readonly RelationInstance[]): LiteBatch {
    const words = instances.map((inst) => applyIndicator(cropAroundEntities(inst, this.cfg.maxTokens), this.indicator));
    return { words, lengths: words.map((w) => w.length) };
  }

  precompute(instances: readonly RelationInstance[]): number {
    return this.embedder.precompute ? this.embedder.precompute(this.prepare(instances).words) : 0;
  }

  words(batch: LiteBatch): string[][] {
    return batch.words;
  }

  forward(batch: LiteBatch, training: boolean, dropoutSeed = 0): { logits: tf.Tensor2D; attention: tf.Tensor2D } {
    return tf.tidy(() => {
      let x = this.embedder.embed(batch.words);
      const rng = new Rng(dropoutSeed);
      if (training && this.cfg.dropoutEmbedding > 0) x = dropout(x, this.cfg.dropoutEmbedding, rng, true) as tf.Tensor3D;
      const h = this.bilstm.forward(x, { lengths: batch.lengths });
      const { context, weights } = additiveAttention(h, this.omega as tf.Tensor1D, batch.lengths);
      let hStar = tf.tanh(context);
      if (training && this.cfg.dropoutOutput > 0) hStar = dropout(hStar, this.cfg.dropoutOutput, rng, true) as tf.Tensor2D;
      return { logits: this.out.apply(hStar) as tf.Tensor2D, attention: weights };
    });
  }

  trainableVariables(): Record<string, tf.Variable> {
    const vars: Record<string, tf.Variable> = { ...this.bilstm.variables(), 'attention/omega': this.omega, ...this.out.variables() };
    // by position: tfjs variable names carry a process-wide counter, positions are stable across runs
    this.embedder.trainableVariables().forEach((v, i) => { vars[`embeddings/${i}`] = v; });
    return vars;
  }

  weights(): Record<string, tf.Variable> {
    return this.trainableVariables();
  }

  config(): LiteConfig {
    return { ...this.cfg, embeddings: this.embedder.describe() };
  }

  dispose(): void {
    for (const v of Object.values(this.weights())) v.dispose();
    this.embedder.dispose();
  }
}

export const LITE_DEFAULTS = { hidden: 256, dropoutEmbedding: 0.3, dropoutOutput: 0.5, maxTokens: 150 } as const;

registerREModelFamily('lite', {
  async create(config, rng) {
    const cfg = { ...LITE_DEFAULTS, ...config } as LiteConfig;
    const embedder = await loadEmbedder(cfg.embeddings);
    return new LiteREModel(cfg, embedder, rng);
  },
});
