import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend, installFastWasmSlice, Rng } from '../src/index.ts';

function randomTensor(shape: number[], rng: Rng): tf.Tensor {
  const d = Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => rng.normal());
  return tf.tensor(d, shape, 'float32');
}

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

test('the heap-view Slice kernel returns exactly the requested window, contiguous or strided, any rank', async () => {
  await initBackend('wasm');
  assert.equal(installFastWasmSlice(), true);
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
