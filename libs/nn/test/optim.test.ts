import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend, Rng } from '@biore/runtime';
import { Adagrad, Adam, BiLSTM, clipByGlobalNorm, Dense, SGD, type Optimizer } from '../src/index.ts';
import { randomTensor } from './helpers.ts';

before(async () => {
  await initBackend('wasm');
});

/** A tiny BiLSTM regressor: the problem every optimizer test trains. */
function tinyModel(seed: number) {
  const rng = new Rng(seed);
  const bi = new BiLSTM('enc', { inputSize: 3, hiddenSize: 4 }, rng);
  const out = new Dense('out', 8, 1, rng);
  const x = randomTensor([4, 5, 3], new Rng(100)) as tf.Tensor3D;
  const y = randomTensor([4, 5, 1], new Rng(101));
  const vars = { ...bi.variables(), ...out.variables() };
  const loss = () => tf.tidy(() => tf.mean(tf.square(tf.sub(out.apply(bi.forward(x, { lengths: [5, 4, 3, 2] })), y))) as tf.Scalar);
  return { vars, loss, dispose: () => tf.dispose([...Object.values(vars), x, y]) };
}

function train(m: ReturnType<typeof tinyModel>, opt: Optimizer, steps: number, clip?: number): number[] {
  const losses: number[] = [];
  const names = Object.keys(m.vars);
  for (let i = 0; i < steps; i++) {
    const { value, grads } = tf.variableGrads(m.loss, names.map((n) => m.vars[n]));
    let byName: Record<string, tf.Tensor> = Object.fromEntries(names.map((n) => [n, grads[m.vars[n].name]]));
    if (clip !== undefined) {
      const c = clipByGlobalNorm(byName, clip);
      if (c.grads !== byName) { tf.dispose(Object.values(byName)); byName = c.grads; }
    }
    opt.step(byName, m.vars);
    losses.push(value.dataSync()[0]);
    tf.dispose([value, ...Object.values(byName)]);
  }
  return losses;
}

const makers: [string, () => Optimizer][] = [
  ['SGD', () => new SGD(0.5)],
  ['SGD with momentum', () => new SGD(0.2, 0.9)],
  ['Adam', () => new Adam(0.02)],
  ['AdamW', () => new Adam(0.02, { weightDecay: 0.01 })],
  ['Adagrad', () => new Adagrad(0.1)],
];

for (const [label, make] of makers) {
  test(`${label}: a few steps lower the loss`, () => {
    const m = tinyModel(1);
    const opt = make();
    const losses = train(m, opt, 10, 5);
    assert.ok(losses[9] < losses[0] * 0.9, `${losses[0]} → ${losses[9]}`);
    opt.dispose();
    m.dispose();
  });

  test(`${label}: N steps equal k steps, state saved into a fresh optimizer, then N − k steps`, () => {
    const a = tinyModel(2);
    const optA = make();
    train(a, optA, 6);
    const b = tinyModel(2);
    const optB = make();
    train(b, optB, 3);
    const state = optB.getState();
    optB.dispose();
    const json = JSON.parse(JSON.stringify(state.json));
    const fresh = make();
    fresh.lr = 12345; // overwritten by the state
    fresh.setState({ json, tensors: state.tensors });
    train(b, fresh, 3);
    for (const k of Object.keys(a.vars)) {
      assert.deepEqual(Array.from(b.vars[k].dataSync()), Array.from(a.vars[k].dataSync()), k);
    }
    optA.dispose(); fresh.dispose(); a.dispose(); b.dispose();
  });
}

test('Adagrad accumulators start at 0.1 like TensorFlow', () => {
  const v = tf.variable(tf.tensor1d([1]));
  const opt = new Adagrad(1);
  opt.step({ w: tf.tensor1d([1]) }, { w: v });
  // acc = 0.1 + 1; v = 1 − 1/√1.1
  assert.ok(Math.abs(v.dataSync()[0] - (1 - 1 / Math.sqrt(1.1))) < 1e-6);
  assert.deepEqual(opt.getState().tensors['w/accumulator'].shape, [1]);
});

test('AdamW decays weights outside the moments (zero gradient still shrinks the weight)', () => {
  const v = tf.variable(tf.tensor1d([2]));
  const opt = new Adam(0.1, { weightDecay: 0.5 });
  opt.step({ w: tf.tensor1d([0]) }, { w: v });
  assert.ok(Math.abs(v.dataSync()[0] - 2 * (1 - 0.05)) < 1e-6);
});

test('clipByGlobalNorm scales all gradients together when the global norm is too large', () => {
  const g = { a: tf.tensor1d([3, 0]), b: tf.tensor1d([0, 4]) };
  const c = clipByGlobalNorm(g, 1);
  assert.ok(Math.abs(c.norm - 5) < 1e-6);
  assert.ok(Math.abs(c.grads.a.dataSync()[0] - 0.6) < 1e-6);
  assert.ok(Math.abs(c.grads.b.dataSync()[1] - 0.8) < 1e-6);
  const u = clipByGlobalNorm(g, 10);
  assert.equal(u.grads, g);
});

test('optimizer steps leak no tensors', () => {
  const m = tinyModel(3);
  const opt = new Adam(0.01, { weightDecay: 0.01 });
  train(m, opt, 2, 1);
  const n = tf.memory().numTensors;
  train(m, opt, 3, 1);
  assert.equal(tf.memory().numTensors, n);
  opt.dispose();
  m.dispose();
});
