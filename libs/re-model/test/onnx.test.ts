import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { Rng, initBackend, saveArtifact, tensorsToHost } from '@biore/runtime';
import { datasetInfo, loadDataset, type RelationInstance } from '@biore/re-data';
import {
  BERT_HEADS, OnnxEngine, createREModel, evalBatches, exportModelDir, exportOnnx, openEngine, type REModel,
} from '../src/index.ts';
import { bertDir, cseDir, elmoDir, gloveDir, tmp } from './fixtures/onnx-models.ts';

await initBackend();
const labels = datasetInfo('chemprot').labels;
// real ChemProt test sentences: the first 40 and the 8 longest (cropping, long character sequences)
const all = loadDataset('chemprot', { split: 'test', dataFlag: '/work/shared/data' });
const longest = [...all].sort((a, b) => b.tokens.length - a.tokens.length).slice(0, 8);
const SENTENCES: RelationInstance[] = [...all.slice(0, 40), ...longest];
const TOL = 1e-4;

function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length, 'same number of values');
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

/** Runs both implementations over length-sorted batches of 16 and returns the largest logit and attention differences. */
async function compare(model: REModel): Promise<{ logits: number; attention: number }> {
  const { bytes } = exportOnnx(model);
  const engine = await OnnxEngine.open(model, bytes, { threads: 1 });
  let logits = 0, attention = 0, scale = 0;
  for (const idx of evalBatches(SENTENCES.map((s) => s.tokens.length), 16)) {
    const batch = model.prepare(idx.map((i) => SENTENCES[i]));
    const want = tf.tidy(() => {
      const r = model.forward(batch, false);
      return { logits: r.logits.dataSync().slice(), attention: r.attention?.dataSync().slice() };
    });
    const got = await engine.run(batch);
    logits = Math.max(logits, maxDiff(got.logits, want.logits));
    for (const x of want.logits) scale = Math.max(scale, Math.abs(x));
    assert.equal(got.attention === undefined, want.attention === undefined, 'attention present in both or neither');
    if (want.attention) attention = Math.max(attention, maxDiff(got.attention!, want.attention));
  }
  // a 1e-4 agreement means something only if the logits are not all near zero
  assert.ok(scale > 0.1, `largest |logit| ${scale}`);
  return { logits, attention };
}

const lite = (embeddings: unknown, seed = 1) => createREModel({ family: 'lite', labels, indicator: 'replacement', embeddings, hidden: 10, dropoutEmbedding: 0.3, dropoutOutput: 0.5, maxTokens: 150 } as never, new Rng(seed));

const glove = gloveDir(all);
const cse = cseDir(all);
const elmo = await elmoDir();
const members = { glove: { type: 'glove', path: glove }, cse: { type: 'cse', path: cse }, elmo: { type: 'elmo', model: elmo, mix: { weights: [0.3, -0.2, 0.9], gamma: 1.3 } } };

test('ONNX export of the GloVe lite model (fine-tuned table, hashed out-of-vocabulary words) gives tfjs logits and attention within 1e-4', async () => {
  const model = await lite({ ...members.glove, trainable: true });
  // a trained table differs from the file: the export must read the variable
  const table = model.trainableVariables()['embeddings/0'];
  tf.tidy(() => table.assign(tf.add(table, tf.randomNormal(table.shape, 0, 0.1, 'float32', 3))));
  const d = await compare(model);
  assert.ok(d.logits < TOL && d.attention < TOL, JSON.stringify(d));
  model.dispose();
});

test('ONNX export of CSE (both character LMs, a 2-layer one and a projected one, read at the word boundaries) matches tfjs', async () => {
  const model = await lite({ type: 'stack', members: [members.glove, members.cse] }, 2);
  const d = await compare(model);
  assert.ok(d.logits < TOL && d.attention < TOL, JSON.stringify(d));
  model.dispose();
});

test('ONNX export of ELMo (char CNN, highway, projected clipped LSTMs with skip connections, scalar mix) matches tfjs', async () => {
  const model = await lite({ type: 'stack', members: [members.glove, members.elmo] }, 3);
  const d = await compare(model);
  assert.ok(d.logits < TOL && d.attention < TOL, JSON.stringify(d));
  model.dispose();
});

test('the full stack GloVe + CSE + ELMo exports and matches tfjs on real ChemProt sentences', async () => {
  const model = await lite({ type: 'stack', members: [members.glove, members.cse, members.elmo] }, 4);
  const d = await compare(model);
  assert.ok(d.logits < TOL && d.attention < TOL, JSON.stringify(d));
  model.dispose();
});

const bert = bertDir();
for (const head of BERT_HEADS) {
  test(`ONNX export of BERT with the ${head} head matches tfjs (logits${head.includes('att_ll') ? ' and word attention' : ''})`, async () => {
    const model = await createREModel({ family: 'bert', labels, indicator: 'replacement', bert, head, maxLength: 48, dropout: 0.1, clsVector: head === 'cls+lstm_ll' ? 'raw' : 'pooled', markerTokens: 'reference', lstmHidden: 9 } as never, new Rng(7));
    // BERT's 0.02-std head gives logits near 0; larger head weights make the 1e-4 comparison a real one
    for (const [name, v] of Object.entries(model.weights())) if (name.startsWith('head/')) tf.tidy(() => v.assign(tf.randomNormal(v.shape, 0, 0.5, 'float32', 9)));
    const d = await compare(model);
    assert.ok(d.logits < TOL && d.attention < TOL, JSON.stringify(d));
    model.dispose();
  });
}

test('export-onnx writes model.onnx beside the model, and openEngine("onnx") predicts what openEngine("tfjs") does', async () => {
  const model = await lite({ type: 'stack', members: [members.glove, members.cse] }, 5);
  const dir = join(tmp('onnx-engine-'), 'model');
  saveArtifact(dir, { config: model.config() as Record<string, unknown>, tensors: tensorsToHost(model.weights()) });
  model.dispose();
  const { file, bytes } = await exportModelDir(dir);
  assert.ok(file.endsWith('model.onnx') && bytes > 0);
  const [a, b] = [await openEngine('tfjs', dir), await openEngine('onnx', dir, { threads: 2 })];
  const data = all.slice(100, 140);
  const [pa, pb] = [await a.predict(data, { attention: true }), await b.predict(data, { attention: true })];
  pa.forEach((p, i) => {
    assert.equal(pb[i].label, p.label);
    assert.ok(maxDiff(pb[i].probabilities, p.probabilities) < TOL);
    assert.ok(maxDiff(pb[i].attention!, p.attention!) < TOL);
    assert.deepEqual(pb[i].words, p.words);
  });
  await a.dispose();
  await b.dispose();
});
