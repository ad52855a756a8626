import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '@biore/runtime';
import { StackedEmbedder, loadEmbedder, registerEmbedderType, type Embedder } from '../src/index.ts';

/** A test embedder: each token's vector is [its length, its first char code] scaled by `k`. */
function toy(name: string, k: number): Embedder {
  return {
    name,
    embeddingLength: 2,
    embed(sentences) {
      const T = Math.max(...sentences.map((s) => s.length));
      const data = new Float32Array(sentences.length * T * 2);
      sentences.forEach((s, b) => s.forEach((w, t) => { data[(b * T + t) * 2] = k * w.length; data[(b * T + t) * 2 + 1] = k * w.charCodeAt(0); }));
      return tf.tensor3d(data, [sentences.length, T, 2]);
    },
    trainableVariables: () => [],
    describe: () => ({ type: 'toy', name, k }),
    dispose() {},
  };
}
registerEmbedderType('toy', (spec) => toy(spec.name as string, spec.k as number));

test('a stack is the concatenation of its members, in order, padded to the longest sentence', async () => {
  await initBackend();
  const stack = new StackedEmbedder([toy('a', 1), toy('b', 10)]);
  assert.equal(stack.embeddingLength, 4);
  assert.equal(stack.name, 'a+b');
  const out = stack.embed([['ab', 'c'], ['xyz']]);
  assert.deepEqual(out.shape, [2, 2, 4]);
  assert.deepEqual(Array.from(out.dataSync()), [2, 97, 20, 970, 1, 99, 10, 990, 3, 120, 30, 1200, 0, 0, 0, 0]);
  out.dispose();
});

test('a stack rebuilds from its own description', async () => {
  const stack = new StackedEmbedder([toy('a', 1), toy('b', 10)]);
  const again = await loadEmbedder(stack.describe());
  assert.equal(again.name, 'a+b');
  const [x, y] = [stack.embed([['q']]), again.embed([['q']])];
  assert.deepEqual(Array.from(x.dataSync()), Array.from(y.dataSync()));
  tf.dispose([x, y]);
  await assert.rejects(loadEmbedder({ type: 'nope' }), /unknown embedding type 'nope'/);
});
