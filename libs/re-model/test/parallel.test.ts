import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { Rng, initBackend } from '@biore/runtime';
import { Adam, SGD, type Optimizer } from '@biore/nn';
import { createREModel, parallelTrainStep, precomputeOnWorkers, startREGradientWorkers, trainStep, type REModel } from '../src/index.ts';
import { LABELS, tinyConfig, tinyDataset } from './fixtures/tiny.ts';

const fixture = new URL('./fixtures/tiny.ts', import.meta.url);
const data = tinyDataset(48, 11);
const y = data.map((d) => LABELS.indexOf(d.label));
const batches = Array.from({ length: 6 }, (_, s) => Array.from({ length: 8 }, (_, i) => (s * 8 + i * 5) % data.length));

const snapshot = (m: REModel): Record<string, Float32Array> => Object.fromEntries(Object.entries(m.weights()).map(([k, v]) => [k, Float32Array.from(v.dataSync())]));
function maxDiff(a: Record<string, Float32Array>, b: Record<string, Float32Array>): number {
  let worst = 0;
  for (const [k, xs] of Object.entries(a)) xs.forEach((x, i) => { worst = Math.max(worst, Math.abs(x - b[k][i])); });
  return worst;
}

/** Six steps on the same batches with the same dropout seeds: single-process trainStep, or over `workers`. */
async function run(workers: number | 'trainStep', makeOpt: () => Optimizer, accumulate = 1) {
  await initBackend();
  const model = await createREModel({ ...tinyConfig(6), dropoutEmbedding: 0.3, dropoutOutput: 0.5 } as any, new Rng(5));
  const vars = model.trainableVariables();
  const opt = makeOpt();
  const pool = workers === 'trainStep' ? undefined : await startREGradientWorkers(model, vars, { workers, imports: [fixture] });
  const losses: number[] = [];
  let tensors = 0;
  try {
    for (const [s, idx] of batches.entries()) {
      const o = { clipNorm: 5, accumulate };
      const insts = idx.map((i) => data[i]), ys = idx.map((i) => y[i]);
      const seed = 1000 + 2 * s;
      losses.push(pool ? await parallelTrainStep(pool, model, vars, opt, o, insts, ys, seed) : trainStep(model, vars, opt, o, insts, ys, seed));
      if (s === 1) tensors = tf.memory().numTensors;
    }
    assert.equal(tf.memory().numTensors, tensors, 'tensor count grew over steps');
    return { losses, weights: snapshot(model) };
  } finally {
    await pool?.close();
    opt.dispose();
    model.dispose();
  }
}

test('a batch split over 2 or 3 workers takes the same Adam steps as the whole batch in one process (dropout on)', async () => {
  const adam = () => new Adam(0.01);
  const whole = await run('trainStep', adam);
  for (const workers of [2, 3]) {
    const split = await run(workers, adam);
    const d = maxDiff(whole.weights, split.weights);
    assert.ok(d < 1e-5, `${workers} workers: weights differ by ${d} after ${batches.length} steps`);
    split.losses.forEach((l, i) => assert.ok(Math.abs(l - whole.losses[i]) < 1e-5, `step ${i}: loss ${l} vs ${whole.losses[i]}`));
  }
  // the test can fail: a different dropout seed moves the weights far beyond the tolerance
  assert.ok(whole.losses.every(Number.isFinite) && whole.losses[0] > 0);
});

test('with micro-batches, the split follows trainStep\'s cut (same seeds per micro-batch) and gives its updates', async () => {
  const sgd = () => new SGD(0.5);
  const whole = await run('trainStep', sgd, 3);
  const split = await run(2, sgd, 3);
  const d = maxDiff(whole.weights, split.weights);
  assert.ok(d < 1e-5, `weights differ by ${d}`);
  // and the micro-batch cut matters: whole batches with the same seed take other steps
  const unaccumulated = await run('trainStep', sgd, 1);
  assert.ok(maxDiff(whole.weights, unaccumulated.weights) > 1e-4);
});

test('one worker is trainStep itself: bit-identical weights and losses', async () => {
  const adam = () => new Adam(0.01);
  const whole = await run('trainStep', adam);
  const one = await run(1, adam);
  assert.deepEqual(one.losses, whole.losses);
  assert.equal(maxDiff(whole.weights, one.weights), 0);
});

test('a family whose dropout is not row-split is refused with one clear error', async () => {
  await initBackend();
  const fake = { family: 'bert' } as unknown as REModel;
  await assert.rejects(startREGradientWorkers(fake, {}, { workers: 2 }), /lite model only/);
});

test('a frozen encoder\'s precompute runs in every participant, each filling its own cache', async () => {
  await initBackend();
  await import('./fixtures/caching-embedder.ts');
  const model = await createREModel({ ...tinyConfig(4), embeddings: { type: 'test-caching', dim: 5 } } as any, new Rng(5));
  const pool = await startREGradientWorkers(model, model.trainableVariables(), { workers: 2, imports: [fixture, new URL('./fixtures/caching-embedder.ts', import.meta.url)] });
  try {
    const some = data.slice(0, 20);
    const seen = new Set(model.words(model.prepare(some)).map((w) => w.join(' ')));
    assert.equal(await precomputeOnWorkers(pool, model, some), seen.size);
    // the worker's cache holds them too: asked again, no participant computes anything
    assert.deepEqual(await pool.call('precompute', [some, some]), [0, 0]);
    const fresh = data.find((d) => !seen.has(model.words(model.prepare([d]))[0].join(' ')));
    assert.ok(fresh);
    assert.deepEqual(await pool.call('precompute', [[], [fresh]]), [0, 1]);
  } finally {
    await pool.close();
    model.dispose();
  }
});
