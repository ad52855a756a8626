import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend, UserError } from '@biore/runtime';
import { writeGloveArtifact } from '@biore/glove';
import { GloveEmbedder, loadEmbedder } from '../src/index.ts';

/** A 4-word, 3-dimensional artifact written in the glove:build layout. */
function artifact(): string {
  const dir = mkdtempSync(join(tmpdir(), 'glove-emb-'));
  const words = ['the', 'protein', 'binds', 'brca1'];
  const matrix = new Float32Array([1, 0, 0, 0, 2, 0, 0, 0, 3, 1, 1, 1]);
  writeGloveArtifact(dir, { words, matrix, dim: 3 }, { lowercase: true, vectors: 'imported' });
  return dir;
}

const norm = (v: ArrayLike<number>) => Math.sqrt(Array.from(v).reduce((s, x) => s + x * x, 0));

test('embed builds [batch, longest, dim] from the vectors, padding rows zero', async () => {
  await initBackend();
  const dir = artifact();
  try {
    const e = GloveEmbedder.load(dir);
    assert.equal(e.embeddingLength, 3);
    const before = tf.memory().numTensors;
    const out = e.embed([['the', 'protein', 'binds'], ['BRCA1']]);
    assert.deepEqual(out.shape, [2, 3, 3]);
    const v = out.arraySync();
    assert.deepEqual(v[0], [[1, 0, 0], [0, 2, 0], [0, 0, 3]]);
    assert.deepEqual(v[1][0], [1, 1, 1], 'a word missing as is is found lowercased');
    assert.deepEqual(v[1][1], [0, 0, 0]);
    assert.deepEqual(v[1][2], [0, 0, 0]);
    out.dispose();
    assert.equal(tf.memory().numTensors, before);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('out-of-vocabulary tokens get stable, distinct hash vectors at the mean in-vocabulary norm', async () => {
  await initBackend();
  const dir = artifact();
  try {
    const e = GloveEmbedder.load(dir);
    const mean = (1 + 2 + 3 + Math.sqrt(3)) / 4;
    assert.ok(Math.abs(e.meanNorm - mean) < 1e-6);
    const markers = ['@CHEMICAL$', '@GENE$', '<chem>', '</chem>', '<gene>', '</gene>'];
    const vecs = markers.map((m) => Array.from(e.vector(m)));
    for (const v of vecs) assert.ok(Math.abs(norm(v) - mean) < 1e-4);
    for (let a = 0; a < vecs.length; a++) for (let b = a + 1; b < vecs.length; b++) assert.notDeepEqual(vecs[a], vecs[b], `${markers[a]} vs ${markers[b]}`);
    const again = GloveEmbedder.load(dir);
    assert.deepEqual(Array.from(again.vector('@CHEMICAL$')), vecs[0], 'the same word gets the same vector in another instance');
    const out = e.embed([['@GENE$', 'binds']]);
    assert.deepEqual(Array.from(out.dataSync().slice(0, 3)), Array.from(new Float32Array(vecs[1])));
    out.dispose();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("oov 'zero' gives zeros; the spec round-trips through loadEmbedder; a bad policy is a UserError", async () => {
  await initBackend();
  const dir = artifact();
  try {
    const e = GloveEmbedder.load(dir, { oov: 'zero' });
    assert.deepEqual(Array.from(e.vector('@CHEMICAL$')), [0, 0, 0]);
    const spec = e.describe();
    assert.deepEqual(spec, { type: 'glove', path: dir, oov: 'zero' });
    const e2 = await loadEmbedder(spec);
    assert.equal(e2.name, 'glove');
    assert.deepEqual(Array.from(e2.embed([['zzz', 'the']]).dataSync()), [0, 0, 0, 1, 0, 0]);
    assert.throws(() => GloveEmbedder.load(dir, { oov: 'nope' as 'zero' }), UserError);
    assert.throws(() => GloveEmbedder.load(join(dir, 'missing')), UserError);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('fine-tuned GloVe starts from the file, gives the same vectors, and sends gradients only to the words used', async () => {
  await initBackend();
  const dir = artifact();
  try {
    const frozen = GloveEmbedder.load(dir);
    const tuned = (await loadEmbedder({ type: 'glove', path: dir, trainable: true })) as GloveEmbedder;
    assert.equal(frozen.trainableVariables().length, 0);
    assert.equal(tuned.trainableVariables().length, 1);
    assert.equal(tuned.describe().trainable, true);
    const batch = [['the', 'BRCA1', '@GENE$'], ['binds']];
    const [a, b] = [frozen.embed(batch), tuned.embed(batch)];
    assert.deepEqual(b.arraySync(), a.arraySync(), 'same vectors as the frozen embedder, out-of-vocabulary ones included');
    const table = tuned.trainableVariables()[0];
    const g = tf.grad(() => tf.sum(tuned.embed(batch)))(table);
    // rows: the, protein, binds, brca1 — 'protein' is not in the batch, '@GENE$' is out of vocabulary
    assert.deepEqual(g.arraySync(), [[1, 1, 1], [0, 0, 0], [1, 1, 1], [1, 1, 1]]);
    tf.dispose([a, b, g]);
    tuned.dispose();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
