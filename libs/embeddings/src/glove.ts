import * as tf from '@tensorflow/tfjs-core';
import { Rng, UserError, artifactDir } from '@biore/runtime';
import { readGloveArtifact } from '@biore/glove';
import { registerEmbedderType, type Embedder, type EmbedderSpec } from './embedder.ts';

export type GloveOovPolicy = 'hash' | 'zero';

export interface GloveEmbedderOptions {
  /** what an out-of-vocabulary token gets: a stable pseudo-random vector ('hash', default) or zeros */
  oov?: GloveOovPolicy;
  /**
   * fine-tune the in-vocabulary vectors with the downstream model (initialised from the file); out-of-vocabulary
   * vectors stay fixed. Default false: the frozen GloVe of Hiai et al.
   */
  trainable?: boolean;
}

/** FNV-1a over UTF-16 code units: the seed of a word's out-of-vocabulary vector. */
function wordHash(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

const OOV_CACHE_LIMIT = 100_000;
let tableCounter = 0;

/**
 * Frozen GloVe vectors from an artifact folder (`nx run glove:build` or `glove:import`: vectors.bin,
 * words.txt, config.json).
 *
 * Out-of-vocabulary policy: a token is looked up as it is, then lowercased (the build lowercases by default,
 * config.json's `lowercase`); no other normalisation (digits are not rewritten by the build either). A token
 * still missing gets, with `oov: 'hash'` (default), a pseudo-random Gaussian direction seeded by a hash of its
 * exact text, scaled to the mean norm of the in-vocabulary vectors: the same word always gets the same vector,
 * different words (entity markers `@CHEMICAL$`, `@GENE$`, `<chem>`, `</gene>` …) get distinct ones. With
 * `oov: 'zero'` it gets zeros. Padding positions are always zero.
 */
export class GloveEmbedder implements Embedder {
  readonly name = 'glove';
  readonly embeddingLength: number;
  readonly vocabSize: number;
  readonly meanNorm: number;
  readonly oov: GloveOovPolicy;
  private readonly index = new Map<string, number>();
  private readonly oovVectors = new Map<string, Float32Array>();
  private table?: tf.Variable;

  constructor(
    readonly path: string,
    words: readonly string[],
    private readonly matrix: Float32Array,
    dim: number,
    opts: GloveEmbedderOptions = {},
  ) {
    const oov = opts.oov ?? 'hash';
    if (oov !== 'hash' && oov !== 'zero') throw new UserError(`GloVe oov policy must be 'hash' or 'zero', got '${String(oov)}'`);
    this.oov = oov;
    this.embeddingLength = dim;
    this.vocabSize = words.length;
    for (let i = 0; i < words.length; i++) if (!this.index.has(words[i])) this.index.set(words[i], i);
    let sum = 0;
    for (let i = 0; i < words.length; i++) {
      let s = 0;
      for (let b = 0; b < dim; b++) { const x = matrix[i * dim + b]; s += x * x; }
      sum += Math.sqrt(s);
    }
    this.meanNorm = words.length ? sum / words.length : 1;
    if (opts.trainable) this.table = tf.variable(tf.tensor2d(matrix, [words.length, dim]), true, `glove_table_${tableCounter++}`);
  }

  static load(dir: string, opts: GloveEmbedderOptions = {}): GloveEmbedder {
    if (typeof dir !== 'string' || !dir) throw new UserError("a 'glove' embedding spec needs a 'path' (an artifact folder from glove:build or glove:import)");
    const a = readGloveArtifact(dir);
    return new GloveEmbedder(dir, a.words, a.matrix, a.dim, opts);
  }

  /** The row of `token` in the matrix (as is, then lowercased), or -1. */
  lookup(token: string): number {
    const i = this.index.get(token);
    if (i !== undefined) return i;
    const j = this.index.get(token.toLowerCase());
    return j === undefined ? -1 : j;
  }

  /** The vector `token` gets (a view into the matrix for known words). */
  vector(token: string): Float32Array {
    const D = this.embeddingLength;
    const i = this.lookup(token);
    if (i >= 0) return this.matrix.subarray(i * D, (i + 1) * D);
    return this.oovVector(token);
  }

  private oovVector(token: string): Float32Array {
    const D = this.embeddingLength;
    if (this.oov === 'zero') return new Float32Array(D);
    let v = this.oovVectors.get(token);
    if (v) return v;
    const rng = new Rng(wordHash(token));
    v = new Float32Array(D);
    let s = 0;
    for (let b = 0; b < D; b++) { const x = rng.normal(); v[b] = x; s += x * x; }
    const scale = this.meanNorm / Math.sqrt(s);
    for (let b = 0; b < D; b++) v[b] *= scale;
    if (this.oovVectors.size >= OOV_CACHE_LIMIT) this.oovVectors.clear();
    this.oovVectors.set(token, v);
    return v;
  }

  embed(sentences: readonly (readonly string[])[]): tf.Tensor3D {
    if (this.table) return this.embedTrainable(sentences);
    const D = this.embeddingLength;
    let T = 0;
    for (const s of sentences) T = Math.max(T, s.length);
    const out = new Float32Array(sentences.length * T * D);
    for (let n = 0; n < sentences.length; n++) {
      const s = sentences[n];
      for (let t = 0; t < s.length; t++) out.set(this.vector(s[t]), (n * T + t) * D);
    }
    return tf.tensor3d(out, [sentences.length, T, D]);
  }

  /** Known words through a gather on the trainable table (so they receive gradients), the rest as constants. */
  private embedTrainable(sentences: readonly (readonly string[])[]): tf.Tensor3D {
    const D = this.embeddingLength;
    let T = 0;
    for (const s of sentences) T = Math.max(T, s.length);
    const B = sentences.length;
    const ids = new Int32Array(B * T);
    const known = new Float32Array(B * T);
    const fixed = new Float32Array(B * T * D);
    for (let n = 0; n < B; n++) {
      const s = sentences[n];
      for (let t = 0; t < s.length; t++) {
        const i = this.lookup(s[t]);
        if (i >= 0) { ids[n * T + t] = i; known[n * T + t] = 1; } else fixed.set(this.oovVector(s[t]), (n * T + t) * D);
      }
    }
    return tf.tidy(() => {
      const rows = tf.reshape(tf.gather(this.table!, tf.tensor1d(ids, 'int32')), [B, T, D]);
      return tf.add(tf.mul(rows, tf.tensor3d(known, [B, T, 1])), tf.tensor3d(fixed, [B, T, D])) as tf.Tensor3D;
    });
  }

  trainableVariables(): tf.Variable[] {
    return this.table ? [this.table] : [];
  }

  describe(): EmbedderSpec {
    return { type: 'glove', path: this.path, oov: this.oov, ...(this.table ? { trainable: true } : {}) };
  }

  dispose(): void {
    this.oovVectors.clear();
    this.table?.dispose();
  }
}

registerEmbedderType('glove', (spec) => GloveEmbedder.load(spec.path as string, { oov: spec.oov as GloveOovPolicy | undefined, trainable: spec.trainable === true }), {
  defaultPath: () => artifactDir('glove'), buildHint: 'nx run glove:build, or nx run glove:import --txt vectors.txt',
});
