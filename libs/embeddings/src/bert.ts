import * as tf from '@tensorflow/tfjs-core';
import { UserError, artifactDir } from '@biore/runtime';
import { loadBertAny, type BertModel } from '@biore/bert';
import type { SubwordTokenizer } from '@biore/text';
import { registerEmbedderType, maxLength, type Embedder, type EmbedderSpec } from './embedder.ts';

export interface BertEmbedderOptions {
  /** which hidden states: 'last' layer, 'all' (the mean of layers 1..L), or explicit layer numbers (0 = embeddings), averaged */
  layers?: 'last' | 'all' | number[];
  /** a word's vector from its pieces: 'mean' (default) or the 'first' piece */
  pooling?: 'mean' | 'first';
  /** word pieces per sentence, [CLS]/[SEP] included; words past it get zero vectors (default: the model's max_position_embeddings) */
  maxLength?: number;
}

/**
 * A frozen BERT as an Embedder (Hiai et al. stacked BERT features this way): each sentence's words are
 * word-pieced one by one, encoded with [CLS] … [SEP], and each word's vector is the mean (or the first) of
 * its pieces' hidden states, averaged over the chosen layers.
 */
export class BertEmbedder implements Embedder {
  readonly name = 'bert';
  readonly embeddingLength: number;
  readonly layers: number[];
  readonly pooling: 'mean' | 'first';
  readonly maxPieces: number;
  constructor(readonly model: BertModel, readonly tokenizer: SubwordTokenizer, readonly path: string, readonly options: BertEmbedderOptions = {}) {
    const L = model.config.num_hidden_layers;
    const l = options.layers ?? 'last';
    this.layers = l === 'last' ? [L] : l === 'all' ? Array.from({ length: L }, (_, i) => i + 1) : l;
    for (const k of this.layers) if (!Number.isInteger(k) || k < 0 || k > L) throw new UserError(`BERT layer ${k} does not exist (0..${L})`, { file: path });
    this.pooling = options.pooling ?? 'mean';
    this.maxPieces = Math.min(options.maxLength ?? model.config.max_position_embeddings, model.config.max_position_embeddings);
    this.embeddingLength = model.config.hidden_size;
  }

  embed(sentences: readonly (readonly string[])[]): tf.Tensor3D {
    const B = sentences.length;
    const W = Math.max(1, maxLength(sentences));
    const enc = sentences.map((s) => this.tokenizer.encodeWords(s, this.maxPieces));
    const T = Math.max(...enc.map((e) => e.ids.length));
    const ids = new Int32Array(B * T), mask = new Float32Array(B * T);
    // pool[b, w, t]: the weight of piece t in word w's vector
    const pool = new Float32Array(B * W * T);
    enc.forEach((e, b) => {
      e.ids.forEach((id, t) => { ids[b * T + t] = id; mask[b * T + t] = 1; });
      const count = new Map<number, number>();
      e.wordIndex.forEach((w) => { if (w >= 0) count.set(w, (count.get(w) ?? 0) + 1); });
      const seen = new Set<number>();
      e.wordIndex.forEach((w, t) => {
        if (w < 0) return;
        if (this.pooling === 'first') { if (!seen.has(w)) { seen.add(w); pool[(b * W + w) * T + t] = 1; } }
        else pool[(b * W + w) * T + t] = 1 / count.get(w)!;
      });
    });
    return tf.tidy(() => {
      const out = this.model.forward({ inputIds: tf.tensor2d(ids, [B, T], 'int32'), attentionMask: tf.tensor2d(mask, [B, T]) });
      const chosen = this.layers.map((k) => out.hiddenStates[k]);
      const h = chosen.length === 1 ? chosen[0] : tf.div(tf.addN(chosen), chosen.length);
      return tf.matMul(tf.tensor3d(pool, [B, W, T]), h) as tf.Tensor3D;
    });
  }

  trainableVariables(): tf.Variable[] {
    return [];
  }

  describe(): EmbedderSpec {
    return { type: 'bert', path: this.path, layers: this.options.layers ?? 'last', pooling: this.pooling, maxLength: this.maxPieces };
  }

  dispose(): void {
    this.model.dispose();
  }
}

registerEmbedderType('bert', async (spec) => {
  if (typeof spec.path !== 'string') throw new UserError("a 'bert' embedding spec needs 'path': a BERT folder (config.json, vocab.txt, model.safetensors)");
  const { model, tokenizer } = await loadBertAny(spec.path);
  return new BertEmbedder(model, tokenizer, spec.path, { layers: spec.layers as BertEmbedderOptions['layers'], pooling: spec.pooling as BertEmbedderOptions['pooling'], maxLength: spec.maxLength as number | undefined });
}, { defaultPath: () => artifactDir('bert'), buildHint: 'nx run re-bert:pretrain, or a Hugging Face BERT folder' });
