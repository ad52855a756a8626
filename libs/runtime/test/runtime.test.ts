import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, writeFileSync, readFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import {
  initBackend, backendChoice, Rng, encodeSafetensors, decodeSafetensors, saveArtifact, loadArtifact, tensorsToHost,
  writeFileAtomic, writeDirAtomic, UserError, findData, dataRoots, readJsonl, JsonlWriter, measureMatmulRate,
} from '../src/index.ts';

const tmp = () => mkdtempSync(join(tmpdir(), 'biore-runtime-'));

test('without tfjs-node installed, auto falls back to wasm and says why', async () => {
  const report = await initBackend('auto');
  assert.equal(report.backend, tf.getBackend());
  assert.ok(['tensorflow', 'wasm', 'cpu'].includes(report.backend));
  if (report.backend !== 'tensorflow') assert.ok(report.skipped.some((s) => s.includes('tfjs-node')), JSON.stringify(report));
});

test('an unknown backend name is a user error', () => {
  assert.throws(() => backendChoice('cuda'), UserError);
});

test("tf.gather's gradient (UnsortedSegmentSum) works on this backend and sums repeated indices", async () => {
  await initBackend('auto');
  const table = tf.tensor2d([[1, 2], [3, 4], [5, 6]]);
  const idx = tf.tensor1d([2, 0, 2, 2], 'int32');
  const w = tf.tensor2d([[1, 10], [2, 20], [3, 30], [4, 40]]);
  const g = tf.grad((t: tf.Tensor) => tf.sum(tf.mul(tf.gather(t, idx), w)))(table);
  // row 0 gets w[1]; row 2 gets w[0] + w[2] + w[3]; row 1 nothing
  assert.deepEqual(Array.from(g.dataSync()), [2, 20, 0, 0, 8, 80]);
  // batched lookups [B, T] as the embedding layers use them
  const idx2 = tf.tensor2d([[0, 1], [1, 1]], [2, 2], 'int32');
  const g2 = tf.grad((t: tf.Tensor) => tf.sum(tf.gather(t, idx2)))(table);
  assert.deepEqual(Array.from(g2.dataSync()), [1, 1, 3, 3, 0, 0]);
  tf.dispose([table, idx, w, g, idx2, g2]);
});

test('safetensors round-trips float and int tensors in the published layout', () => {
  const buf = encodeSafetensors({
    'a.weight': { dtype: 'float32', shape: [2, 3], data: new Float32Array([1, 2, 3, 4, 5, 6.5]) },
    ids: { dtype: 'int32', shape: [2], data: new Int32Array([7, -1]) },
  }, { note: 'x' });
  const hlen = Number(new DataView(buf.buffer).getBigUint64(0, true));
  const header = JSON.parse(Buffer.from(buf.slice(8, 8 + hlen)).toString());
  assert.deepEqual(header['a.weight'], { dtype: 'F32', shape: [2, 3], data_offsets: [0, 24] });
  assert.equal((8 + hlen) % 8, 0);
  const { tensors, metadata } = decodeSafetensors(buf);
  assert.deepEqual(Array.from(tensors['a.weight'].data), [1, 2, 3, 4, 5, 6.5]);
  assert.deepEqual(Array.from(tensors.ids.data), [7, -1]);
  assert.equal(metadata.note, 'x');
});

test('a truncated safetensors file is a clear error naming the file', () => {
  const buf = encodeSafetensors({ w: { dtype: 'float32', shape: [4], data: new Float32Array(4) } });
  assert.throws(() => decodeSafetensors(buf.slice(0, 20), 'w.safetensors'), /w\.safetensors: truncated safetensors header/);
  assert.throws(() => decodeSafetensors(buf.slice(0, buf.length - 4), 'w.safetensors'), /w\.safetensors: tensor 'w' data/);
  assert.throws(() => decodeSafetensors(buf.slice(0, 5), 'w.safetensors'), /not a safetensors file/);
});

test('the seeded stream repeats from a saved state', () => {
  const a = new Rng(7);
  a.next(); a.next();
  const state = a.getState();
  const xs = [a.next(), a.int(100), a.normal()];
  const b = new Rng(1);
  b.setState(state);
  assert.deepEqual([b.next(), b.int(100), b.normal()], xs);
  assert.notDeepEqual(new Rng(1).getState(), new Rng(2).getState());
  const mean = Array.from({ length: 20000 }, () => a.next()).reduce((s, x) => s + x, 0) / 20000;
  assert.ok(Math.abs(mean - 0.5) < 0.02, `mean ${mean}`);
});

test('atomic writes leave no temporary file behind, also when the writer fails', () => {
  const d = tmp();
  writeFileAtomic(join(d, 'a.txt'), 'hello');
  assert.equal(readFileSync(join(d, 'a.txt'), 'utf8'), 'hello');
  assert.throws(() => writeDirAtomic(join(d, 'art'), (t) => { writeFileSync(join(t, 'x'), '1'); throw new Error('boom'); }), /boom/);
  assert.deepEqual(readdirSync(d), ['a.txt']);
});

test('an artifact folder holds config.json and model.safetensors and loads back', async () => {
  await initBackend('auto');
  const d = join(tmp(), 'model');
  const w = tf.tensor2d([[1, 2], [3, 4]]);
  saveArtifact(d, { config: { hidden: 2 }, tensors: tensorsToHost({ w }), state: { step: 3 }, files: { 'vocab.txt': 'a\nb\n' } });
  assert.deepEqual(readdirSync(d).sort(), ['config.json', 'model.safetensors', 'state.json', 'vocab.txt']);
  const a = loadArtifact(d);
  assert.deepEqual(a.config, { hidden: 2 });
  assert.deepEqual(Array.from(a.tensors.w.data), [1, 2, 3, 4]);
  assert.deepEqual(a.state, { step: 3 });
  writeFileSync(join(d, 'model.safetensors'), readFileSync(join(d, 'model.safetensors')).subarray(0, 30));
  assert.throws(() => loadArtifact(d), /model\.safetensors/);
  w.dispose();
});

test('data roots: --data, then BIORE_DATA, then corpora/, then ../shared/data', () => {
  const d = tmp();
  mkdirSync(join(d, 'chemprot'));
  const old = process.env.BIORE_DATA;
  process.env.BIORE_DATA = join(d, 'nothing-here');
  try {
    assert.deepEqual(dataRoots('/x').map((r) => r.source), ['flag', 'env', 'corpora', 'shared']);
    assert.equal(findData('chemprot', d).root.source, 'flag');
    assert.throws(() => findData('chemprot'), /BIORE_DATA/);
    delete process.env.BIORE_DATA;
    assert.throws(() => findData('no-such-dataset-anywhere'), /not found/);
  } finally {
    if (old === undefined) delete process.env.BIORE_DATA; else process.env.BIORE_DATA = old;
  }
});

test('metrics JSON lines round-trip, and a malformed line names its number', () => {
  const p = join(tmp(), 'm.jsonl');
  const w = new JsonlWriter(p);
  w.write({ step: 1, loss: 0.5 });
  w.write({ step: 2, loss: 0.25 });
  assert.deepEqual(readJsonl<{ loss: number }>(p).map((r) => r.loss), [0.5, 0.25]);
  writeFileSync(p, '{"a":1}\n{oops\n');
  assert.throws(() => readJsonl(p), /record line 2/);
});

test('the large-matmul rate is measured as the backend runs it (a positive GFLOP/s figure)', async () => {
  await initBackend();
  const before = tf.memory().numTensors;
  const rate = measureMatmulRate(256, 0.2);
  assert.ok(Number.isFinite(rate) && rate > 0, `rate ${rate}`);
  assert.equal(tf.memory().numTensors, before, 'no tensors left behind');
});
