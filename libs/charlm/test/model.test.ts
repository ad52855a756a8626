import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { Rng, initBackend } from '@biore/runtime';
import { numericalGradientCheck } from '@biore/nn';
import { CharDictionary, CharLanguageModel, charLMConfig, countChars } from '../src/index.ts';

test('gradient check: the tiny LM\'s analytic gradients match central differences', async () => {
  await initBackend();
  const dict = CharDictionary.fromCounts(countChars('abcde fgh'));
  const m = new CharLanguageModel(charLMConfig({ vocabSize: dict.size, embeddingSize: 4, hiddenSize: 5, layers: 2, nout: 3, dropout: 0 }), dict, new Rng(11));
  const rng = new Rng(4);
  const B = 2, T = 5;
  const input = tf.tensor2d(Int32Array.from({ length: B * T }, () => 1 + rng.int(dict.size - 1)), [B, T], 'int32');
  const target = tf.tensor2d(Int32Array.from({ length: B * T }, () => 1 + rng.int(dict.size - 1)), [B, T], 'int32');
  // a non-zero carried state, as in the middle of a stream
  const state = { h: [0, 1].map(() => tf.randomUniform([B, 5], -0.5, 0.5, 'float32', 5) as tf.Tensor2D), c: [0, 1].map(() => tf.randomUniform([B, 5], -0.5, 0.5, 'float32', 6) as tf.Tensor2D) };
  // float32 central differences resolve about 1e-4 absolute: the floor keeps tiny gradients from counting as relative misses
  const r = numericalGradientCheck(() => m.loss(input, target, state).loss, m.variables(), { perVariable: 6, rng: new Rng(9), epsilon: 1e-2, floor: 1e-2 });
  assert.ok(r.checked > 40);
  assert.ok(r.maxRelError < 1e-2, `max relative error ${r.maxRelError} at ${JSON.stringify(r.worst)}`);
  tf.dispose([input, target, ...state.h, ...state.c]);
  m.dispose();
});

test('the state carried across windows makes two half windows equal one whole window', async () => {
  await initBackend();
  const dict = CharDictionary.fromCounts(countChars('the cat sat'));
  const m = new CharLanguageModel(charLMConfig({ vocabSize: dict.size, embeddingSize: 4, hiddenSize: 6, dropout: 0.5 }), dict, new Rng(2));
  const ids = dict.encode('the cat sat on the mat');
  const whole = tf.tidy(() => m.forward(tf.tensor2d(ids, [1, ids.length], 'int32'), m.zeroState(1)).output.arraySync());
  const halves = tf.tidy(() => {
    const a = m.forward(tf.tensor2d(ids.slice(0, 9), [1, 9], 'int32'), m.zeroState(1));
    const b = m.forward(tf.tensor2d(ids.slice(9), [1, ids.length - 9], 'int32'), a.state);
    return tf.concat([a.output, b.output], 1).arraySync();
  });
  const flat = (x: number[][][]) => x.flat(2);
  flat(whole).forEach((v, i) => assert.ok(Math.abs(v - flat(halves)[i]) < 1e-5));
  m.dispose();
});
