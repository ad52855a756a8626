import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { zipSync } from 'fflate';
import { Rng, UserError, initBackend } from '@biore/runtime';
import { CharDictionary, CharLanguageModel, charLMConfig, countChars, loadFlairLanguageModel, readFlairLanguageModel, saveFlairLanguageModel } from '../src/index.ts';

await initBackend();

/**
 * A flair LanguageModel file byte by byte, as `torch.save(model_state, f, pickle_protocol=4)` writes it:
 * protocol 4 (FRAME, SHORT_BINUNICODE, STACK_GLOBAL, MEMOIZE and BINGET of repeated globals), the Dictionary
 * rebuilt by NEWOBJ + BUILD with item2idx keyed by UTF-8 bytes, the state dict an OrderedDict of
 * _rebuild_tensor_v2 calls on persistent storages; zipped as archive/data.pkl + archive/data/<key> (torch ≥ 1.6)
 * or, with `legacy`, the sequential pre-1.6 layout (magic, protocol, sys info, data, storage keys, storages).
 */
function flairFile(state: { chars: string[]; forward: boolean; H: number; E: number; layers: number; nout: number | null; sd: [string, number[], Float32Array][] }, legacy = false): Uint8Array {
  const out: number[] = [];
  const enc = new TextEncoder();
  const memo = new Map<string, number>();
  let memoSize = 0;
  const op = (...b: number[]) => { out.push(...b); };
  const memoize = () => { op(0x94); return memoSize++; };
  const u32 = (n: number) => [n & 255, (n >>> 8) & 255, (n >>> 16) & 255, n >>> 24];
  const str = (s: string) => { const b = enc.encode(s); op(0x8c, b.length, ...b); memoize(); };
  const int = (n: number) => (n < 256 ? op(0x4b, n) : n < 65536 ? op(0x4d, n & 255, n >> 8) : op(0x4a, ...u32(n)));
  const global = (m: string, n: string) => {
    const k = `${m}.${n}`;
    if (memo.has(k)) { op(0x68, memo.get(k)!); return; }
    str(m); str(n); op(0x93); memo.set(k, memoize());
  };
  const float = (x: number) => { const d = new DataView(new ArrayBuffer(8)); d.setFloat64(0, x); op(0x47, ...new Uint8Array(d.buffer)); };
  const storages: Float32Array[] = [];
  op(0x80, 4, 0x95, 0, 0, 0, 0, 0, 0, 0, 0); // PROTO 4, FRAME (length unchecked)
  op(0x7d); memoize(); op(0x28);
  str('dictionary'); global('flair.data', 'Dictionary'); op(0x29, 0x81); memoize();
  op(0x7d); memoize(); op(0x28);
  str('item2idx'); op(0x7d); memoize(); op(0x28);
  state.chars.forEach((c, i) => { const b = enc.encode(c); op(0x43, b.length, ...b); memoize(); int(i); });
  op(0x75);
  str('idx2item'); op(0x5d); memoize(); op(0x28);
  for (const c of state.chars) { const b = enc.encode(c); op(0x43, b.length, ...b); memoize(); }
  op(0x65);
  str('multi_label'); op(0x89);
  op(0x75, 0x62); // SETITEMS, BUILD
  str('is_forward_lm'); op(state.forward ? 0x88 : 0x89);
  str('hidden_size'); int(state.H);
  str('nlayers'); int(state.layers);
  str('embedding_size'); int(state.E);
  str('nout'); if (state.nout === null) op(0x4e); else int(state.nout);
  str('document_delimiter'); str('\n');
  str('dropout'); float(0.25);
  str('state_dict'); global('collections', 'OrderedDict'); op(0x29, 0x52); memoize(); op(0x28);
  for (const [name, shape, data] of state.sd) {
    str(name);
    global('torch._utils', '_rebuild_tensor_v2');
    op(0x28);
    op(0x28); str('storage'); global('torch', 'FloatStorage'); str(String(storages.length)); str('cpu'); int(data.length); if (legacy) op(0x4e); op(0x74); memoize(); op(0x51);
    storages.push(data);
    int(0);
    op(0x28); for (const d of shape) int(d); op(0x74); memoize();
    const stride = shape.map((_, i) => shape.slice(i + 1).reduce((a, b) => a * b, 1));
    op(0x28); for (const d of stride) int(d); op(0x74); memoize();
    op(0x89); global('collections', 'OrderedDict'); op(0x29, 0x52); memoize();
    op(0x74); memoize(); op(0x52); memoize();
  }
  op(0x75); op(0x7d); op(0x62); // SETITEMS, then BUILD with the (empty) _metadata state
  op(0x75, 0x2e);
  if (legacy) {
    const head = [0x80, 2, 0x8a, 10, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19, 0x2e, 0x80, 2, 0x4d, 0xe9, 0x03, 0x2e,
      0x80, 2, 0x7d, 0x28, 0x58, 13, 0, 0, 0, ...enc.encode('little_endian'), 0x88, 0x75, 0x2e];
    const keys: number[] = [0x80, 2, 0x5d, 0x28];
    const body: number[] = [];
    storages.forEach((s, k) => {
      const kb = enc.encode(String(k)); keys.push(0x58, ...u32(kb.length), ...kb);
      const n = new DataView(new ArrayBuffer(8)); n.setBigInt64(0, BigInt(s.length), true);
      body.push(...new Uint8Array(n.buffer), ...new Uint8Array(s.buffer.slice(0)));
    });
    keys.push(0x65, 0x2e);
    return Uint8Array.from([...head, ...out, ...keys, ...body]);
  }
  const files: Record<string, Uint8Array> = { 'archive/data.pkl': Uint8Array.from(out), 'archive/version': enc.encode('3\n'), 'archive/byteorder': enc.encode('little') };
  storages.forEach((s, k) => { files[`archive/data/${k}`] = new Uint8Array(s.buffer.slice(0)); });
  return zipSync(files, { level: 0 });
}

const CHARS = ['<unk>', 'a', 'β', ' ', '\n'];
const V = CHARS.length, E = 3, H = 2, LAYERS = 2, NOUT = 3;

/** flair-layout weights: random, distinct, every bias non-zero (so a swapped gate block or a dropped bias shows). */
function flairWeights(seed: number): [string, number[], Float32Array][] {
  const rng = new Rng(seed);
  const t = (name: string, shape: number[]): [string, number[], Float32Array] => [name, shape, Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => rng.next() * 1.8 - 0.9)];
  const sd = [t('encoder.weight', [V, E])];
  for (let l = 0; l < LAYERS; l++) sd.push(t(`rnn.weight_ih_l${l}`, [4 * H, l ? H : E]), t(`rnn.weight_hh_l${l}`, [4 * H, H]), t(`rnn.bias_ih_l${l}`, [4 * H]), t(`rnn.bias_hh_l${l}`, [4 * H]));
  sd.push(t('proj.weight', [NOUT, H]), t('proj.bias', [NOUT]), t('decoder.weight', [V, NOUT]), t('decoder.bias', [V]));
  return sd;
}

/** PyTorch's LSTM written out (gates i, f, g, o; both biases), flair's projection and decoder: [outputs per step, logits per step]. */
function reference(sd: [string, number[], Float32Array][], ids: number[]): { outputs: number[][]; logits: number[][] } {
  const w = Object.fromEntries(sd.map(([n, , d]) => [n, d]));
  const sig = (x: number) => 1 / (1 + Math.exp(-x));
  const mv = (m: Float32Array, rows: number, cols: number, x: number[]) => Array.from({ length: rows }, (_, r) => x.reduce((s, xi, c) => s + m[r * cols + c] * xi, 0));
  const h = Array.from({ length: LAYERS }, () => [0, 0]), c = Array.from({ length: LAYERS }, () => [0, 0]);
  const outputs: number[][] = [], logits: number[][] = [];
  for (const id of ids) {
    let x = Array.from(w['encoder.weight'].subarray(id * E, id * E + E));
    for (let l = 0; l < LAYERS; l++) {
      const a = mv(w[`rnn.weight_ih_l${l}`], 4 * H, x.length, x), b = mv(w[`rnn.weight_hh_l${l}`], 4 * H, H, h[l]);
      const z = a.map((v, k) => v + b[k] + w[`rnn.bias_ih_l${l}`][k] + w[`rnn.bias_hh_l${l}`][k]);
      for (let j = 0; j < H; j++) {
        const i = sig(z[j]), f = sig(z[H + j]), g = Math.tanh(z[2 * H + j]), o = sig(z[3 * H + j]);
        c[l][j] = f * c[l][j] + i * g;
        h[l][j] = o * Math.tanh(c[l][j]);
      }
      x = h[l].slice();
    }
    const y = mv(w['proj.weight'], NOUT, H, x).map((v, k) => v + w['proj.bias'][k]);
    outputs.push(y);
    logits.push(mv(w['decoder.weight'], V, NOUT, y).map((v, k) => v + w['decoder.bias'][k]));
  }
  return { outputs, logits };
}

const close = (a: number[], b: number[], tol = 1e-5) => a.length === b.length && a.every((v, i) => Math.abs(v - b[i]) < tol);

function write(bytes: Uint8Array, name = 'lm.pt'): string {
  const p = join(mkdtempSync(join(tmpdir(), 'flair-lm-')), name);
  writeFileSync(p, bytes);
  return p;
}

for (const legacy of [false, true]) {
  test(`a flair LM file (${legacy ? 'legacy torch < 1.6' : 'zip'} layout) maps onto CharLanguageModel: names, i-f-g-o gates, summed biases, projection and decoder match PyTorch's equations`, () => {
    const sd = flairWeights(legacy ? 8 : 7);
    const path = write(flairFile({ chars: CHARS, forward: false, H, E, layers: LAYERS, nout: NOUT, sd }, legacy));
    const f = readFlairLanguageModel(path);
    assert.deepEqual({ ...f.config }, { ...charLMConfig({ vocabSize: V, isForwardLm: false, embeddingSize: E, hiddenSize: H, layers: LAYERS, nout: NOUT, dropout: 0.25, documentDelimiter: '\n' }) });
    assert.deepEqual(f.dictionary.items, CHARS);
    assert.deepEqual(Object.fromEntries(Object.entries(f.tensors).map(([n, t]) => [n, t.shape])), {
      'encoder/embeddings': [V, E],
      'rnn/0/kernel': [E, 4 * H], 'rnn/0/recurrent_kernel': [H, 4 * H], 'rnn/0/bias': [4 * H],
      'rnn/1/kernel': [H, 4 * H], 'rnn/1/recurrent_kernel': [H, 4 * H], 'rnn/1/bias': [4 * H],
      'proj/kernel': [H, NOUT], 'proj/bias': [NOUT], 'decoder/kernel': [NOUT, V], 'decoder/bias': [V],
    });
    const m = loadFlairLanguageModel(path);
    const text = 'aβ a\nβ';
    const ids = Array.from(m.dictionary.encode(text));
    assert.deepEqual(ids, [1, 2, 3, 1, 4, 2]);
    const want = reference(sd, ids);
    tf.tidy(() => {
      const r = m.forward(tf.tensor2d(ids, [1, ids.length], 'int32'), m.zeroState(1));
      const got = r.output.arraySync()[0];
      const logits = m.decode(r.output).arraySync();
      ids.forEach((_, t) => {
        assert.ok(close(got[t], want.outputs[t]), `output after character ${t}: ${got[t]} vs ${want.outputs[t]}`);
        assert.ok(close(logits[t], want.logits[t]), `logits after character ${t}`);
      });
    });
    // an unknown character reads id 0, as flair's get_idx_for_item does
    assert.equal(m.dictionary.idOf('z'), 0);
    m.dispose();
  });
}

test('an LM trained here written as a flair file reads back to the same weights and outputs (what flair users would load)', () => {
  const dict = CharDictionary.fromCounts(countChars('the β-cell binds IL-2.\n'));
  const m = new CharLanguageModel(charLMConfig({ vocabSize: dict.size, embeddingSize: 4, hiddenSize: 5, layers: 2, nout: null, dropout: 0.1 }), dict, new Rng(5));
  const path = join(mkdtempSync(join(tmpdir(), 'flair-out-')), 'forward.pt');
  saveFlairLanguageModel(path, m);
  const back = loadFlairLanguageModel(path);
  assert.deepEqual(back.config, m.config);
  assert.deepEqual(back.dictionary.items, dict.items);
  for (const [name, v] of Object.entries(m.variables())) assert.ok(close(Array.from(back.variables()[name].dataSync()), Array.from(v.dataSync()), 1e-7), name);
  m.dispose(); back.dispose();
});

test('bad flair files: a missing tensor, a wrong shape, a foreign class, not an LM — each one UserError naming the file', () => {
  const base = { chars: CHARS, forward: true, H, E, layers: LAYERS, nout: NOUT };
  const isErr = (path: string, re: RegExp) => (e: unknown) => e instanceof UserError && e.message.startsWith(path) && re.test(e.message);
  const noL1 = write(flairFile({ ...base, sd: flairWeights(1).filter(([n]) => n !== 'rnn.weight_hh_l1') }));
  assert.throws(() => readFlairLanguageModel(noL1), isErr(noL1, /missing tensor 'state_dict\.rnn\.weight_hh_l1'/));
  const bad = write(flairFile({ ...base, sd: flairWeights(1).map(([n, s, d]) => (n === 'decoder.weight' ? [n, [NOUT, V], d] : [n, s, d]) as [string, number[], Float32Array]) }));
  assert.throws(() => readFlairLanguageModel(bad), isErr(bad, /tensor 'decoder\.weight' has shape \[3,5\], expected \[5,3\]/));
  // a pickle naming any other class stops before anything is built
  const foreign = write(zipSync({ 'archive/data.pkl': Uint8Array.from([0x80, 2, 0x63, ...new TextEncoder().encode('flair.embeddings\nFlairEmbeddings\n'), 0x29, 0x81, 0x2e]) }));
  assert.throws(() => readFlairLanguageModel(foreign), isErr(foreign, /refers to flair\.embeddings\.FlairEmbeddings, which biore does not load/));
  const notLm = write(zipSync({ 'archive/data.pkl': Uint8Array.from([0x80, 2, 0x7d, 0x2e]) }));
  assert.throws(() => readFlairLanguageModel(notLm), isErr(notLm, /not a flair language model/));
});
