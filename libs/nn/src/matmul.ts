import * as tf from '@tensorflow/tfjs-core';

/**
 * a·b for 2-D tensors whose gradient uses explicit transposes and plain matmuls. tfjs's own matMul gradient
 * calls matMul with transposeA/transposeB, which the wasm backend runs 10–50× slower than the plain
 * (XNNPACK) matmul; a transpose costs a fraction of that.
 */
export const linear: (a: tf.Tensor2D, b: tf.Tensor2D) => tf.Tensor2D = tf.customGrad(((a: tf.Tensor2D, b: tf.Tensor2D, save: tf.GradSaveFunc) => {
  save([a, b]);
  return {
    value: tf.matMul(a, b),
    gradFunc: (dy: tf.Tensor2D, saved: tf.Tensor[]) => {
      const [sa, sb] = saved as tf.Tensor2D[];
      return [tf.matMul(dy, tf.transpose(sb)), tf.matMul(tf.transpose(sa), dy)];
    },
  };
}) as never) as never;

/** aᵀ·b without the slow transposed-matmul path. */
export function matMulTA(a: tf.Tensor2D, b: tf.Tensor2D): tf.Tensor2D {
  return tf.matMul(tf.transpose(a), b);
}

/** a·bᵀ without the slow transposed-matmul path. */
export function matMulTB(a: tf.Tensor2D, b: tf.Tensor2D): tf.Tensor2D {
  return tf.matMul(a, tf.transpose(b));
}

/**
 * a·w + b (b broadcast over rows) with the same transpose-free gradient; the bias gradient is ones·dy,
 * a matmul, because wasm's column sum over a tall [N, out] gradient is several times slower.
 */
export const affine: (a: tf.Tensor2D, w: tf.Tensor2D, b: tf.Tensor1D) => tf.Tensor2D = tf.customGrad(((a: tf.Tensor2D, w: tf.Tensor2D, b: tf.Tensor1D, save: tf.GradSaveFunc) => {
  save([a, w]);
  return {
    value: tf.add(tf.matMul(a, w), b),
    gradFunc: (dy: tf.Tensor2D, saved: tf.Tensor[]) => {
      const [sa, sw] = saved as tf.Tensor2D[];
      const ones = tf.ones([1, dy.shape[0]]) as tf.Tensor2D;
      return [tf.matMul(dy, tf.transpose(sw)), tf.matMul(tf.transpose(sa), dy), tf.reshape(tf.matMul(ones, dy), [dy.shape[1]])];
    },
  };
}) as never) as never;
