import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import h5wasm from 'h5wasm/node';
import { Rng, UserError, initBackend } from '@biore/runtime';
import { BidirectionalLM, loadBilmHdf5, writeBilmHdf5 } from '../src/index.ts';

// A tiny biLM in bilm-tf's published layout, with small clips so cell and projection clipping are exercised.
const OPTIONS = {
  lstm: { dim: 7, projection_dim: 6, n_layers: 2, cell_clip: 0.5, proj_clip: 0.4, use_skip_connections: true },
  char_cnn: { activation: 'relu', filters: [[1, 3], [2, 4], [3, 5]], n_highway: 2, embedding: { dim: 4 }, n_characters: 262, max_characters_per_token: 50 },
};
const D = 4, F = 12, P = 6, H = 7, C = 50;

type Arr = { data: Float64Array; shape: number[] };

/** Random datasets under the exact names bilm-tf's dump_weights writes (and allennlp reads). */
function tinyWeights(seed: number): Map<string, Arr> {
  const rng = new Rng(seed);
  const m = new Map<string, Arr>();
  const put = (name: string, shape: number[], scale: number) => {
    const n = shape.reduce((a, b) => a * b, 1);
    m.set(name, { data: Float64Array.from({ length: n }, () => (2 * rng.next() - 1) * scale), shape });
  };
  put('char_embed', [261, D], 1);
  OPTIONS.char_cnn.filters.forEach(([w, n], i) => { put(`CNN/W_cnn_${i}`, [1, w, D, n], 0.5); put(`CNN/b_cnn_${i}`, [n], 0.1); });
  for (let k = 0; k < 2; k++) {
    put(`CNN_high_${k}/W_carry`, [F, F], 0.3); put(`CNN_high_${k}/b_carry`, [F], 0.5);
    put(`CNN_high_${k}/W_transform`, [F, F], 0.3); put(`CNN_high_${k}/b_transform`, [F], 0.1);
  }
  put('CNN_proj/W_proj', [F, P], 0.4); put('CNN_proj/b_proj', [P], 0.1);
  for (const d of [0, 1]) for (const l of [0, 1]) {
    const p = `RNN_${d}/RNN/MultiRNNCell/Cell${l}/LSTMCell`;
    put(`${p}/W_0`, [2 * P, 4 * H], 0.8); put(`${p}/B`, [4 * H], 0.3); put(`${p}/W_P_0`, [H, P], 2.5);
  }
  return m;
}

async function writeH5(path: string, weights: Map<string, Arr>, skip?: string): Promise<void> {
  await h5wasm.ready;
  const f = new h5wasm.File(path, 'w');
  const groups = new Set<string>();
  for (const [name, a] of weights) {
    if (name === skip) continue;
    const parts = name.split('/');
    for (let i = 1; i < parts.length; i++) {
      const g = parts.slice(0, i).join('/');
      if (!groups.has(g)) { f.create_group(g); groups.add(g); }
    }
    f.create_dataset({ name, data: Float32Array.from(a.data), shape: a.shape, dtype: '<f4' });
  }
  f.close();
}

// ---- the plain reference: Float64 loops over the raw datasets, following bilm-tf's graph ----
const f32 = (x: number) => Math.fround(x);
const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));
const clip = (x: number, c: number) => Math.max(-c, Math.min(c, x));

function charIdsOf(token: string): number[] {
  // bilm-tf ids (no +1): bow, utf-8 bytes (≤ 48), eow, pad…; <S>/</S> are the single "characters" 256/257
  const ids = new Array(C).fill(260);
  ids[0] = 258;
  const bytes = token === '<S>' ? [256] : token === '</S>' ? [257] : [...Buffer.from(token, 'utf8')].slice(0, C - 2);
  bytes.forEach((b, i) => { ids[1 + i] = b; });
  ids[1 + bytes.length] = 259;
  return ids;
}

function at(a: Arr, ...idx: number[]): number {
  let o = 0;
  for (let i = 0; i < idx.length; i++) o = o * a.shape[i] + idx[i];
  return f32(a.data[o]);
}

function tokenVector(w: Map<string, Arr>, token: string): number[] {
  const ids = charIdsOf(token);
  const emb = ids.map((id) => Array.from({ length: D }, (_, d) => at(w.get('char_embed')!, id, d)));
  let x: number[] = [];
  OPTIONS.char_cnn.filters.forEach(([width, n], i) => {
    const W = w.get(`CNN/W_cnn_${i}`)!, b = w.get(`CNN/b_cnn_${i}`)!;
    for (let k = 0; k < n; k++) {
      let best = -Infinity;
      for (let p = 0; p + width <= C; p++) {
        let s = at(b, k);
        for (let dw = 0; dw < width; dw++) for (let d = 0; d < D; d++) s += emb[p + dw][d] * at(W, 0, dw, d, k);
        best = Math.max(best, s);
      }
      x.push(Math.max(0, best)); // max-pool, then relu
    }
  });
  for (let k = 0; k < 2; k++) {
    const g = `CNN_high_${k}`;
    const y = x.map((_, j) => {
      let zc = at(w.get(`${g}/b_carry`)!, j), zt = at(w.get(`${g}/b_transform`)!, j);
      for (let i = 0; i < F; i++) { zc += x[i] * at(w.get(`${g}/W_carry`)!, i, j); zt += x[i] * at(w.get(`${g}/W_transform`)!, i, j); }
      const carry = sigmoid(zc);
      return carry * Math.max(0, zt) + (1 - carry) * x[j];
    });
    x = y;
  }
  return Array.from({ length: P }, (_, j) => {
    let s = at(w.get('CNN_proj/b_proj')!, j);
    for (let i = 0; i < F; i++) s += x[i] * at(w.get('CNN_proj/W_proj')!, i, j);
    return s;
  });
}

/** TF's LSTMCell(num_proj, cell_clip, proj_clip, forget_bias=1) over a sequence. */
function lstmSeq(w: Map<string, Arr>, dir: number, layer: number, xs: number[][]): number[][] {
  const p = `RNN_${dir}/RNN/MultiRNNCell/Cell${layer}/LSTMCell`;
  const W = w.get(`${p}/W_0`)!, B = w.get(`${p}/B`)!, WP = w.get(`${p}/W_P_0`)!;
  let h = new Array(P).fill(0), c = new Array(H).fill(0);
  return xs.map((x) => {
    const inp = [...x, ...h];
    const z = Array.from({ length: 4 * H }, (_, j) => { let s = at(B, j); for (let i = 0; i < 2 * P; i++) s += inp[i] * at(W, i, j); return s; });
    // TF order: i, j (new input), f, o
    c = c.map((cp, k) => clip(sigmoid(z[2 * H + k] + 1) * cp + sigmoid(z[k]) * Math.tanh(z[H + k]), 0.5));
    const m = c.map((ck, k) => sigmoid(z[3 * H + k]) * Math.tanh(ck));
    h = Array.from({ length: P }, (_, j) => { let s = 0; for (let k = 0; k < H; k++) s += m[k] * at(WP, k, j); return clip(s, 0.4); });
    return h;
  });
}

/** ELMo layers of one sentence: add <S>/</S>, run both stacks (skip connection on layer 1), strip the markers. */
function referenceLayers(w: Map<string, Arr>, sentence: string[]): number[][][] {
  const toks = ['<S>', ...sentence, '</S>'];
  const x0 = toks.map((t) => tokenVector(w, t));
  const f1 = lstmSeq(w, 0, 0, x0);
  const f2 = lstmSeq(w, 0, 1, f1).map((v, t) => v.map((a, j) => a + f1[t][j]));
  const rev = <T>(a: T[]) => a.slice().reverse();
  const b1 = rev(lstmSeq(w, 1, 0, rev(x0)));
  const b2r = lstmSeq(w, 1, 1, rev(b1));
  const b2 = rev(b2r.map((v, t) => v.map((a, j) => a + rev(b1)[t][j])));
  const keep = (a: number[][]) => a.slice(1, -1);
  return [
    keep(x0.map((v) => [...v, ...v])),
    keep(f1.map((v, t) => [...v, ...b1[t]])),
    keep(f2.map((v, t) => [...v, ...b2[t]])),
  ];
}

function setup(seed = 7, skip?: string) {
  const dir = mkdtempSync(join(tmpdir(), 'elmo-h5-'));
  const weights = tinyWeights(seed);
  const optionsPath = join(dir, 'options.json');
  const weightsPath = join(dir, 'weights.hdf5');
  writeFileSync(optionsPath, JSON.stringify(OPTIONS));
  return { dir, weights, optionsPath, weightsPath, write: () => writeH5(weightsPath, weights, skip) };
}

const SENTENCES = [['Aspirin', 'inhibits', 'COX-2', '.'], ['IL-6'], ['Ca2+', 'β-catenin', 'x'.repeat(60), 'of']];

test('a bilm-tf weights.hdf5 loads and its three layers match a plain reference computation within 1e-4', async () => {
  await initBackend();
  const s = setup();
  await s.write();
  const model = await loadBilmHdf5(s.optionsPath, s.weightsPath);
  const layers = model.elmoLayers(SENTENCES);
  assert.equal(layers.length, 3);
  const maxLen = 4;
  let worst = 0;
  SENTENCES.forEach((sent, b) => {
    const ref = referenceLayers(s.weights, sent);
    layers.forEach((L, k) => {
      assert.deepEqual(L.shape, [3, maxLen, 2 * P]);
      const got = L.arraySync() as number[][][];
      for (let t = 0; t < maxLen; t++) {
        for (let j = 0; j < 2 * P; j++) {
          const want = t < sent.length ? ref[k][t][j] : 0; // zero past the sentence's end
          worst = Math.max(worst, Math.abs(got[b][t][j] - want));
        }
      }
    });
  });
  assert.ok(worst < 1e-4, `max |difference| ${worst}`);
  // alone, a sentence of short words runs with the trailing padding columns trimmed: still the same values
  const alone = model.elmoLayers([SENTENCES[0]]);
  const ref0 = referenceLayers(s.weights, SENTENCES[0]);
  alone.forEach((L, k) => (L.arraySync() as number[][][])[0].forEach((v, t) => v.forEach((x, j) => assert.ok(Math.abs(x - ref0[k][t][j]) < 1e-4))));
  tf.dispose(alone);
  // proj_clip binds somewhere in the first LSTM layer, or the test would not be checking it
  const first = (layers[1].arraySync() as number[][][]).flat(2);
  assert.ok(first.some((v) => Math.abs(Math.abs(v) - 0.4) < 1e-6), 'some outputs sit at ±proj_clip');
  tf.dispose(layers);
  model.dispose();
});

test('a model written by writeBilmHdf5 loads back with identical outputs', async () => {
  await initBackend();
  const s = setup(11);
  await s.write();
  const a = await loadBilmHdf5(s.optionsPath, s.weightsPath);
  const out = join(s.dir, 'again.hdf5');
  await writeBilmHdf5(a, out);
  const b = await loadBilmHdf5(s.optionsPath, out);
  const [x, y] = [a.elmoLayers(SENTENCES), b.elmoLayers(SENTENCES)];
  x.forEach((t, k) => assert.deepEqual(Array.from(t.dataSync()), Array.from(y[k].dataSync())));
  tf.dispose([...x, ...y]);
  a.dispose(); b.dispose();
});

test('a missing HDF5 dataset is an error naming the dataset and the file', async () => {
  await initBackend();
  const s = setup(3, 'RNN_1/RNN/MultiRNNCell/Cell1/LSTMCell/W_P_0');
  await s.write();
  await assert.rejects(loadBilmHdf5(s.optionsPath, s.weightsPath), (e: unknown) => e instanceof UserError
    && e.message.includes("'RNN_1/RNN/MultiRNNCell/Cell1/LSTMCell/W_P_0'") && e.message.includes(s.weightsPath));
});

test('a dataset whose shape disagrees with options.json is an error naming both', async () => {
  await initBackend();
  const s = setup(4);
  s.weights.set('CNN/W_cnn_1', { data: new Float64Array(1 * 3 * D * 4), shape: [1, 3, D, 4] });
  await s.write();
  await assert.rejects(loadBilmHdf5(s.optionsPath, s.weightsPath), /CNN\/W_cnn_1' has shape \[1,3,4,4\], expected \[1,2,4,4\]/);
});

test('a file that is not HDF5 and a malformed options.json are clear errors', async () => {
  await initBackend();
  const s = setup(5);
  writeFileSync(s.weightsPath, 'not hdf5 at all');
  await assert.rejects(loadBilmHdf5(s.optionsPath, s.weightsPath), /not an HDF5 file/);
  await s.write();
  writeFileSync(s.optionsPath, '{"lstm": {"dim": 7}');
  await assert.rejects(loadBilmHdf5(s.optionsPath, s.weightsPath), (e: unknown) => e instanceof UserError && /malformed JSON/.test(e.message) && e.message.includes(s.optionsPath));
  writeFileSync(s.optionsPath, JSON.stringify({ ...OPTIONS, lstm: { ...OPTIONS.lstm, projection_dim: 'big' } }));
  await assert.rejects(loadBilmHdf5(s.optionsPath, s.weightsPath), /options 'lstm.projection_dim' must be a positive integer, got "big"/);
  writeFileSync(s.optionsPath, JSON.stringify({ ...OPTIONS, char_cnn: { ...OPTIONS.char_cnn, filters: [[1, 3], [2]] } }));
  await assert.rejects(loadBilmHdf5(s.optionsPath, s.weightsPath), /char_cnn.filters\[1\]' must be a \[width, count\] pair/);
});

test('BidirectionalLM built from options has the bilm-tf variable shapes', async () => {
  await initBackend();
  const m = new BidirectionalLM(OPTIONS as never, 10, new Rng(1));
  const v = m.variables();
  assert.deepEqual(v['CNN/char_embed'].shape, [262, D]);
  assert.deepEqual(Array.from(v['CNN/char_embed'].dataSync().slice(0, D)), [0, 0, 0, 0], 'row 0 (padding) is zero');
  assert.deepEqual(v['softmax/W'].shape, [10, P]);
  m.dispose();
});
