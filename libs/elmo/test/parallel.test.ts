import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { Rng, initBackend } from '@biore/runtime';
import { BidirectionalLM, BilmTrainer, BilmVocabulary, parallelBilmStep, startBilmGradientWorkers, toSequences } from '../src/index.ts';
import { tinyOptions } from './fixtures/tiny.ts';

/** Sentences of uneven length (so batches are padded), chunked as bilm-tf reads them. */
function corpus(n: number) {
  const rng = new Rng(8);
  const subj = ['aspirin', 'ibuprofen', 'insulin', 'heparin'], verb = ['inhibits', 'activates', 'binds'], obj = ['COX-2', 'IL-6', 'TNF', 'p53'];
  const sents = Array.from({ length: n }, () => [
    ...Array.from({ length: rng.int(3) }, () => 'the'), subj[rng.int(4)], verb[rng.int(3)], ...Array.from({ length: rng.int(2) }, () => 'strongly'), obj[rng.int(4)], '.',
  ]);
  const counts = new Map<string, number>();
  for (const s of sents) for (const w of s) counts.set(w, (counts.get(w) ?? 0) + 1);
  return { vocab: BilmVocabulary.fromCounts(counts), sequences: toSequences(sents, 9) };
}

async function run(workers: number | 'step', negatives: number, steps = 5) {
  await initBackend();
  const { vocab, sequences } = corpus(40);
  const model = new BidirectionalLM(tinyOptions({ dropout: 0.2, negatives }), vocab.size, new Rng(6));
  const trainer = new BilmTrainer(model, vocab, sequences, { seed: 1, learningRate: 0.3, initialAccumulator: 1, checkpointEvery: 0 });
  const pool = workers === 'step' ? undefined : await startBilmGradientWorkers(trainer, { workers });
  const losses: number[] = [];
  let n1 = 0;
  try {
    for (let s = 0; s < steps; s++) {
      losses.push((pool ? await parallelBilmStep(pool, trainer) : trainer.step()).loss);
      if (s === 0) n1 = tf.memory().numTensors;
    }
    assert.equal(tf.memory().numTensors, n1, 'tensor count grew over steps');
    const weights = Object.fromEntries(Object.entries(model.variables()).map(([k, v]) => [k, Float32Array.from(v.dataSync())]));
    return { losses, weights, position: { ...trainer.position, seconds: 0 } };
  } finally {
    await pool?.close();
    trainer.dispose();
    model.dispose();
  }
}

function maxDiff(a: Record<string, Float32Array>, b: Record<string, Float32Array>) {
  let d = 0;
  for (const [k, xs] of Object.entries(a)) xs.forEach((x, i) => { d = Math.max(d, Math.abs(x - b[k][i])); });
  return d;
}

for (const negatives of [0, 5]) {
  test(`a biLM batch split over 2 or 3 workers takes step()'s Adagrad updates (dropout on, ${negatives ? 'sampled' : 'full'} softmax)`, async () => {
    const whole = await run('step', negatives);
    for (const workers of [2, 3]) {
      const split = await run(workers, negatives);
      const d = maxDiff(whole.weights, split.weights);
      assert.ok(d < 1e-5, `${workers} workers: weights differ by ${d}`);
      split.losses.forEach((l, i) => assert.ok(Math.abs(l - whole.losses[i]) < 1e-5, `step ${i}: ${l} vs ${whole.losses[i]}`));
      // position, token count and rng as step() leaves them: a checkpoint taken now resumes the same trajectory
      assert.deepEqual(split.position, whole.position);
    }
  });
}

test('one worker is step() itself: bit-identical', async () => {
  const whole = await run('step', 5, 3);
  const one = await run(1, 5, 3);
  assert.deepEqual(one.losses, whole.losses);
  assert.equal(maxDiff(whole.weights, one.weights), 0);
});
