import * as tf from '@tensorflow/tfjs-core';
import { lengthMask } from './layers.ts';
import { linear } from './matmul.ts';

// large enough that exp underflows to exactly 0 in float32, small enough to stay finite
const MASKED = -1e9;

/**
 * Additive attention of Zhou et al. 2016 (Hiai et al. Eqs. 4–7): m_i = wᵀ tanh(h_i); a = softmax of m over the
 * real (unpadded) positions only; r = Σ a_i h_i. Returns r (not yet tanh'd) and a ([B, T], 0 at padding).
 */
export function additiveAttention(h: tf.Tensor3D, w: tf.Tensor1D, lengths: number[]): { context: tf.Tensor2D; weights: tf.Tensor2D } {
  const [B, T] = h.shape;
  if (lengths.length !== B) throw new Error(`additiveAttention: ${lengths.length} lengths for batch ${B}`);
  if (lengths.some((l) => l < 1)) throw new Error('additiveAttention: every sequence needs at least one real position');
  return tf.tidy(() => additiveAttentionMasked(h, w, lengthMask(lengths, T)));
}

/** The same with a [B, T] 0/1 mask tensor (BERT heads: attention mask, or the mask of "other tokens"). */
export function additiveAttentionMasked(h: tf.Tensor3D, w: tf.Tensor1D, mask: tf.Tensor2D): { context: tf.Tensor2D; weights: tf.Tensor2D } {
  const [B, T, D] = h.shape;
  if (w.shape[0] !== D) throw new Error(`additiveAttention: w has ${w.shape[0]} entries, hidden size is ${D}`);
  return tf.tidy(() => {
    const m = tf.reshape(linear(tf.reshape(tf.tanh(h), [B * T, D]) as tf.Tensor2D, tf.reshape(w, [D, 1]) as tf.Tensor2D), [B, T]);
    const mf = mask.dtype === 'float32' ? mask : tf.cast(mask, 'float32');
    const scores = tf.add(m, tf.mul(tf.sub(1, mf), MASKED));
    // softmax then re-mask: a fully masked row gives zeros instead of a uniform spread
    const weights = tf.mul(tf.softmax(scores, 1), mf) as tf.Tensor2D;
    // a weighted sum by broadcasting: its gradient avoids wasm's slow transposed batch matmul
    const context = tf.sum(tf.mul(tf.expandDims(weights, 2), h), 1) as tf.Tensor2D;
    return { context, weights };
  });
}
