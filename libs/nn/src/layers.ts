import * as tf from '@tensorflow/tfjs-core';
import type { Rng } from '@biore/runtime';
import { constantVariable, glorotLimit, normalVariable, uniformVariable } from './init.ts';
import { affine, linear } from './matmul.ts';
import { dropoutRowsInScope, dropoutRowsMask } from './data-parallel.ts';

export type Activation = 'tanh' | 'relu' | 'gelu' | 'sigmoid' | 'linear';

export function activate(x: tf.Tensor, a: Activation): tf.Tensor {
  switch (a) {
    case 'tanh': return tf.tanh(x);
    case 'relu': return tf.relu(x);
    case 'sigmoid': return tf.sigmoid(x);
    case 'gelu': return gelu(x);
    case 'linear': return x;
  }
}

/** GELU with the exact erf, as BERT uses it: x · Φ(x). */
export function gelu(x: tf.Tensor): tf.Tensor {
  return tf.tidy(() => tf.mul(tf.mul(x, 0.5), tf.add(1, tf.erf(tf.mul(x, Math.SQRT1_2)))));
}

/** Applies x·w (+ b) on the last axis of a tensor of any rank. */
export function matMulLast(x: tf.Tensor, w: tf.Tensor2D, b?: tf.Tensor1D): tf.Tensor {
  const inSize = w.shape[0];
  if (x.shape[x.rank - 1] !== inSize) throw new Error(`last axis ${x.shape[x.rank - 1]} does not match kernel input ${inSize}`);
  const x2 = (x.rank === 2 ? x : tf.reshape(x, [-1, inSize])) as tf.Tensor2D;
  const y = b ? affine(x2, w, b) : linear(x2, w);
  if (x.rank === 2) return y;
  const lead = x.shape.slice(0, -1);
  return tf.reshape(y, [...lead, w.shape[1]]);
}

export class Dense {
  readonly kernel: tf.Variable;
  readonly bias?: tf.Variable;
  readonly activation: Activation;
  constructor(readonly name: string, readonly inSize: number, readonly outSize: number, rng: Rng,
    opts: { bias?: boolean; activation?: Activation } = {}) {
    this.kernel = uniformVariable(`${name}/kernel`, [inSize, outSize], glorotLimit(inSize, outSize), rng);
    if (opts.bias ?? true) this.bias = constantVariable(`${name}/bias`, [outSize], 0);
    this.activation = opts.activation ?? 'linear';
  }

  /** y = act(x·W + b) on the last axis; x of any rank. */
  apply(x: tf.Tensor): tf.Tensor {
    return tf.tidy(() => {
      return activate(matMulLast(x, this.kernel as tf.Tensor2D, this.bias as tf.Tensor1D | undefined), this.activation);
    });
  }

  variables(): Record<string, tf.Variable> {
    const v: Record<string, tf.Variable> = { [`${this.name}/kernel`]: this.kernel };
    if (this.bias) v[`${this.name}/bias`] = this.bias;
    return v;
  }
}

export class Embedding {
  readonly table: tf.Variable;
  constructor(readonly name: string, readonly vocabSize: number, readonly dim: number, rng: Rng) {
    this.table = normalVariable(`${name}/embeddings`, [vocabSize, dim], 1 / Math.sqrt(dim), rng);
  }

  /** ids of any shape (int32) → [...ids.shape, dim]. */
  lookup(ids: tf.Tensor): tf.Tensor {
    return tf.tidy(() => {
      const flat = tf.reshape(ids.dtype === 'int32' ? ids : tf.cast(ids, 'int32'), [-1]);
      const rows = tf.gather(this.table, flat as tf.Tensor1D);
      return tf.reshape(rows, [...ids.shape, this.dim]);
    });
  }

  variables(): Record<string, tf.Variable> {
    return { [`${this.name}/embeddings`]: this.table };
  }
}

/** [B, T] float mask: 1 at real positions t < lengths[b], 0 at right padding. */
export function lengthMask(lengths: number[], T: number): tf.Tensor2D {
  const m = new Float32Array(lengths.length * T);
  lengths.forEach((len, b) => {
    if (!Number.isInteger(len) || len < 0 || len > T) throw new Error(`length ${len} of sequence ${b} is outside [0, ${T}]`);
    m.fill(1, b * T, b * T + len);
  });
  return tf.tensor2d(m, [lengths.length, T]);
}

/**
 * Inverted dropout with a mask drawn from the seeded Rng (so a resumed run drops the same units).
 * Identity when not training or rate is 0.
 */
export function dropout(x: tf.Tensor, rate: number, rng: Rng, training: boolean): tf.Tensor {
  if (!training || rate <= 0) return x;
  if (rate >= 1) throw new Error(`dropout rate ${rate} must be below 1`);
  const keep = 1 - rate;
  // a shard of a batch split over workers (data-parallel.ts): the whole batch's mask, this shard's rows
  const rows = dropoutRowsInScope();
  if (rows) return tf.tidy(() => tf.mul(x, tf.tensor(dropoutRowsMask(x.shape, keep, rng, rows), x.shape, 'float32')));
  const n = x.size;
  const m = new Float32Array(n);
  for (let i = 0; i < n; i++) m[i] = rng.next() < keep ? 1 / keep : 0;
  return tf.tidy(() => tf.mul(x, tf.tensor(m, x.shape, 'float32')));
}

/**
 * Highway layers as in bilm-tf (ELMo): per layer, carry = σ(x·W_carry + b_carry),
 * transform = relu(x·W_transform + b_transform), x ← carry·transform + (1 − carry)·x.
 * The two kernels are applied as one [D, 2D] matmul.
 */
export class Highway {
  readonly layers: { W_carry: tf.Variable; b_carry: tf.Variable; W_transform: tf.Variable; b_transform: tf.Variable }[] = [];
  constructor(readonly name: string, readonly dim: number, readonly numLayers: number, rng: Rng, opts: { carryBias?: number } = {}) {
    const lim = glorotLimit(dim, dim);
    for (let i = 0; i < numLayers; i++) {
      this.layers.push({
        W_carry: uniformVariable(`${name}/${i}/W_carry`, [dim, dim], lim, rng),
        // a negative carry bias starts each layer close to the identity, as bilm-tf does
        b_carry: constantVariable(`${name}/${i}/b_carry`, [dim], opts.carryBias ?? -2),
        W_transform: uniformVariable(`${name}/${i}/W_transform`, [dim, dim], lim, rng),
        b_transform: constantVariable(`${name}/${i}/b_transform`, [dim], 0),
      });
    }
  }

  /** x [..., dim] → same shape. */
  apply(x: tf.Tensor): tf.Tensor {
    return tf.tidy(() => {
      const shape = x.shape;
      let h = tf.reshape(x, [-1, this.dim]) as tf.Tensor2D;
      for (const l of this.layers) {
        const w = tf.concat([l.W_carry, l.W_transform], 1) as tf.Tensor2D;
        const b = tf.concat([l.b_carry, l.b_transform], 0);
        const z = affine(h, w, b as tf.Tensor1D);
        const [zc, zt] = tf.split(z, 2, 1);
        const carry = tf.sigmoid(zc);
        const transform = tf.relu(zt);
        h = tf.add(h, tf.mul(carry, tf.sub(transform, h))) as tf.Tensor2D;
      }
      return tf.reshape(h, shape);
    });
  }

  variables(): Record<string, tf.Variable> {
    const v: Record<string, tf.Variable> = {};
    this.layers.forEach((l, i) => {
      for (const [k, t] of Object.entries(l)) v[`${this.name}/${i}/${k}`] = t;
    });
    return v;
  }
}

/**
 * Max over `axis` whose gradient is shared equally among tied maxima, as TF's reduce_max gradient does;
 * tfjs's own gives every tied position the full gradient, which over-counts badly where padding makes
 * many identical windows (the char CNN of short tokens).
 */
export function maxTiesShared(x: tf.Tensor, axis: number): tf.Tensor {
  const f = tf.customGrad((...args: unknown[]) => {
    const [xs, save] = args as [tf.Tensor, tf.GradSaveFunc];
    const y = tf.max(xs, axis);
    save([xs, y]);
    return {
      value: y,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [xv, yv] = saved;
        const hit = tf.cast(tf.equal(xv, tf.expandDims(yv, axis)), 'float32');
        return tf.mul(tf.div(hit, tf.sum(hit, axis, true)), tf.expandDims(dy, axis));
      },
    };
  }) as (x: tf.Tensor) => tf.Tensor;
  return f(x);
}

export interface CharCNNConfig {
  /** number of character ids (including padding / begin / end ids) */
  numChars: number;
  charDim: number;
  /** [[width, count], ...] as in bilm-tf options.json char_cnn.filters */
  filters: [number, number][];
  activation?: 'tanh' | 'relu';
}

/**
 * Character CNN as in bilm-tf: char embedding → for each [width, count] filter a valid 1-D convolution
 * over the characters of a token (+ bias) → max over positions (ties share the gradient, as in TF) → activation;
 * filters concatenated.
 * Convolutions are done as im2col + one matmul per width (the wasm backend has no conv filter gradient).
 * Kernels are stored [width, charDim, count] (bilm-tf's [1, width, charDim, count] without the leading 1).
 */
export class CharCNN {
  readonly charEmbed: tf.Variable;
  readonly kernels: tf.Variable[] = [];
  readonly biases: tf.Variable[] = [];
  readonly outputSize: number;
  readonly activation: 'tanh' | 'relu';
  constructor(readonly name: string, readonly cfg: CharCNNConfig, rng: Rng) {
    this.charEmbed = uniformVariable(`${name}/char_embed`, [cfg.numChars, cfg.charDim], 1, rng);
    cfg.filters.forEach(([w, n], i) => {
      this.kernels.push(uniformVariable(`${name}/W_cnn_${i}`, [w, cfg.charDim, n], glorotLimit(w * cfg.charDim, n), rng));
      this.biases.push(constantVariable(`${name}/b_cnn_${i}`, [n], 0));
    });
    this.outputSize = cfg.filters.reduce((a, [, n]) => a + n, 0);
    this.activation = cfg.activation ?? 'tanh';
  }

  /** ids [..., maxChars] int32 → [..., outputSize]. */
  apply(ids: tf.Tensor): tf.Tensor {
    return tf.tidy(() => {
      const lead = ids.shape.slice(0, -1);
      const L = ids.shape[ids.rank - 1];
      const D = this.cfg.charDim;
      const flat = tf.reshape(ids.dtype === 'int32' ? ids : tf.cast(ids, 'int32'), [-1]);
      const e = tf.reshape(tf.gather(this.charEmbed, flat as tf.Tensor1D), [-1, L, D]) as tf.Tensor3D;
      const N = e.shape[0];
      const pooled: tf.Tensor[] = [];
      this.cfg.filters.forEach(([w, n], i) => {
        if (w > L) throw new Error(`filter width ${w} exceeds ${L} characters per token`);
        const P = L - w + 1;
        // im2col: window k of width w is the concatenation of the w shifted views
        const cols = w === 1 ? e : tf.concat(Array.from({ length: w }, (_, s) => tf.slice(e, [0, s, 0], [N, P, D])), 2);
        const conv = affine(tf.reshape(cols, [N * P, w * D]) as tf.Tensor2D, tf.reshape(this.kernels[i], [w * D, n]) as tf.Tensor2D, this.biases[i] as tf.Tensor1D);
        const m = maxTiesShared(tf.reshape(conv, [N, P, n]), 1);
        pooled.push(this.activation === 'relu' ? tf.relu(m) : tf.tanh(m));
      });
      const out = pooled.length === 1 ? pooled[0] : tf.concat(pooled, 1);
      return tf.reshape(out, [...lead, this.outputSize]);
    });
  }

  variables(): Record<string, tf.Variable> {
    const v: Record<string, tf.Variable> = { [`${this.name}/char_embed`]: this.charEmbed };
    this.kernels.forEach((k, i) => {
      v[`${this.name}/W_cnn_${i}`] = k;
      v[`${this.name}/b_cnn_${i}`] = this.biases[i];
    });
    return v;
  }
}
