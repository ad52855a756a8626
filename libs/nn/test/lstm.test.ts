import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend, Rng } from '@biore/runtime';
import { BiLSTM, LSTM, numericalGradientCheck, type LSTMConfig } from '../src/index.ts';
import { maxAbsDiff, randomTensor } from './helpers.ts';

before(async () => {
  await initBackend('wasm');
});

/** A loss touching every output and the final state with fixed random weights, so every path has a gradient. */
function lstmLoss(lstm: LSTM, x: tf.Variable, lengths: number[], reverse: boolean, impl: 'fused' | 'autodiff', wOut: tf.Tensor, wH: tf.Tensor, wC: tf.Tensor) {
  return () => tf.tidy(() => {
    const { outputs, final } = lstm.forward(x as unknown as tf.Tensor3D, { lengths, reverse, impl });
    return tf.addN([tf.sum(tf.mul(outputs, wOut)), tf.sum(tf.mul(final.h, wH)), tf.sum(tf.mul(final.c, wC))]) as tf.Scalar;
  });
}

function gradCase(cfg: LSTMConfig, reverse: boolean, impl: 'fused' | 'autodiff') {
  const rng = new Rng(7);
  const lstm = new LSTM('lstm', cfg, rng);
  const [B, T] = [3, 5];
  const lengths = [5, 3, 1];
  const x = tf.variable(randomTensor([B, T, cfg.inputSize], rng));
  const P = lstm.outputSize;
  const wOut = randomTensor([B, T, P], rng);
  const wH = randomTensor([B, P], rng);
  const wC = randomTensor([B, cfg.hiddenSize], rng);
  const res = numericalGradientCheck(lstmLoss(lstm, x, lengths, reverse, impl, wOut, wH, wC), { ...lstm.variables(), x }, { rng, perVariable: 10 });
  for (const v of [...Object.values(lstm.variables()), x, wOut, wH, wC]) v.dispose();
  return res;
}

for (const impl of ['fused', 'autodiff'] as const) {
  for (const reverse of [false, true]) {
    test(`LSTM (${impl}${reverse ? ', reverse' : ''}) gradients with lengths match central differences`, () => {
      const r = gradCase({ inputSize: 3, hiddenSize: 4 }, reverse, impl);
      assert.ok(r.maxRelError < 2e-2, JSON.stringify(r));
    });
  }
  test(`LSTMP (${impl}) with projection, cell clip and projection clip: gradients match central differences`, () => {
    // clips small enough to bind on some units, so the clipped branches are exercised
    const r = gradCase({ inputSize: 3, hiddenSize: 4, projectionSize: 2, cellClip: 0.6, projClip: 0.5 }, true, impl);
    assert.ok(r.maxRelError < 2e-2, JSON.stringify(r));
  });
}

test('the fused backward equals the autodiff backward (projection and clipping included)', () => {
  const rng = new Rng(3);
  const cfg: LSTMConfig = { inputSize: 5, hiddenSize: 6, projectionSize: 4, cellClip: 0.8, projClip: 0.7 };
  const lstm = new LSTM('l', cfg, rng);
  const x = tf.variable(randomTensor([4, 7, 5], rng));
  const wOut = randomTensor([4, 7, 4], rng);
  const wH = randomTensor([4, 4], rng);
  const wC = randomTensor([4, 6], rng);
  const vars = [...Object.values(lstm.variables()), x];
  const a = tf.variableGrads(lstmLoss(lstm, x, [7, 2, 5, 0], false, 'fused', wOut, wH, wC), vars);
  const b = tf.variableGrads(lstmLoss(lstm, x, [7, 2, 5, 0], false, 'autodiff', wOut, wH, wC), vars);
  assert.ok(Math.abs(a.value.dataSync()[0] - b.value.dataSync()[0]) < 1e-4);
  for (const v of vars) assert.ok(maxAbsDiff(a.grads[v.name], b.grads[v.name]) < 1e-4, v.name);
  tf.dispose([a.value, b.value, ...Object.values(a.grads), ...Object.values(b.grads), ...vars, wOut, wH, wC]);
});

test('padded positions do not influence outputs of real positions, and padded outputs are zero', () => {
  const rng = new Rng(11);
  const lstm = new LSTM('l', { inputSize: 3, hiddenSize: 5 }, rng);
  const x = randomTensor([2, 6, 3], rng);
  const lengths = [6, 3];
  // change only padded inputs (sequence 1, positions 3..5)
  const noise = tf.tidy(() => tf.mul(randomTensor([2, 6, 3], rng, 10), tf.tensor3d([0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1], [2, 6, 1])));
  const x2 = tf.add(x, noise) as tf.Tensor3D;
  for (const reverse of [false, true]) {
    const a = lstm.forward(x as tf.Tensor3D, { lengths, reverse });
    const b = lstm.forward(x2, { lengths, reverse });
    assert.ok(maxAbsDiff(a.outputs, b.outputs) < 1e-6);
    assert.ok(maxAbsDiff(a.final.h, b.final.h) < 1e-6);
    assert.ok(maxAbsDiff(a.final.c, b.final.c) < 1e-6);
    const pad = tf.slice(a.outputs, [1, 3, 0], [1, 3, 5]);
    assert.equal(tf.max(tf.abs(pad)).dataSync()[0], 0);
    tf.dispose([a.outputs, a.final.h, a.final.c, b.outputs, b.final.h, b.final.c, pad]);
  }
  tf.dispose([x, noise, x2]);
});

test('the final state of a padded sequence is the state after its last real token', () => {
  const rng = new Rng(12);
  const lstm = new LSTM('l', { inputSize: 3, hiddenSize: 4 }, rng);
  const x = randomTensor([1, 6, 3], rng) as tf.Tensor3D;
  const padded = lstm.forward(x, { lengths: [4] });
  const short = lstm.forward(tf.slice(x, [0, 0, 0], [1, 4, 3]));
  assert.ok(maxAbsDiff(padded.final.h, short.final.h) < 1e-6);
  assert.ok(maxAbsDiff(padded.final.c, short.final.c) < 1e-6);
  assert.ok(maxAbsDiff(tf.slice(padded.outputs, [0, 0, 0], [1, 4, 4]), short.outputs) < 1e-6);
});

test('reverse on a padded sequence equals forward on the manually reversed sequence', () => {
  const rng = new Rng(13);
  const lstm = new LSTM('l', { inputSize: 2, hiddenSize: 3 }, rng);
  const T = 5;
  const len = 3;
  const x = randomTensor([1, T, 2], rng);
  const xd = x.dataSync();
  // reverse the first `len` steps by hand and keep the padding where it is
  const rev = new Float32Array(xd.length);
  for (let t = 0; t < T; t++) {
    const s = t < len ? len - 1 - t : t;
    rev.set(xd.subarray(s * 2, s * 2 + 2), t * 2);
  }
  const back = lstm.forward(x as tf.Tensor3D, { lengths: [len], reverse: true });
  const fwd = lstm.forward(tf.tensor3d(rev, [1, T, 2]), { lengths: [len] });
  const bo = back.outputs.arraySync()[0];
  const fo = fwd.outputs.arraySync()[0];
  for (let t = 0; t < len; t++) {
    // the backward output at position t is the forward output at the mirrored position
    for (let k = 0; k < 3; k++) assert.ok(Math.abs(bo[t][k] - fo[len - 1 - t][k]) < 1e-6);
  }
  assert.ok(maxAbsDiff(back.final.h, fwd.final.h) < 1e-6);
});

test('an initial state is used and a zero-length sequence returns it unchanged', () => {
  const rng = new Rng(14);
  const lstm = new LSTM('l', { inputSize: 2, hiddenSize: 3 }, rng);
  const x = randomTensor([2, 4, 2], rng) as tf.Tensor3D;
  const initial = { h: randomTensor([2, 3], rng) as tf.Tensor2D, c: randomTensor([2, 3], rng) as tf.Tensor2D };
  const r = lstm.forward(x, { lengths: [4, 0], initial });
  const z = lstm.forward(x, { lengths: [4, 0] });
  assert.ok(maxAbsDiff(tf.slice(r.final.h, [1, 0], [1, 3]), tf.slice(initial.h, [1, 0], [1, 3])) < 1e-7);
  assert.ok(maxAbsDiff(tf.slice(r.final.c, [1, 0], [1, 3]), tf.slice(initial.c, [1, 0], [1, 3])) < 1e-7);
  assert.ok(maxAbsDiff(r.outputs, z.outputs) > 1e-4, 'the initial state changes the outputs');
});

test('BiLSTM concatenates the forward direction with the backward one read right to left', () => {
  const rng = new Rng(15);
  const bi = new BiLSTM('bilstm', { inputSize: 3, hiddenSize: 4 }, rng);
  const x = randomTensor([2, 5, 3], rng) as tf.Tensor3D;
  const lengths = [5, 2];
  const y = bi.forward(x, { lengths });
  assert.deepEqual(y.shape, [2, 5, 8]);
  const fw = bi.fw.forward(x, { lengths }).outputs;
  const bw = bi.bw.forward(x, { lengths, reverse: true }).outputs;
  assert.ok(maxAbsDiff(y, tf.concat([fw, bw], 2)) < 1e-7);
  assert.deepEqual(Object.keys(bi.variables()).sort(), ['bilstm/bw/bias', 'bilstm/bw/kernel', 'bilstm/bw/recurrent_kernel', 'bilstm/fw/bias', 'bilstm/fw/kernel', 'bilstm/fw/recurrent_kernel']);
});

test('BiLSTM has the gradients of its two directions run apart, and of central differences (projection and clips included)', () => {
  const rng = new Rng(18);
  const bi = new BiLSTM('bi', { inputSize: 3, hiddenSize: 4, projectionSize: 3, cellClip: 0.7, projClip: 0.6 }, rng);
  const x = tf.variable(randomTensor([3, 5, 3], rng));
  const wr = randomTensor([3, 5, 6], rng);
  const lengths = [5, 2, 4];
  const vars = { ...bi.variables(), x };
  const together = () => tf.tidy(() => tf.sum(tf.mul(bi.forward(x as unknown as tf.Tensor3D, { lengths }), wr)) as tf.Scalar);
  const apart = () => tf.tidy(() => {
    const a = bi.fw.forward(x as unknown as tf.Tensor3D, { lengths }).outputs;
    const b = bi.bw.forward(x as unknown as tf.Tensor3D, { lengths, reverse: true }).outputs;
    return tf.sum(tf.mul(tf.concat([a, b], 2), wr)) as tf.Scalar;
  });
  const list = Object.values(vars);
  const g1 = tf.variableGrads(together, list);
  const g2 = tf.variableGrads(apart, list);
  for (const v of list) assert.ok(maxAbsDiff(g1.grads[v.name], g2.grads[v.name]) < 1e-5, v.name);
  const r = numericalGradientCheck(together, vars, { rng, perVariable: 6 });
  assert.ok(r.maxRelError < 2e-2, JSON.stringify(r));
  tf.dispose([g1.value, g2.value, ...Object.values(g1.grads), ...Object.values(g2.grads)]);
});

test('the same seed builds the same weights; the forget-gate bias starts at 1', () => {
  const a = new LSTM('l', { inputSize: 3, hiddenSize: 2 }, new Rng(5));
  const b = new LSTM('l', { inputSize: 3, hiddenSize: 2 }, new Rng(5));
  assert.deepEqual(Array.from(a.kernel.dataSync()), Array.from(b.kernel.dataSync()));
  assert.deepEqual(Array.from(a.bias.dataSync()), [0, 0, 1, 1, 0, 0, 0, 0]);
});

test('cell clip bounds the cell state and projection clip bounds the outputs', () => {
  const rng = new Rng(17);
  const lstm = new LSTM('l', { inputSize: 3, hiddenSize: 4, projectionSize: 2, cellClip: 0.3, projClip: 0.05, forgetBias: 5 }, rng);
  const x = randomTensor([2, 8, 3], rng, 4) as tf.Tensor3D;
  const free = new LSTM('l', { inputSize: 3, hiddenSize: 4, projectionSize: 2, forgetBias: 5 }, new Rng(17)).forward(x);
  const r = lstm.forward(x);
  // the unclipped model does exceed the bounds, so the clips are doing the work
  assert.ok(tf.max(tf.abs(free.final.c)).dataSync()[0] > 0.3);
  assert.ok(tf.max(tf.abs(free.outputs)).dataSync()[0] > 0.05);
  assert.ok(tf.max(tf.abs(r.final.c)).dataSync()[0] <= 0.3 + 1e-6);
  assert.ok(tf.max(tf.abs(r.outputs)).dataSync()[0] <= 0.05 + 1e-6);
});

test('training steps leak no tensors', () => {
  const rng = new Rng(16);
  const bi = new BiLSTM('b', { inputSize: 3, hiddenSize: 4, projectionSize: 3, cellClip: 1, projClip: 1 }, rng);
  const x = randomTensor([2, 5, 3], rng) as tf.Tensor3D;
  const vars = bi.variables();
  const step = () => {
    const { value, grads } = tf.variableGrads(() => tf.sum(tf.square(bi.forward(x, { lengths: [5, 3] }))) as tf.Scalar, Object.values(vars));
    tf.tidy(() => { for (const v of Object.values(vars)) v.assign(tf.sub(v, tf.mul(grads[v.name], 0.01))); });
    tf.dispose([value, ...Object.values(grads)]);
  };
  step();
  const n = tf.memory().numTensors;
  for (let i = 0; i < 3; i++) step();
  assert.equal(tf.memory().numTensors, n);
});
