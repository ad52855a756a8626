import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { Rng, UserError, initBackend } from '@biore/runtime';
import { BidirectionalLM, BilmVocabulary, parseBilmOptions, saveBilm } from '@biore/elmo';
import { ElmoEmbedder, loadEmbedder, StackedEmbedder } from '../src/index.ts';

const OPTIONS = parseBilmOptions({
  lstm: { dim: 8, projection_dim: 5, n_layers: 2, cell_clip: 3, proj_clip: 3, use_skip_connections: true },
  char_cnn: { activation: 'relu', filters: [[1, 4], [2, 4]], n_highway: 1, embedding: { dim: 4 }, n_characters: 262, max_characters_per_token: 50 },
});

async function tinyModelDir(): Promise<string> {
  const vocab = BilmVocabulary.fromText('<S>\n</S>\n<UNK>\naspirin\nbinds\n');
  const model = new BidirectionalLM(OPTIONS, vocab.size, new Rng(3));
  const dir = join(mkdtempSync(join(tmpdir(), 'elmo-emb-')), 'model');
  await saveBilm(dir, model, vocab);
  model.dispose();
  return dir;
}

const SENTS = [['aspirin', 'binds', 'COX-2', '.'], ['IL-6']];

test('ELMo vectors are the scalar mix of the three layers: token ++ token, then each LSTM layer forward ++ backward', async () => {
  await initBackend();
  const dir = await tinyModelDir();
  const e = (await loadEmbedder({ type: 'elmo', model: dir, mix: { weights: [0.5, -1, 2], gamma: 1.5 } })) as ElmoEmbedder;
  assert.equal(e.embeddingLength, 10);
  const out = e.embed(SENTS);
  assert.deepEqual(out.shape, [2, 4, 10]);
  const layers = e.bilm.elmoLayers(SENTS);
  const w = [0.5, -1, 2].map(Math.exp);
  const z = w.reduce((a, b) => a + b);
  const want = tf.tidy(() => tf.mul(tf.addN(layers.map((l, k) => tf.mul(l, w[k] / z))), 1.5));
  const [a, b] = [out.dataSync(), want.dataSync()];
  for (let i = 0; i < a.length; i++) assert.ok(Math.abs(a[i] - b[i]) < 1e-5);
  // the token layer is duplicated: its two halves are equal
  const t = layers[0].arraySync() as number[][][];
  assert.deepEqual(t[0][0].slice(0, 5), t[0][0].slice(5));
  // zero past the end of the shorter sentence
  assert.ok((out.arraySync() as number[][][])[1].slice(1).flat().every((v) => v === 0));
  tf.dispose([out, want, ...layers]);
  e.dispose();
});

test('the cached path (frozen biLM) gives the same vectors as a fresh run and trains the mix', async () => {
  await initBackend();
  const dir = await tinyModelDir();
  const cached = (await loadEmbedder({ type: 'elmo', model: dir })) as ElmoEmbedder;
  const uncached = (await loadEmbedder({ type: 'elmo', model: dir, cacheMB: 0 })) as ElmoEmbedder;
  const a1 = cached.embed(SENTS), a2 = cached.embed([SENTS[1], SENTS[0]]), b = uncached.embed(SENTS);
  const [x, y] = [a1.dataSync(), b.dataSync()];
  for (let i = 0; i < x.length; i++) assert.ok(Math.abs(x[i] - y[i]) < 1e-6);
  assert.deepEqual(Array.from(tf.tidy(() => tf.slice(a2, [1, 0, 0], [1, 4, 10]).dataSync())), Array.from(tf.tidy(() => tf.slice(a1, [0, 0, 0], [1, 4, 10]).dataSync())));
  assert.equal(cached.trainableVariables().length, 2, 'scalar weights and γ');
  const n0 = tf.memory().numTensors;
  const g = tf.variableGrads(() => tf.sum(tf.square(cached.embed(SENTS))) as tf.Scalar, cached.trainableVariables());
  assert.ok(Object.values(g.grads).every((t) => t.dataSync().some((v) => v !== 0)), 'gradients reach the mix');
  tf.dispose([g.value, ...Object.values(g.grads)]);
  assert.equal(tf.memory().numTensors, n0, 'embedding leaks no tensors');
  tf.dispose([a1, a2, b]);
  cached.dispose();
  uncached.dispose();
});

test('a fixed ELMo trains nothing; fine-tuning exposes the biLM without its softmax', async () => {
  await initBackend();
  const dir = await tinyModelDir();
  const fixed = await loadEmbedder({ type: 'elmo', model: dir, trainable: false });
  assert.equal(fixed.trainableVariables().length, 0);
  const tuned = await loadEmbedder({ type: 'elmo', model: dir, fineTune: true });
  assert.ok(tuned.trainableVariables().length > 20);
  fixed.dispose();
  tuned.dispose();
});

test('an ELMo embedder rebuilds from its description (with its mix) and from options.json + weights.hdf5', async () => {
  await initBackend();
  const dir = await tinyModelDir();
  const e = (await loadEmbedder({ type: 'elmo', model: dir })) as ElmoEmbedder;
  e.mix.weights.assign(tf.tensor1d([1, 2, 3]));
  const again = await loadEmbedder(e.describe());
  const h5 = await loadEmbedder({ type: 'elmo', options: join(dir, 'options.json'), weights: join(dir, 'weights.hdf5'), mix: { weights: [1, 2, 3], gamma: 1 } });
  const [x, y, z] = [e.embed(SENTS), again.embed(SENTS), h5.embed(SENTS)];
  const [a, b, c] = [x.dataSync(), y.dataSync(), z.dataSync()];
  for (let i = 0; i < a.length; i++) { assert.ok(Math.abs(a[i] - b[i]) < 1e-6); assert.ok(Math.abs(a[i] - c[i]) < 1e-5); }
  const stack = new StackedEmbedder([again]);
  assert.equal(stack.embeddingLength, 10);
  tf.dispose([x, y, z]);
  e.dispose(); again.dispose(); h5.dispose();
});

test('a folder with a published options.json + weights.hdf5 pair loads through path (the key re-lite writes)', async () => {
  await initBackend();
  const dir = await tinyModelDir();
  const pub = mkdtempSync(join(tmpdir(), 'elmo-pub-'));
  copyFileSync(join(dir, 'options.json'), join(pub, 'elmo_tiny_options.json'));
  copyFileSync(join(dir, 'weights.hdf5'), join(pub, 'elmo_tiny_weights.hdf5'));
  const [a, b] = [await loadEmbedder({ type: 'elmo', path: pub }), await loadEmbedder({ type: 'elmo', path: dir })];
  const [x, y] = [a.embed(SENTS), b.embed(SENTS)];
  const [p, q] = [x.dataSync(), y.dataSync()];
  for (let i = 0; i < p.length; i++) assert.ok(Math.abs(p[i] - q[i]) < 1e-5);
  tf.dispose([x, y]);
  a.dispose(); b.dispose();
});

test('an elmo spec without a model or weights is a clear error', async () => {
  await assert.rejects(loadEmbedder({ type: 'elmo' }), (err: unknown) => err instanceof UserError && /needs 'model'/.test(err.message));
  await assert.rejects(loadEmbedder({ type: 'elmo', model: '/nonexistent/elmo' }), /artifact folder not found/);
});
