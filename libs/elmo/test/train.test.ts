import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import { Rng, ensureStrace, initBackend, killAtRename, traceRenames } from '@biore/runtime';
import { numericalGradientCheck } from '@biore/nn';
import { BidirectionalLM, BilmTrainer, bilmLoss, evaluateBilm, loadBilm, makeBatch, saveBilm, ScalarMix, unigramPerplexity } from '../src/index.ts';
import { tinyCorpus, tinyOptions } from './fixtures/tiny.ts';

const here = dirname(fileURLToPath(import.meta.url));

test('the biLM loss gradients (full softmax) agree with central differences', async () => {
  await initBackend();
  const { vocab, sequences } = tinyCorpus(8);
  // clips wide enough not to bind (a clip's kink would break the finite difference), no dropout
  const model = new BidirectionalLM(tinyOptions({ dropout: 0, clip: 50 }), vocab.size, new Rng(4));
  const batch = makeBatch(sequences.slice(0, 3), vocab, 50);
  const r = numericalGradientCheck(() => bilmLoss(model, batch).loss, model.variables(), { epsilon: 1e-2, perVariable: 3, rng: new Rng(1), floor: 1e-2 });
  assert.ok(r.checked > 60);
  assert.ok(r.maxRelError < 3e-2, `worst ${JSON.stringify(r.worst)} rel ${r.maxRelError}`);
  model.dispose();
});

test('the sampled-softmax loss gradients agree with central differences (same sample each evaluation)', async () => {
  await initBackend();
  const { vocab, sequences } = tinyCorpus(8);
  const model = new BidirectionalLM(tinyOptions({ dropout: 0, clip: 50 }), vocab.size, new Rng(5));
  const batch = makeBatch(sequences.slice(0, 3), vocab, 50);
  const vars = model.variables();
  const some = Object.fromEntries(['softmax/W', 'softmax/b', 'RNN_0/Cell1/kernel', 'RNN_1/Cell0/projection', 'CNN_proj/kernel'].map((k) => [k, vars[k]]));
  const r = numericalGradientCheck(() => bilmLoss(model, batch, { negatives: 5, rng: new Rng(2) }).loss, some, { epsilon: 1e-2, perVariable: 6, rng: new Rng(1), floor: 1e-2 });
  assert.ok(r.maxRelError < 3e-2, `worst ${JSON.stringify(r.worst)} rel ${r.maxRelError}`);
  model.dispose();
});

test('training steps leak no tensors and bring the held-out perplexity below the unigram baseline', async () => {
  await initBackend();
  const { vocab, sequences } = tinyCorpus(60);
  const model = new BidirectionalLM(tinyOptions({ negatives: 0 }), vocab.size, new Rng(6));
  const trainer = new BilmTrainer(model, vocab, sequences.slice(0, 48), { seed: 1, learningRate: 0.5, initialAccumulator: 1, checkpointEvery: 0 });
  const held = sequences.slice(48);
  const before = evaluateBilm(model, vocab, held).perplexity;
  trainer.step(); // the first step creates the optimizer's slots
  const n0 = tf.memory().numTensors;
  for (let i = 0; i < 60; i++) trainer.step();
  assert.equal(tf.memory().numTensors, n0, 'tensor count is flat over training steps');
  const after = evaluateBilm(model, vocab, held);
  assert.equal(tf.memory().numTensors, n0, 'evaluation leaks nothing');
  const unigram = unigramPerplexity(sequences.slice(0, 48), held, vocab).perplexity;
  assert.ok(after.perplexity < unigram && after.perplexity < before, `held-out perplexity ${before.toFixed(1)} → ${after.perplexity.toFixed(1)}, unigram ${unigram.toFixed(1)}`);
  trainer.dispose();
  model.dispose();
});

test('a trained model folder loads back (softmax, vocabulary) and embeds identically', async () => {
  await initBackend();
  const { vocab } = tinyCorpus(10);
  const model = new BidirectionalLM(tinyOptions(), vocab.size, new Rng(8));
  const dir = join(mkdtempSync(join(tmpdir(), 'elmo-save-')), 'model');
  await saveBilm(dir, model, vocab, { note: 'test' });
  const again = loadBilm(dir);
  assert.equal(again.vocab.toText(), vocab.toText());
  const s = [['aspirin', 'binds', 'EGFR', '.']];
  const [a, b] = [model.elmoLayers(s), again.model.elmoLayers(s)];
  a.forEach((t, k) => assert.deepEqual(Array.from(t.dataSync()), Array.from(b[k].dataSync())));
  const opts = JSON.parse(readFileSync(join(dir, 'options.json'), 'utf8'));
  assert.equal(opts.char_cnn.n_characters, 262);
  assert.equal(opts.lstm.projection_dim, 6);
  tf.dispose([...a, ...b]);
  model.dispose();
  again.model.dispose();
});

test('a sentence embeds the same alone as in a batch with a longer one', async () => {
  await initBackend();
  const { vocab } = tinyCorpus(10);
  const model = new BidirectionalLM(tinyOptions(), vocab.size, new Rng(8));
  const alone = model.elmoLayers([['insulin', 'binds', 'p53']]);
  const batched = model.elmoLayers([['aspirin', 'inhibits', 'COX-2', 'and', 'TNF', '.'], ['insulin', 'binds', 'p53']]);
  alone.forEach((t, k) => {
    const x = t.dataSync();
    const y = tf.tidy(() => tf.slice(batched[k], [1, 0, 0], [1, 3, -1]).dataSync());
    for (let i = 0; i < x.length; i++) assert.ok(Math.abs(x[i] - y[i]) < 1e-5);
    const pad = tf.tidy(() => tf.slice(batched[k], [1, 3, 0], [1, 3, -1]).dataSync());
    assert.ok(pad.every((v) => v === 0), 'zero past the end');
  });
  tf.dispose([...alone, ...batched]);
  model.dispose();
});

test('the scalar mix is γ times the softmax-weighted sum of the layers', async () => {
  await initBackend();
  const mix = new ScalarMix(3, { weights: [0, Math.log(2), Math.log(3)], gamma: 2 });
  const layers = [tf.fill([1, 2], 1), tf.fill([1, 2], 10), tf.fill([1, 2], 100)];
  const out = mix.apply(layers).dataSync();
  const want = 2 * (1 * 1 + 2 * 10 + 3 * 100) / 6;
  assert.ok(Math.abs(out[0] - want) < 1e-4);
  const g = tf.variableGrads(() => tf.sum(mix.apply(layers)) as tf.Scalar, mix.variables());
  assert.ok(Object.values(g.grads).every((t) => Math.abs(t.dataSync()[0]) > 0), 'weights and γ are trainable');
  tf.dispose([...layers, ...Object.values(g.grads), g.value]);
  mix.dispose();
});

function child(dir: string, steps: number, killAt?: number) {
  return spawnSync(process.execPath, ['--import', 'tsx', join(here, 'fixtures', 'train-child.ts'), dir, String(steps), ...(killAt ? [String(killAt)] : [])], { encoding: 'utf8' });
}

test('a run killed with SIGKILL and resumed from its checkpoint ends with the same weights as an unbroken run', () => {
  const unbroken = mkdtempSync(join(tmpdir(), 'elmo-unbroken-'));
  const broken = mkdtempSync(join(tmpdir(), 'elmo-broken-'));
  const a = child(unbroken, 13);
  assert.equal(a.status, 0, a.stderr);
  const killed = child(broken, 13, 9); // checkpoint at step 8; steps 9 is lost and redone
  assert.equal(killed.signal, 'SIGKILL');
  const state = JSON.parse(readFileSync(join(broken, 'checkpoint', 'state.json'), 'utf8'));
  assert.equal(state.position.step, 8);
  const resumed = child(broken, 13); // crosses the epoch boundary at step 10 after resuming
  assert.equal(resumed.status, 0, resumed.stderr);
  const wa = readFileSync(join(unbroken, 'final', 'model.safetensors'));
  const wb = readFileSync(join(broken, 'final', 'model.safetensors'));
  assert.ok(wa.equals(wb), 'weights and optimizer slots are bit-identical');
  const sa = JSON.parse(readFileSync(join(unbroken, 'final', 'state.json'), 'utf8'));
  const sb = JSON.parse(readFileSync(join(broken, 'final', 'state.json'), 'utf8'));
  assert.deepEqual({ ...sb.position, seconds: 0 }, { ...sa.position, seconds: 0 });
  assert.equal(sa.position.epoch, 1);
});

test('a SIGKILL between the two renames of a checkpoint leaves a complete one: the resumed run ends bit-identical', { skip: !ensureStrace() && 'strace is not installed and apt-get cannot install it (not root)' }, () => {
  const unbroken = mkdtempSync(join(tmpdir(), 'elmo-ren-unbroken-'));
  const broken = mkdtempSync(join(tmpdir(), 'elmo-ren-broken-'));
  const args = (dir: string) => ['--import', 'tsx', join(here, 'fixtures', 'train-child.ts'), dir, '13'];
  const traced = traceRenames(process.execPath, args(unbroken));
  assert.equal(traced.run.status, 0, traced.run.stderr);
  // each checkpoint lands as a generation, then the `checkpoint` link moves onto it: kill at the 4th link move
  const links = traced.renames.map(([, to], i) => ({ to, i })).filter((x) => x.to === join(unbroken, 'checkpoint'));
  assert.ok(links.length >= 5, `${links.length} checkpoints`);
  const killed = killAtRename(process.execPath, args(broken), links[3].i + 1);
  assert.equal(killed.signal ?? (killed.status === 137 ? 'SIGKILL' : killed.status), 'SIGKILL', killed.stderr);
  assert.equal(JSON.parse(readFileSync(join(broken, 'checkpoint', 'state.json'), 'utf8')).position.step, 6, 'the link still names step 6');
  const resumed = child(broken, 13);
  assert.equal(resumed.status, 0, resumed.stderr);
  assert.ok(readFileSync(join(unbroken, 'final', 'model.safetensors')).equals(readFileSync(join(broken, 'final', 'model.safetensors'))), 'resumed from step 8, the newest complete generation, to the same weights');
});
