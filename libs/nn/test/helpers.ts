import * as tf from '@tensorflow/tfjs-core';
import { Rng } from '@biore/runtime';

/** A fixed random tensor from a seeded stream (test inputs and loss weights). */
export function randomTensor(shape: number[], rng: Rng, scale = 1): tf.Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  const d = new Float32Array(n);
  for (let i = 0; i < n; i++) d[i] = rng.normal() * scale;
  return tf.tensor(d, shape, 'float32');
}

export function maxAbsDiff(a: tf.Tensor, b: tf.Tensor): number {
  return tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]);
}
