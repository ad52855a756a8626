import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { Rng, initBackend } from '@biore/runtime';
import { Adam, numericalGradientCheck } from '@biore/nn';
import { BertModel, parseBertConfig, saveBert } from '@biore/bert';
import { FILLERS, LABELS, VERBS, tinyDataset as dataset } from './fixtures/tiny.ts';
import { createREModel, crossEntropy, train, loadREModel, predict, BERT_HEADS, BertREModel, type BertREConfig } from '../src/index.ts';

await initBackend(process.env.BIORE_BACKEND ?? 'auto');

const VOCAB = ['[PAD]', ...Array.from({ length: 16 }, (_, i) => `[unused${i}]`), '[UNK]', '[CLS]', '[SEP]', '[MASK]',
  ...FILLERS, ...Object.keys(VERBS), 'aspirin', 'cox', '-', '2', '.', '@', 'chemical', 'gene', '$', '<', '>', '/', 'chem', 'act', '##ivates'];

let bertDir: string | undefined;
function tinyBert(): string {
  if (bertDir) return bertDir;
  const cfg = parseBertConfig({ vocab_size: VOCAB.length, hidden_size: 16, num_hidden_layers: 2, num_attention_heads: 2, intermediate_size: 32, max_position_embeddings: 32 });
  const m = new BertModel(cfg, { seed: 11 });
  bertDir = join(mkdtempSync(join(tmpdir(), 'bert-re-')), 'bert');
  saveBert(bertDir, m, VOCAB, true);
  m.dispose();
  return bertDir;
}

function config(head: string, extra: Partial<BertREConfig> = {}): BertREConfig {
  return { family: 'bert', labels: LABELS, indicator: 'replacement', bert: tinyBert(), head: head as BertREConfig['head'], maxLength: 24, dropout: 0.1,
    clsVector: 'pooled', markerTokens: 'reference', lstmHidden: 8, ...extra };
}

for (const head of BERT_HEADS) {
  test(`head ${head} trains at a tiny size: the loss falls and no tensor leaks`, async () => {
    const model = (await createREModel(config(head), new Rng(3))) as BertREModel;
    const data = dataset(16, 4);
    const batch = model.prepare(data);
    const y = data.map((d) => LABELS.indexOf(d.label));
    const vars = model.trainableVariables();
    const opt = new Adam(5e-3);
    const losses: number[] = [];
    let tensors = -1;
    for (let step = 0; step < 40; step++) {
      const loss = tf.tidy(() => {
        const { value, grads } = tf.variableGrads(() => crossEntropy(model.forward(batch, true, step).logits, y), Object.values(vars));
        const named: Record<string, tf.Tensor> = {};
        for (const [k, v] of Object.entries(vars)) named[k] = grads[v.name];
        assert.ok(Object.values(named).every((g) => g), 'every trainable variable gets a gradient');
        opt.step(named, vars);
        return value.dataSync()[0];
      });
      losses.push(loss);
      if (step === 2) tensors = tf.memory().numTensors;
      if (step > 2) assert.equal(tf.memory().numTensors, tensors, `tensor count grew at step ${step}`);
    }
    const first = (losses[0] + losses[1]) / 2, last = (losses[38] + losses[39]) / 2;
    assert.ok(last < 0.7 * first, `loss ${first.toFixed(3)} → ${last.toFixed(3)}`);
    opt.dispose();
    model.dispose();
  });
}

test('the attention head\'s gradients (K, W_f and BERT weights) match central differences', async () => {
  const model = (await createREModel(config('cls+att_ll', { dropout: 0 }), new Rng(5))) as BertREModel;
  const data = dataset(4, 8);
  const batch = model.prepare(data);
  const y = data.map((d) => LABELS.indexOf(d.label));
  const all = model.trainableVariables();
  const pick = ['head/K', 'head/output/kernel', 'bert/encoder.layer.1.output.dense.weight', 'bert/encoder.layer.1.attention.self.query.weight', 'bert/embeddings.LayerNorm.weight'];
  const vars = Object.fromEntries(pick.map((k) => [k, all[k]]));
  const r = numericalGradientCheck(() => crossEntropy(model.forward(batch, false).logits, y), vars, { epsilon: 1e-2, perVariable: 6, rng: new Rng(9) });
  assert.ok(r.maxRelError < 2e-2, `max relative error ${r.maxRelError} at ${JSON.stringify(r.worst)}`);
  model.dispose();
});

test('the last-layer summaries leave out [CLS], [SEP] and padding', async () => {
  const att = (await createREModel(config('att_ll'), new Rng(6))) as BertREModel;
  const data = dataset(5, 12);
  const batch = att.prepare(data);
  const { B, T } = batch;
  tf.tidy(() => {
    const hs = att.bert.forward({ inputIds: tf.tensor2d(batch.ids, [B, T], 'int32'), attentionMask: tf.tensor2d(batch.mask, [B, T]) });
    const last = hs.lastHiddenState.arraySync();
    const K = (att.trainableVariables()['head/K'].arraySync() as number[]);
    const w = att.represent(batch, false).pieceAttention!.arraySync();
    const o = att.represent(batch, false).h.arraySync();
    for (let b = 0; b < B; b++) {
      const n = batch.lengths[b];
      assert.equal(batch.pieces[b][0], '[CLS]');
      assert.equal(batch.pieces[b][n + 1], '[SEP]');
      assert.equal(w[b][0], 0, '[CLS] gets no weight');
      assert.equal(w[b][n + 1], 0, '[SEP] gets no weight');
      for (let t = n + 2; t < T; t++) assert.equal(w[b][t], 0, 'padding gets no weight');
      // O recomputed by hand from h_1..h_N alone
      const s = Array.from({ length: n }, (_, i) => last[b][i + 1].reduce((a, x, k) => a + x * K[k], 0));
      const m = Math.max(...s), z = s.reduce((a, x) => a + Math.exp(x - m), 0);
      const alpha = s.map((x) => Math.exp(x - m) / z);
      alpha.forEach((a, i) => assert.ok(Math.abs(a - w[b][i + 1]) < 1e-5));
      for (let k = 0; k < 16; k++) {
        const ok = alpha.reduce((acc, a, i) => acc + a * last[b][i + 1][k], 0);
        assert.ok(Math.abs(ok - o[b][k]) < 1e-5);
      }
    }
  });
  // the word-level attention of predict sums each word's pieces and covers the words only
  const preds = predict(att, data, 8, { attention: true });
  for (const p of preds) {
    assert.equal(p.attention!.length, p.words.length);
    assert.ok(Math.abs(p.attention!.reduce((a, x) => a + x, 0) - 1) < 1e-5);
  }
  att.dispose();

  const lstm = (await createREModel(config('lstm_ll'), new Rng(7))) as BertREModel;
  const b2 = lstm.prepare(data);
  // the LSTM summary of one instance is the same alone and beside longer ones (padding never enters)
  // and equals the LSTM run by hand over exactly h_1..h_N
  tf.tidy(() => {
    const together = lstm.represent(b2, false).h.arraySync();
    for (let b = 0; b < data.length; b++) {
      const one = lstm.prepare([data[b]]);
      const alone = lstm.represent(one, false).h.arraySync()[0];
      alone.forEach((x, k) => assert.ok(Math.abs(x - together[b][k]) < 1e-5));
      const last = lstm.bert.forward({ inputIds: tf.tensor2d(one.ids, [1, one.T], 'int32'), attentionMask: tf.tensor2d(one.mask, [1, one.T]) }).lastHiddenState;
      const others = tf.slice(last, [0, 1, 0], [1, one.lengths[0], 16]) as tf.Tensor3D;
      const manual = (lstm as unknown as { lstm: { forward(x: tf.Tensor3D): { final: { h: tf.Tensor2D } } } }).lstm.forward(others).final.h.arraySync()[0];
      manual.forEach((x, k) => assert.ok(Math.abs(x - alone[k]) < 1e-5));
    }
  });
  lstm.dispose();
});

test('entity markers may map to [unused] tokens; long sentences are cropped around the entities', async () => {
  const m = (await createREModel(config('cls', { markerTokens: 'unused', maxLength: 10 }), new Rng(1))) as BertREModel;
  const inst = dataset(1, 3)[0];
  const long = { ...inst, tokens: [...Array(12).fill('the'), ...inst.tokens, ...Array(12).fill('cells')],
    e1: { ...inst.e1, start: inst.e1.start + 12, end: inst.e1.end + 12 }, e2: { ...inst.e2, start: inst.e2.start + 12, end: inst.e2.end + 12 } };
  const b = m.prepare([long]);
  assert.ok(b.T <= 10);
  assert.ok(b.pieces[0].includes('[unused0]') && b.pieces[0].includes('[unused1]'), b.pieces[0].join(' '));
  m.dispose();
});

test('trained through the shared trainer, a BERT RE model saves, resumes from its folder and predicts the same', async () => {
  const out = mkdtempSync(join(tmpdir(), 'bert-re-run-'));
  const cfg = config('cls+att_ll');
  const model = await createREModel(cfg, new Rng(2));
  const data = { train: dataset(12, 1), dev: dataset(6, 2), trainSource: 'tiny' };
  await train(model, data, { outDir: out, epochs: 2, batchSize: 4, optimizer: 'adamw', lr: 1e-3, weightDecay: 0.01, warmup: 0.1, schedule: 'linear',
    clipNorm: 1, seed: 3, checkpointEvery: 0, maxTime: 0, resume: false, evalBatchSize: 8, positiveLabels: ['CPR:3', 'CPR:4'] });
  const back = await loadREModel(out);
  const a = predict(back, data.dev).map((p) => p.probabilities);
  const bestDir = join(out, 'best');
  const again = await loadREModel(bestDir);
  const b = predict(again, data.dev).map((p) => p.probabilities);
  assert.deepEqual(a, b);
  assert.equal(back.family, 'bert');
  model.dispose(); back.dispose(); again.dispose();
});
