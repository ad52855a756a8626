import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend, Rng } from '@biore/runtime';
import { affine, linear, numericalGradientCheck, permuteRows } from '../src/index.ts';
import { randomTensor } from './helpers.ts';

before(async () => {
  await initBackend('wasm');
});

test('linear and affine have the gradients of x·W (+ b)', () => {
  const rng = new Rng(2);
  const x = tf.variable(randomTensor([5, 3], rng));
  const w = tf.variable(randomTensor([3, 4], rng));
  const b = tf.variable(randomTensor([4], rng));
  const wr = randomTensor([5, 4], rng);
  const r1 = numericalGradientCheck(() => tf.tidy(() => tf.sum(tf.mul(tf.tanh(linear(x as unknown as tf.Tensor2D, w as unknown as tf.Tensor2D)), wr)) as tf.Scalar), { x, w }, { rng });
  const r2 = numericalGradientCheck(() => tf.tidy(() => tf.sum(tf.mul(tf.tanh(affine(x as unknown as tf.Tensor2D, w as unknown as tf.Tensor2D, b as unknown as tf.Tensor1D)), wr)) as tf.Scalar), { x, w, b }, { rng });
  assert.ok(r1.maxRelError < 1e-2, JSON.stringify(r1));
  assert.ok(r2.maxRelError < 1e-2, JSON.stringify(r2));
});

test('permuteRows reorders rows and sends gradients back through the inverse permutation', () => {
  const x = tf.variable(tf.tensor2d([[1, 2], [3, 4], [5, 6]]));
  const perm = Int32Array.from([2, 0, 1]);
  assert.deepEqual(permuteRows(x as unknown as tf.Tensor2D, perm).arraySync(), [[5, 6], [1, 2], [3, 4]]);
  const w = tf.tensor2d([[1, 10], [100, 1000], [1e4, 1e5]]);
  const { grads } = tf.variableGrads(() => tf.sum(tf.mul(permuteRows(x as unknown as tf.Tensor2D, perm), w)) as tf.Scalar, [x]);
  // d/dx[r] = w[i] where perm[i] = r
  assert.deepEqual(grads[x.name].arraySync(), [[100, 1000], [1e4, 1e5], [1, 10]]);
});
