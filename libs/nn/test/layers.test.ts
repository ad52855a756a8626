import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend, Rng } from '@biore/runtime';
import { additiveAttention, additiveAttentionMasked, CharCNN, Dense, dropout, Embedding, gelu, Highway, lengthMask, numericalGradientCheck } from '../src/index.ts';
import { maxAbsDiff, randomTensor } from './helpers.ts';

before(async () => {
  await initBackend('wasm');
});

test('Dense applies x·W + b on the last axis of any rank', () => {
  const rng = new Rng(1);
  const d = new Dense('proj', 3, 2, rng, { activation: 'tanh' });
  const x = randomTensor([2, 4, 3], rng);
  const y = d.apply(x);
  assert.deepEqual(y.shape, [2, 4, 2]);
  const ref = tf.tanh(tf.add(tf.matMul(tf.reshape(x, [8, 3]) as tf.Tensor2D, d.kernel as tf.Tensor2D), d.bias!));
  assert.ok(maxAbsDiff(tf.reshape(y, [8, 2]), ref) < 1e-6);
  assert.deepEqual(Object.keys(d.variables()), ['proj/kernel', 'proj/bias']);
  assert.deepEqual(Object.keys(new Dense('n', 3, 2, rng, { bias: false }).variables()), ['n/kernel']);
});

test('GELU is the exact erf form: gelu(1) = Φ(1)', () => {
  assert.ok(Math.abs(gelu(tf.scalar(1)).dataSync()[0] - 0.8413447) < 1e-5);
});

test('Embedding looks up rows for ids of any shape', () => {
  const e = new Embedding('words', 5, 3, new Rng(2));
  const ids = tf.tensor2d([[0, 4], [2, 2]], [2, 2], 'int32');
  const v = e.lookup(ids);
  assert.deepEqual(v.shape, [2, 2, 3]);
  const table = e.table.arraySync() as number[][];
  const got = v.arraySync() as number[][][];
  assert.deepEqual(got[0][1], table[4]);
  assert.deepEqual(got[1][0], table[2]);
});

test('Embedding gradients reach only the looked-up rows (repeated ids add up)', () => {
  const e = new Embedding('words', 4, 2, new Rng(3));
  const ids = tf.tensor1d([1, 3, 1], 'int32');
  const { grads } = tf.variableGrads(() => tf.sum(e.lookup(ids)) as tf.Scalar, [e.table]);
  assert.deepEqual(grads[e.table.name].arraySync(), [[0, 0], [2, 2], [0, 0], [1, 1]]);
});

test('lengthMask marks real positions', () => {
  assert.deepEqual(lengthMask([3, 1, 0], 3).arraySync(), [[1, 1, 1], [1, 0, 0], [0, 0, 0]]);
  assert.throws(() => lengthMask([4], 3));
});

test('dropout is seeded, scaled to keep the expectation, and the identity at inference', () => {
  const x = tf.ones([1000]);
  const a = dropout(x, 0.5, new Rng(9), true).dataSync();
  const b = dropout(x, 0.5, new Rng(9), true).dataSync();
  assert.deepEqual(Array.from(a), Array.from(b));
  const kept = Array.from(a).filter((v) => v > 0);
  assert.ok(kept.every((v) => v === 2));
  assert.ok(kept.length > 400 && kept.length < 600);
  assert.equal(dropout(x, 0.5, new Rng(9), false), x);
});

test('attention weights are a softmax of wᵀtanh(h) over real positions only, and r = Σ a_i h_i', () => {
  const rng = new Rng(3);
  const h = randomTensor([2, 4, 3], rng) as tf.Tensor3D;
  const w = randomTensor([3], rng) as tf.Tensor1D;
  const { context, weights } = additiveAttention(h, w, [4, 2]);
  const hv = h.arraySync();
  const wv = w.arraySync();
  const a = weights.arraySync();
  const r = context.arraySync();
  [4, 2].forEach((len, b) => {
    const m = hv[b].slice(0, len).map((hi) => hi.reduce((s, x, k) => s + Math.tanh(x) * wv[k], 0));
    const z = m.reduce((s, x) => s + Math.exp(x), 0);
    for (let t = 0; t < 4; t++) {
      const expected = t < len ? Math.exp(m[t]) / z : 0;
      assert.ok(Math.abs(a[b][t] - expected) < 1e-5);
    }
    for (let k = 0; k < 3; k++) {
      const expected = hv[b].reduce((s, hi, t) => s + a[b][t] * hi[k], 0);
      assert.ok(Math.abs(r[b][k] - expected) < 1e-5);
    }
  });
  // padded states do not change the context
  const h2 = tf.add(h, tf.mul(tf.tensor3d([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 5, 5, 5, 5, 5, 5], [2, 4, 3]), 1)) as tf.Tensor3D;
  assert.ok(maxAbsDiff(additiveAttention(h2, w, [4, 2]).context, context) < 1e-6);
  // the masked variant with the equivalent mask gives the same result
  assert.ok(maxAbsDiff(additiveAttentionMasked(h, w, lengthMask([4, 2], 4)).weights, weights) < 1e-7);
});

test('attention gradients (w and h) match central differences', () => {
  const rng = new Rng(4);
  const h = tf.variable(randomTensor([2, 5, 3], rng));
  const w = tf.variable(randomTensor([3], rng));
  const wr = randomTensor([2, 3], rng);
  const res = numericalGradientCheck(() => tf.tidy(() => tf.sum(tf.mul(tf.tanh(additiveAttention(h as unknown as tf.Tensor3D, w as unknown as tf.Tensor1D, [5, 3]).context), wr)) as tf.Scalar), { h, w }, { rng, perVariable: 12 });
  assert.ok(res.maxRelError < 2e-2, JSON.stringify(res));
});

test('highway: a closed carry gate (very negative bias) passes the input through; gradients check', () => {
  const rng = new Rng(5);
  const hw = new Highway('highway', 4, 2, rng, { carryBias: -30 });
  const x = randomTensor([3, 4], rng);
  assert.ok(maxAbsDiff(hw.apply(x), x) < 1e-6);
  const hw2 = new Highway('highway', 4, 2, rng, { carryBias: 0 });
  const xv = tf.variable(randomTensor([3, 4], rng));
  const wr = randomTensor([3, 4], rng);
  const res = numericalGradientCheck(() => tf.tidy(() => tf.sum(tf.mul(hw2.apply(xv), wr)) as tf.Scalar), { ...hw2.variables(), x: xv }, { rng, perVariable: 6 });
  assert.ok(res.maxRelError < 2e-2, JSON.stringify(res));
  assert.deepEqual(Object.keys(hw2.variables()).slice(0, 4), ['highway/0/W_carry', 'highway/0/b_carry', 'highway/0/W_transform', 'highway/0/b_transform']);
});

test('CharCNN: each filter is a valid convolution over the characters, max-pooled, then the activation', () => {
  const rng = new Rng(6);
  const cnn = new CharCNN('char_cnn', { numChars: 7, charDim: 2, filters: [[1, 2], [3, 3]], activation: 'tanh' }, rng);
  const ids = tf.tensor3d([[[1, 2, 3, 0], [4, 5, 6, 6]]], [1, 2, 4], 'int32');
  const y = cnn.apply(ids);
  assert.deepEqual(y.shape, [1, 2, 5]);
  // direct computation for token 1, filter 1 (width 3)
  const E = cnn.charEmbed.arraySync() as number[][];
  const W = cnn.kernels[1].arraySync() as number[][][];
  const tok = [4, 5, 6, 6];
  for (let f = 0; f < 3; f++) {
    let best = -Infinity;
    for (let p = 0; p + 3 <= 4; p++) {
      let s = 0;
      for (let k = 0; k < 3; k++) for (let d = 0; d < 2; d++) s += E[tok[p + k]][d] * W[k][d][f];
      best = Math.max(best, s);
    }
    assert.ok(Math.abs((y.arraySync() as number[][][])[0][1][2 + f] - Math.tanh(best)) < 1e-5);
  }
  const wr = randomTensor([1, 2, 5], rng);
  const res = numericalGradientCheck(() => tf.tidy(() => tf.sum(tf.mul(cnn.apply(ids), wr)) as tf.Scalar), cnn.variables(), { rng, perVariable: 8 });
  assert.ok(res.maxRelError < 2e-2, JSON.stringify(res));
});
