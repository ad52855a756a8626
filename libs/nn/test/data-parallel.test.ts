import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend, Rng } from '@biore/runtime';
import { GradientWorkers, dropout, dropoutRowsMask, splitRows, splitRowsByLength, withDropoutRows } from '../src/index.ts';
import { regressor, regressorLoss, regressorReplica, type RegressorShard } from './fixtures/regressor.ts';

before(async () => {
  await initBackend('wasm');
});

const fixture = new URL('./fixtures/regressor.ts', import.meta.url);

test('a shard\'s dropout masks are its rows of the whole batch\'s masks, and the rng ends where the whole batch leaves it', () => {
  const B = 5, T = 4, D = 3, t = 2;
  const whole = new Rng(9);
  const full = tf.tidy(() => dropout(tf.ones([B, T, D]), 0.4, whole, true).arraySync() as number[][][]);
  const after = whole.nextUint32();
  for (const { offset, rows } of splitRows(B, 2)) {
    const r = new Rng(9);
    // the shard is shorter in time (its longest sentence): the masks of its real positions still match
    const m = dropoutRowsMask([rows, t, D], 0.6, r, { offset, rows, total: B, steps: T });
    for (let b = 0; b < rows; b++) for (let s = 0; s < t; s++) for (let d = 0; d < D; d++) {
      assert.equal(m[(b * t + s) * D + d], full[offset + b][s][d], `row ${offset + b}, step ${s}, unit ${d}`);
    }
    assert.equal(r.nextUint32(), after);
  }
  // a flattened [rows·t, F] tensor is read as [rows, t, F]; a [rows, F] one row by row
  const flat = withDropoutRows({ offset: 3, rows: 2, total: B, steps: T }, () => tf.tidy(() => dropout(tf.ones([2 * T, D]), 0.4, new Rng(9), true).arraySync() as number[][]));
  flat.forEach((row, i) => assert.deepEqual(row, full[3 + Math.floor(i / T)][i % T]));
  const rowsOnly = new Rng(9);
  const full2 = tf.tidy(() => dropout(tf.ones([B, D]), 0.4, rowsOnly, true).arraySync() as number[][]);
  const part = withDropoutRows({ offset: 1, rows: 3, total: B }, () => tf.tidy(() => dropout(tf.ones([3, D]), 0.4, new Rng(9), true).arraySync() as number[][]));
  assert.deepEqual(part, full2.slice(1, 4));
  assert.throws(() => withDropoutRows({ offset: 4, rows: 2, total: B }, () => 0), /2 rows at 4 of 5/);
});

test('splitRows cuts a batch into contiguous near-equal blocks', () => {
  assert.deepEqual(splitRows(7, 3), [{ offset: 0, rows: 3 }, { offset: 3, rows: 2 }, { offset: 5, rows: 2 }]);
  assert.deepEqual(splitRows(2, 4), [{ offset: 0, rows: 1 }, { offset: 1, rows: 1 }]);
});

test('splitRowsByLength balances padded size: a block holding a long row gets fewer rows', () => {
  // 8 rows, one of length 40 first: an even cut costs max(4·40, 4·10) = 160; [40] | [10 × 7] costs max(40, 70) = 70
  assert.deepEqual(splitRowsByLength([40, 10, 10, 10, 10, 10, 10, 10], 2), [{ offset: 0, rows: 1 }, { offset: 1, rows: 7 }]);
  // equal lengths: the even cut
  assert.deepEqual(splitRowsByLength([5, 5, 5, 5, 5, 5], 3), splitRows(6, 3));
  assert.deepEqual(splitRowsByLength([3, 9], 4), [{ offset: 0, rows: 1 }, { offset: 1, rows: 1 }]);
  const blocks = splitRowsByLength(Array.from({ length: 32 }, (_, i) => 10 + ((i * 37) % 50)), 2);
  assert.equal(blocks.reduce((n, b) => n + b.rows, 0), 32);
  assert.equal(blocks[1].offset, blocks[0].rows);
});

function batch(B: number, T: number, seed: number) {
  const rng = new Rng(seed);
  const x = Float32Array.from({ length: B * T * 3 }, () => rng.normal());
  const y = Float32Array.from({ length: B * T }, () => rng.normal());
  const lengths = Array.from({ length: B }, () => 1 + rng.int(T));
  lengths[0] = T;
  return { x, y, lengths, B, T };
}

/** The participants' shards: contiguous rows, each cut to its own longest length (as a model would pad it). */
function shards(b: ReturnType<typeof batch>, parts: number, seed: number): RegressorShard[] {
  return splitRows(b.B, parts).map(({ offset, rows }) => {
    const lengths = b.lengths.slice(offset, offset + rows);
    const t = Math.max(...lengths);
    const x = new Float32Array(rows * t * 3), y = new Float32Array(rows * t);
    for (let r = 0; r < rows; r++) for (let s = 0; s < t; s++) {
      x.set(b.x.subarray(((offset + r) * b.T + s) * 3, ((offset + r) * b.T + s + 1) * 3), (r * t + s) * 3);
      y[r * t + s] = b.y[(offset + r) * b.T + s];
    }
    return { x, y, shape: [rows, t, 3], lengths, rows: { offset, rows, total: b.B, steps: b.T }, weight: rows / b.B, seed };
  });
}

test('the pool\'s summed shard gradients are the whole batch\'s gradients (3 participants, dropout on, uneven lengths)', async () => {
  const m = regressor(4);
  const pool = await GradientWorkers.start({ workers: 3, module: fixture, config: { seed: 99 }, local: regressorReplica(m) });
  try {
    assert.equal(pool.size, 3);
    // workers built their model from another seed: every step's weights come from the main thread, the frozen scale once
    assert.deepEqual((await pool.call('echo', [1, 2, 3])).map((r: any) => r.arg), [1, 2, 3]);
    assert.ok((await pool.call('echo', [0, 0, 0])).every((r: any) => r.scale === 1.5));
    for (const step of [0, 1]) {
      const b = batch(7, 5, 20 + step);
      const names = Object.keys(m.vars);
      const ref = tf.variableGrads(() => regressorLoss(m, { x: b.x, y: b.y, shape: [b.B, b.T, 3], lengths: b.lengths, seed: step }), names.map((n) => m.vars[n]));
      const got = await pool.gradients(shards(b, 3, step));
      assert.ok(Math.abs(got.loss - ref.value.dataSync()[0]) < 1e-5, `loss ${got.loss} vs ${ref.value.dataSync()[0]}`);
      for (const n of names) {
        const d = tf.tidy(() => tf.max(tf.abs(tf.sub(got.grads[n], ref.grads[m.vars[n].name]))).dataSync()[0]);
        assert.ok(d < 1e-5, `${n}: gradients differ by ${d}`);
      }
      assert.deepEqual(got.extras, [{ rows: 3 }, { rows: 2 }, { rows: 2 }]);
      tf.dispose([ref.value, ...Object.values(ref.grads), ...Object.values(got.grads)]);
      // the main thread's weights move: the next step must use the moved ones in every worker
      for (const v of Object.values(m.vars)) v.assign(tf.tidy(() => tf.add(v, 0.05)));
    }
    const n0 = tf.memory().numTensors;
    const again = await pool.gradients(shards(batch(7, 5, 30), 3, 0));
    tf.dispose(Object.values(again.grads));
    assert.equal(tf.memory().numTensors, n0, 'a pool step leaks no tensors on the main thread');
  } finally {
    await pool.close();
  }
});

test('an error in a worker\'s shard rejects the step with the worker named; the pool stays usable', async () => {
  const m = regressor(4);
  const pool = await GradientWorkers.start({ workers: 2, module: fixture, config: { seed: 1 }, local: regressorReplica(m) });
  try {
    const s = shards(batch(4, 3, 1), 2, 0);
    await assert.rejects(pool.gradients([s[0], { ...s[1], fail: true }]), /gradient worker 1: this shard is poisoned/);
    const ok = await pool.gradients(s);
    tf.dispose(Object.values(ok.grads));
    await assert.rejects(pool.gradients([s[0], s[1], s[1]]), /3 shards for 2 participants/);
  } finally {
    await pool.close();
  }
  await assert.rejects(pool.gradients(shards(batch(4, 3, 1), 2, 0)), /closed/);
});

test('a worker that dies fails the step in flight and every later one, instead of hanging', async () => {
  const m = regressor(4);
  const pool = await GradientWorkers.start({ workers: 2, module: fixture, config: { seed: 1 }, local: regressorReplica(m) });
  try {
    const s = shards(batch(4, 3, 1), 2, 0);
    await assert.rejects(pool.call('no-such-request', [0, 0]), /unknown request 'no-such-request'/);
    // the worker's thread ends under the pool (as an out-of-memory kill would end it)
    await (pool as any).threads[0].terminate();
    await new Promise((r) => setTimeout(r, 200));
    await assert.rejects(pool.gradients(s), /gradient worker 1 exited/);
    await assert.rejects(pool.gradients(s), /gradient worker 1 exited/);
  } finally {
    await pool.close();
  }
});
