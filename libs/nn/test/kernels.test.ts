import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend, Rng } from '@biore/runtime';
import { affine, installFastWasmSlice, linear, numericalGradientCheck, permuteRows } from '../src/index.ts';
import { randomTensor } from './helpers.ts';

before(async () => {
  await initBackend('wasm');
});

/** Host-side reference slice of a row-major array. */
function hostSlice(data: Float32Array, shape: number[], begin: number[], size: number[]): number[] {
  const strides = shape.map((_, i) => shape.slice(i + 1).reduce((a, b) => a * b, 1));
  const out: number[] = [];
  const idx = new Array(shape.length).fill(0);
  const n = size.reduce((a, b) => a * b, 1);
  for (let k = 0; k < n; k++) {
    out.push(data[idx.reduce((s, v, d) => s + (begin[d] + v) * strides[d], 0)]);
    for (let d = shape.length - 1; d >= 0; d--) { if (++idx[d] < size[d]) break; idx[d] = 0; }
  }
  return out;
}

test('the heap-view Slice kernel returns exactly the requested window, contiguous or strided, any rank', () => {
  installFastWasmSlice();
  const rng = new Rng(1);
  const cases: [number[], number[], number[]][] = [
    [[7], [2], [4]],
    [[5, 6], [1, 0], [3, 6]],
    [[5, 6], [1, 2], [3, 3]],
    [[4, 3, 10], [2, 0, 0], [1, 3, 10]],
    [[4, 3, 10], [1, 1, 3], [2, 2, 5]],
    [[3, 2, 4, 5], [0, 1, 1, 0], [3, 1, 2, 5]],
    [[2, 3, 2, 2, 3], [1, 0, 1, 0, 1], [1, 3, 1, 2, 2]],
    [[4, 3], [2, 0], [0, 3]],
  ];
  for (const [shape, begin, size] of cases) {
    const x = randomTensor(shape, rng);
    const got = Array.from(tf.slice(x, begin, size).dataSync());
    assert.deepEqual(got, hostSlice(x.dataSync() as Float32Array, shape, begin, size), `${shape} ${begin} ${size}`);
  }
  const ints = tf.tensor2d([[1, 2, 3], [4, 5, 6]], [2, 3], 'int32');
  assert.deepEqual(tf.slice(ints, [0, 1], [2, 2]).arraySync(), [[2, 3], [5, 6]]);
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
