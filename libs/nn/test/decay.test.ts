import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '@biore/runtime';
import { Adam } from '../src/index.ts';

test('AdamW decays every weight except the ones it is told to exempt', async () => {
  await initBackend();
  const vars = { 'dense/kernel': tf.variable(tf.tensor1d([2, -2])), 'dense/bias': tf.variable(tf.tensor1d([2, -2])) };
  const opt = new Adam(0.1, { weightDecay: 0.5 }, (name) => name.endsWith('/bias'));
  const zero = { 'dense/kernel': tf.zeros([2]), 'dense/bias': tf.zeros([2]) };
  opt.step(zero, vars);
  // a zero gradient leaves Adam's step at 0, so only decoupled decay moves a weight: w ← w − lr·wd·w
  assert.deepEqual(Array.from(vars['dense/kernel'].dataSync()).map((x) => +x.toFixed(5)), [1.9, -1.9]);
  assert.deepEqual(Array.from(vars['dense/bias'].dataSync()), [2, -2]);
  opt.dispose();
  tf.dispose([...Object.values(vars), ...Object.values(zero)]);
});
