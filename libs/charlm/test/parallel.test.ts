import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { Rng, initBackend } from '@biore/runtime';
import { SGD } from '@biore/nn';
import {
  batchify, disposeState, documentsToStream, getWindow, parallelCharTrainStep, startCharLMGradientWorkers, trainStep, windowCount, type LMState,
} from '../src/index.ts';
import { pubmedDocs } from './helpers.ts';
import { CharDictionary, CharLanguageModel, charLMConfig, countChars } from '../src/index.ts';

const docs = pubmedDocs(6, 300);

function lm(): CharLanguageModel {
  const counts = new Map<string, number>();
  countChars(docs.join('\n') + '\n', counts);
  const dict = CharDictionary.fromCounts(counts, 60);
  return new CharLanguageModel(charLMConfig({ vocabSize: dict.size, isForwardLm: true, embeddingSize: 6, hiddenSize: 10, dropout: 0.25 }), dict, new Rng(3));
}

/** Windows of truncated BPTT with the state carried across them, as trainLanguageModel runs one split. */
async function run(workers: number | 'trainStep', windows = 6) {
  await initBackend();
  const model = lm();
  const batch = 5, seqLen = 9;
  const stream = batchify(documentsToStream(docs, model.dictionary, { forward: true }), batch);
  assert.ok(windowCount(stream, seqLen) >= windows);
  const pool = workers === 'trainStep' ? undefined : await startCharLMGradientWorkers(model, { workers });
  const opt = new SGD(2);
  const rng = new Rng(11);
  let state: LMState = model.zeroState(batch);
  const losses: number[] = [];
  try {
    for (let w = 0; w < windows; w++) {
      const win = getWindow(stream, w, seqLen);
      const r = pool ? await parallelCharTrainStep(pool, model, opt, 0.25, win.input, win.target, win.len, batch, state, rng)
        : trainStep(model, opt, 0.25, win.input, win.target, win.len, batch, state, rng);
      state = r.state;
      losses.push(r.loss);
    }
    const weights = Object.fromEntries(Object.entries(model.variables()).map(([k, v]) => [k, Float32Array.from(v.dataSync())]));
    const carried = [...state.h, ...state.c].map((t) => Float32Array.from(t.dataSync()));
    return { losses, weights, carried, rng: rng.getState(), tensors: tf.memory().numTensors };
  } finally {
    disposeState(state);
    await pool?.close();
    model.dispose();
  }
}

const diff = (a: Float32Array[], b: Float32Array[]) => Math.max(...a.map((x, i) => Math.max(...x.map((v, j) => Math.abs(v - b[i][j])))));

test('the rows of a window split over 2 or 3 workers, each carrying its rows\' state, train like the whole batch in one process', async () => {
  const whole = await run('trainStep');
  for (const workers of [2, 3]) {
    const split = await run(workers);
    const d = diff(Object.values(whole.weights), Object.values(split.weights));
    assert.ok(d < 1e-5, `${workers} workers: weights differ by ${d}`);
    assert.ok(diff(whole.carried, split.carried) < 1e-5, 'the carried recurrent state differs');
    split.losses.forEach((l, i) => assert.ok(Math.abs(l - whole.losses[i]) < 1e-5, `window ${i}: ${l} vs ${whole.losses[i]}`));
    assert.deepEqual(split.rng, whole.rng, 'the rng ends where trainStep leaves it (the next window draws the same masks)');
  }
});

test('one worker is trainStep itself (bit-identical), and split steps leak no tensors', async () => {
  const whole = await run('trainStep', 3);
  const one = await run(1, 3);
  assert.deepEqual(one.losses, whole.losses);
  assert.equal(diff(Object.values(whole.weights), Object.values(one.weights)), 0);
  const short = await run(2, 2), long = await run(2, 6);
  assert.equal(long.tensors, short.tensors, 'tensor count grew with the number of windows');
});
