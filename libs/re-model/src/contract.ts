import * as tf from '@tensorflow/tfjs-core';
import { UserError, type Rng, type TensorMap } from '@biore/runtime';
import type { EntityIndicator, RelationInstance } from '@biore/re-data';

/**
 * The one contract both RE families fill (the lite BiLSTM-attention over an embedding stack, and BERT with its
 * heads), so training, evaluation, prediction and checkpoints are written once and the comparison is like for like.
 * `P` is the family's host-side prepared batch (token strings for the lite model, word-piece ids for BERT).
 */
export interface REModel<P = unknown> {
  /** 'lite' or 'bert': selects the factory that rebuilds the model from its config */
  readonly family: string;
  /** every label, the negative one first; logits follow this order */
  readonly labels: readonly string[];
  readonly indicator: EntityIndicator;
  /** host-side, tensor-free preparation of a batch: indicators applied, tokenized, ids looked up */
  prepare(instances: readonly RelationInstance[]): P;
  /**
   * optional: lets a frozen encoder compute ahead for these instances (see Embedder.precompute); results
   * unchanged. Returns how many sentences it computed.
   */
  precompute?(instances: readonly RelationInstance[]): number;
  /**
   * Logits [B, labels] and, where the model has one, the attention over each sentence's words [B, T]
   * (T = the longest of `words(batch)`; padding positions 0). Callers run it inside tf.tidy.
   */
  forward(batch: P, training: boolean, dropoutSeed?: number): { logits: tf.Tensor2D; attention?: tf.Tensor2D };
  /** the words (with indicators) that `attention` is aligned with, per instance */
  words(batch: P): string[][];
  /** the variables training updates, by stable name */
  trainableVariables(): Record<string, tf.Variable>;
  /** every variable whose value a checkpoint must hold (trainable ones and any frozen ones it owns) */
  weights(): Record<string, tf.Variable>;
  /** variables (by trainableVariables() name) that AdamW's decoupled weight decay must skip; default none */
  noWeightDecay?(name: string): boolean;
  /** JSON config from which the family's factory rebuilds this model (weights loaded separately) */
  config(): REModelConfig;
  dispose(): void;
}

export interface REModelConfig {
  family: string;
  labels: string[];
  indicator: EntityIndicator;
  [option: string]: unknown;
}

export interface REModelFamily {
  /** builds a model with fresh weights from a config (embedders and encoders loaded from the paths it names) */
  create(config: REModelConfig, rng: Rng): Promise<REModel>;
}

const families = new Map<string, REModelFamily>();

export function registerREModelFamily(name: string, family: REModelFamily): void {
  families.set(name, family);
}

export async function createREModel(config: REModelConfig, rng: Rng): Promise<REModel> {
  const f = families.get(config?.family);
  if (!f) throw new UserError(`unknown RE model family '${config?.family}'; known: ${[...families.keys()].join(', ')}`);
  return f.create(config, rng);
}

/** Assigns saved weights to a model's variables, checking that every one is present with its shape. */
export function assignWeights(model: REModel, tensors: TensorMap, source: string): void {
  for (const [name, v] of Object.entries(model.weights())) {
    const t = tensors[name];
    if (!t) throw new UserError(`checkpoint lacks weight '${name}'`, { file: source });
    if (t.shape.length !== v.shape.length || t.shape.some((d, i) => d !== v.shape[i])) {
      throw new UserError(`weight '${name}' has shape [${t.shape}], the model expects [${v.shape}]`, { file: source });
    }
    tf.tidy(() => v.assign(tf.tensor(t.data, t.shape, v.dtype)));
  }
}
