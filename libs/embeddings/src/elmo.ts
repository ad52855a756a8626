import * as tf from '@tensorflow/tfjs-core';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { UserError, artifactDir } from '@biore/runtime';
import { BidirectionalLM, ScalarMix, loadBilm, loadBilmHdf5 } from '@biore/elmo';
import { SentenceCache } from './sentence-cache.ts';
import { registerEmbedderType, type Embedder, type EmbedderSpec } from './embedder.ts';

/**
 * How an ELMo embedder is rebuilt: either `model` (a folder from `nx run elmo-lm:pretrain`) or the published
 * pair `options` + `weights` (bilm-tf options.json and weights.hdf5, e.g. the PubMed ELMo).
 */
export interface ElmoSpec extends EmbedderSpec {
  type: 'elmo';
  /** a folder: one from elmo-lm:pretrain (config.json …), or one holding a published *options.json + *.hdf5 pair */
  model?: string;
  /** same as model (the key re-lite's --embeddings writes) */
  path?: string;
  options?: string;
  weights?: string;
  /** train the scalar mix (layer weights and γ) with the downstream model (default true) */
  trainable?: boolean;
  /** also train the biLM itself (allennlp's requires_grad); off by default, as in Peters et al. */
  fineTune?: boolean;
  /** scalar mix parameters (unnormalised weights and γ); equal weights and γ = 1 when absent */
  mix?: { weights: number[]; gamma: number };
  /** host memory for cached biLM layers of frozen models, in MB (default 4096; 0 disables) */
  cacheMB?: number;
}

/**
 * ELMo as a token embedding (Peters et al. 2018): the biLM's layers — the char-CNN token layer duplicated
 * (token ++ token), then each LSTM layer forward ++ backward — combined by a scalar mix γ·Σ softmax(s)_k·h_k.
 * Each sentence is run alone from a zero state between `<S>` and `</S>`, so a vector does not depend on the
 * batch. When the biLM is frozen its layers are cached per sentence on the host (the RE model sees the same
 * sentences every epoch), and only the mix runs on every call.
 */
export class ElmoEmbedder implements Embedder {
  readonly name = 'elmo';
  readonly embeddingLength: number;
  readonly mix: ScalarMix;
  private readonly cache: SentenceCache;

  constructor(readonly bilm: BidirectionalLM, readonly spec: ElmoSpec) {
    this.embeddingLength = 2 * bilm.dim;
    const layers = bilm.forwardLayers.length + 1;
    this.mix = new ScalarMix(layers, spec.mix ?? {}, spec.trainable ?? true);
    this.cache = SentenceCache.fromMB(spec.fineTune ? 0 : spec.cacheMB ?? 4096);
  }

  static async load(spec: EmbedderSpec): Promise<ElmoEmbedder> {
    const s = spec as ElmoSpec;
    if (s.mix && (!Array.isArray(s.mix.weights) || typeof s.mix.gamma !== 'number')) throw new UserError("an 'elmo' spec's mix needs weights (numbers) and gamma");
    const dir = s.model ?? s.path;
    if (dir) {
      if (existsSync(dir) && !existsSync(join(dir, 'config.json')) && statSync(dir).isDirectory()) {
        const files = readdirSync(dir);
        const opts = files.filter((f) => f.endsWith('options.json'));
        const h5 = files.filter((f) => f.endsWith('.hdf5'));
        if (opts.length === 1 && h5.length === 1) return new ElmoEmbedder(await loadBilmHdf5(join(dir, opts[0]), join(dir, h5[0])), s);
        throw new UserError(`an ELMo folder holds either a model from elmo-lm:pretrain (config.json) or exactly one *options.json and one *.hdf5 (found ${opts.length} and ${h5.length})`, { file: dir });
      }
      return new ElmoEmbedder(loadBilm(dir).model, s);
    }
    if (s.options && s.weights) return new ElmoEmbedder(await loadBilmHdf5(s.options, s.weights), s);
    throw new UserError("an 'elmo' embedding spec needs 'model' (a folder from elmo-lm:pretrain) or both 'options' and 'weights' (bilm-tf options.json and weights.hdf5)");
  }

  /** Each sentence's L layers on the host, one after another, each [length, W]. */
  private hostRows(sentences: (readonly string[])[]): Float32Array[] {
    const L = this.mix.numLayers;
    const W = this.embeddingLength;
    const out = this.bilm.elmoLayers(sentences);
    const T = out[0].shape[1];
    const host = out.map((t) => t.dataSync() as Float32Array);
    tf.dispose(out);
    return sentences.map((s, b) => {
      const v = new Float32Array(L * s.length * W);
      for (let l = 0; l < L; l++) v.set(host[l].subarray(b * T * W, (b * T + s.length) * W), l * s.length * W);
      return v;
    });
  }

  /**
   * Runs the frozen biLM ahead of training over sentences not cached yet, shortest first, so that every
   * later `embed` of them is a cache read (no-op when fine-tuned or the cache is disabled).
   */
  precompute(sentences: readonly (readonly string[])[]): number {
    return this.cache.enabled ? this.cache.fill(sentences, (batch) => this.hostRows(batch), 64, 'elmo precompute') : 0;
  }

  /** The biLM's layers for a batch, [B, maxLen, 2P] each, through the cache when the biLM is frozen. */
  layers(sentences: readonly (readonly string[])[]): tf.Tensor3D[] {
    if (!this.cache.enabled) return this.bilm.elmoLayers(sentences);
    const L = this.mix.numLayers;
    const W = this.embeddingLength;
    // a sentence's entry holds its L layers one after another, each [length, W]
    const rows = this.cache.lookup(sentences, (missing) => this.hostRows(missing));
    const maxLen = sentences.reduce((m, s) => Math.max(m, s.length), 0);
    const B = sentences.length;
    const bufs = Array.from({ length: L }, () => new Float32Array(B * maxLen * W));
    rows.forEach((v, b) => {
      const n = sentences[b].length;
      for (let l = 0; l < L; l++) bufs[l].set(v.subarray(l * n * W, (l + 1) * n * W), b * maxLen * W);
    });
    return bufs.map((x) => tf.tensor3d(x, [B, maxLen, W]));
  }

  embed(sentences: readonly (readonly string[])[]): tf.Tensor3D {
    return tf.tidy(() => this.mix.apply(this.layers(sentences)) as tf.Tensor3D);
  }

  trainableVariables(): tf.Variable[] {
    const vars: tf.Variable[] = [];
    if (this.spec.trainable ?? true) vars.push(...this.mix.variables());
    if (this.spec.fineTune) vars.push(...Object.entries(this.bilm.variables()).filter(([k]) => !k.startsWith('softmax/')).map(([, v]) => v));
    return vars;
  }

  describe(): ElmoSpec {
    const { weights, gamma } = this.mix.values();
    const { mix: _old, ...rest } = this.spec;
    return { ...rest, type: 'elmo', mix: { weights, gamma } };
  }

  dispose(): void {
    this.mix.dispose();
    this.bilm.dispose();
    this.cache.clear();
  }
}

registerEmbedderType('elmo', (spec) => ElmoEmbedder.load(spec), {
  defaultPath: () => artifactDir('elmo-lm'), buildHint: 'nx run elmo-lm:pretrain, or a bilm-tf folder with options.json + weights.hdf5',
});
