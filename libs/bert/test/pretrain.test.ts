import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend, findData, Rng } from '@biore/runtime';
import { WordPieceTokenizer } from '@biore/text';
import { BertModel, parseBertConfig, corpusVocabulary, packSequences, maskSequences, MlmPretrainer, mlmLoss } from '../src/index.ts';

await initBackend(process.env.BIORE_BACKEND ?? 'auto');

const abstracts = readFileSync(findData('text/pubmed/PubMedAbstract_1MB.txt').path, 'utf8').split('\n').filter((l) => l.trim()).slice(0, 60);

test('a WordPiece vocabulary trained on PubMed abstracts covers them with few [UNK] and packs [CLS] … [SEP] sequences', () => {
  const vocab = corpusVocabulary(abstracts, { vocabSize: 800, doLowerCase: true });
  assert.equal(vocab.length, 800);
  assert.deepEqual(vocab.slice(0, 2), ['[PAD]', '[unused0]']);
  const tok = new WordPieceTokenizer(vocab);
  const pieces = abstracts.flatMap((a) => tok.tokenize(a));
  const unk = pieces.filter((p) => p === '[UNK]').length / pieces.length;
  assert.ok(unk < 0.01, `[UNK] rate ${unk}`);
  const seqs = packSequences(abstracts, tok, 32);
  assert.ok(seqs.length > 100);
  for (const s of seqs) {
    assert.ok(s.length <= 32);
    assert.equal(s[0], tok.id('[CLS]'));
    assert.equal(s[s.length - 1], tok.id('[SEP]'));
  }
});

test('masking picks 15% of the ordinary pieces, 80% [MASK] / 10% random / 10% kept, never [CLS] or [SEP]', () => {
  const vocab = corpusVocabulary(abstracts, { vocabSize: 600, doLowerCase: true });
  const tok = new WordPieceTokenizer(vocab);
  const seqs = packSequences(abstracts, tok, 64);
  const b = maskSequences(seqs, tok, new Rng(1));
  let ordinary = 0;
  for (const s of seqs) ordinary += s.length - 2;
  const share = b.positions.length / ordinary;
  assert.ok(Math.abs(share - 0.15) < 0.01, `share ${share}`);
  let masked = 0, kept = 0, random = 0;
  b.positions.forEach((p, i) => {
    const t = p % b.T;
    const seq = seqs[Math.floor(p / b.T)];
    assert.ok(t > 0 && t < seq.length - 1, 'never [CLS] or [SEP]');
    if (b.inputIds[p] === tok.id('[MASK]')) masked++;
    else if (b.inputIds[p] === b.labels[i]) kept++;
    else random++;
  });
  const n = b.positions.length;
  assert.ok(Math.abs(masked / n - 0.8) < 0.03 && Math.abs(kept / n - 0.1) < 0.03 && Math.abs(random / n - 0.1) < 0.03, `${masked} ${kept} ${random}`);
});

test('a tiny BERT pre-trained with the masked LM lowers its loss; the optimiser state round-trips; no tensor leaks', () => {
  const vocab = corpusVocabulary(abstracts.slice(0, 20), { vocabSize: 300, doLowerCase: true });
  const tok = new WordPieceTokenizer(vocab);
  const seqs = packSequences(abstracts.slice(0, 20), tok, 24).slice(0, 16);
  const cfg = parseBertConfig({ vocab_size: vocab.length, hidden_size: 32, num_hidden_layers: 2, num_attention_heads: 2, intermediate_size: 64, max_position_embeddings: 32 });
  const model = new BertModel(cfg, { withMlmHead: true, seed: 3 });
  const trainer = new MlmPretrainer(model, { lr: 2e-3, totalSteps: 60, warmupSteps: 5 });
  const rng = new Rng(4);
  const fixed = maskSequences(seqs, tok, new Rng(9));
  const evalLoss = () => tf.tidy(() => mlmLoss(model, fixed, false).dataSync()[0]);
  const before = evalLoss();
  let count = -1;
  for (let s = 0; s < 40; s++) {
    trainer.train(maskSequences(seqs, tok, rng), rng);
    if (s === 1) count = tf.memory().numTensors;
    if (s > 1) assert.equal(tf.memory().numTensors, count, `tensors grew at step ${s}`);
  }
  const after = evalLoss();
  assert.ok(after < before - 0.5, `masked-LM loss ${before.toFixed(3)} → ${after.toFixed(3)}`);
  const st = trainer.getState();
  const again = new MlmPretrainer(model, { lr: 2e-3, totalSteps: 60, warmupSteps: 5 });
  again.setState(st);
  assert.equal(again.step, 40);
  assert.deepEqual(Object.keys(again.getState().tensors).sort(), Object.keys(st.tensors).sort());
  trainer.dispose(); again.dispose(); model.dispose();
});

test('the encoder and masked-LM gradients (explicit-transpose matmuls, attention, LayerNorm, GELU) match central differences', async () => {
  const { numericalGradientCheck } = await import('@biore/nn');
  const vocab = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]', 'a', 'b', 'c', 'd', 'e', '##f'];
  const tok = new WordPieceTokenizer(vocab);
  const cfg = parseBertConfig({ vocab_size: vocab.length, hidden_size: 8, num_hidden_layers: 2, num_attention_heads: 2, intermediate_size: 12, max_position_embeddings: 8 });
  const model = new BertModel(cfg, { withMlmHead: true, seed: 6 });
  // large random weights so that every path carries signal
  for (const v of model.variables()) tf.tidy(() => v.assign(tf.add(v, tf.randomNormal(v.shape, 0, 0.3, 'float32', 5))));
  const batch = maskSequences([[2, 5, 6, 7, 8, 3], [2, 9, 10, 5, 3]], tok, new Rng(2), 0.5);
  const pick = ['embeddings.word_embeddings.weight', 'encoder.layer.0.attention.self.query.weight', 'encoder.layer.0.attention.self.key.bias',
    'encoder.layer.1.attention.self.value.weight', 'encoder.layer.1.intermediate.dense.weight', 'encoder.layer.1.output.LayerNorm.weight', 'cls.predictions.transform.dense.weight'];
  const vars = Object.fromEntries(pick.map((n) => [n, model.p(n)]));
  const r = numericalGradientCheck(() => mlmLoss(model, batch, false), vars, { epsilon: 1e-2, perVariable: 6, rng: new Rng(3) });
  assert.ok(r.maxRelError < 2e-2, `max relative error ${r.maxRelError} at ${JSON.stringify(r.worst)}`);
  model.dispose();
});
