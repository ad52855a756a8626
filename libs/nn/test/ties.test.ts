import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '@biore/runtime';
import { maxTiesShared } from '../src/index.ts';

test('tied maxima share the gradient (TF reduce_max), they do not each take all of it', async () => {
  await initBackend();
  const x = tf.tensor3d([[[1, 5], [3, 5], [3, 2]]]); // [1, 3 positions, 2 channels]
  const g = tf.grad((t: tf.Tensor) => tf.sum(tf.mul(maxTiesShared(t, 1), tf.tensor2d([[1, 10]]))))(x);
  assert.deepEqual(g.arraySync(), [[[0, 5], [0.5, 5], [0.5, 0]]]);
  assert.deepEqual(maxTiesShared(x, 1).arraySync(), [[3, 5]]);
  tf.dispose([x, g]);
});
