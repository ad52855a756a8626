import * as tf from '@tensorflow/tfjs-core';

/**
 * Row permutation of a 2-D float tensor: out[i] = x[perm[i]], with perm a permutation of [0, rows).
 * Done on the host (one read, one upload): the wasm gather runs ~40 ns an element and its gradient
 * (scatter) as much again, while a permutation's gradient is just the inverse permutation.
 */
export function permuteRows(x: tf.Tensor2D, perm: Int32Array): tf.Tensor2D {
  const [rows] = x.shape;
  if (perm.length !== rows) throw new Error(`permuteRows: ${perm.length} indices for ${rows} rows`);
  const inverse = new Int32Array(rows);
  for (let i = 0; i < rows; i++) inverse[perm[i]] = i;
  return permuteWith(x, perm, inverse);
}

function hostPermute(x: tf.Tensor2D, perm: Int32Array): tf.Tensor2D {
  const [rows, cols] = x.shape;
  const src = x.dataSync() as Float32Array;
  const dst = new Float32Array(rows * cols);
  for (let i = 0; i < rows; i++) dst.set(src.subarray(perm[i] * cols, perm[i] * cols + cols), i * cols);
  return tf.tensor2d(dst, [rows, cols], 'float32');
}

function permuteWith(x: tf.Tensor2D, perm: Int32Array, inverse: Int32Array): tf.Tensor2D {
  const op = tf.customGrad(((a: tf.Tensor2D) => ({
    value: hostPermute(a, perm),
    gradFunc: (dy: tf.Tensor2D) => permuteWith(dy, inverse, perm),
  })) as never) as (a: tf.Tensor2D) => tf.Tensor2D;
  return op(x);
}
