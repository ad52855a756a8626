import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend, encodeSafetensors, loadTorchStateDict, Rng, UserError, type TensorMap } from '@biore/runtime';
import { zipSync } from 'fflate';
import { loadBert, loadBertAny, saveBert, BertModel, parseBertConfig } from '../src/index.ts';
import { SentencePieceTokenizer } from '@biore/text';

await initBackend(process.env.BIORE_BACKEND ?? 'auto');

const H = 8, L = 2, NH = 2, I = 16, P = 16, V = 20;
const VOCAB = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]', 'the', 'gene', 'binds', 'to', 'protein', '##s', 'p', '##53', 'in', 'cells', '.', ',', 'α', '-', 'inhibits'];

/** A HF-layout tiny BERT in a fresh folder: PyTorch names and [out, in] Linear weights, random values. */
function writeTinyBert(opts: { prefix?: string; drop?: string; reshape?: string; vocab?: string[]; truncate?: boolean } = {}): { dir: string; w: TensorMap } {
  const dir = mkdtempSync(join(tmpdir(), 'bert-'));
  const rng = new Rng(3);
  const w: TensorMap = {};
  const pre = opts.prefix ?? 'bert.';
  const put = (name: string, shape: number[], scale = 0.5, offset = 0) => {
    const n = shape.reduce((a, b) => a * b, 1);
    const data = new Float32Array(n);
    for (let i = 0; i < n; i++) data[i] = offset + scale * rng.normal();
    w[pre + name] = { dtype: 'float32', shape, data };
  };
  put('embeddings.word_embeddings.weight', [V, H]);
  put('embeddings.position_embeddings.weight', [P, H]);
  put('embeddings.token_type_embeddings.weight', [2, H]);
  put('embeddings.LayerNorm.weight', [H], 0.1, 1);
  put('embeddings.LayerNorm.bias', [H], 0.1);
  for (let l = 0; l < L; l++) {
    const p = `encoder.layer.${l}.`;
    for (const m of ['query', 'key', 'value']) { put(`${p}attention.self.${m}.weight`, [H, H]); put(`${p}attention.self.${m}.bias`, [H], 0.1); }
    put(`${p}attention.output.dense.weight`, [H, H]); put(`${p}attention.output.dense.bias`, [H], 0.1);
    put(`${p}attention.output.LayerNorm.weight`, [H], 0.1, 1); put(`${p}attention.output.LayerNorm.bias`, [H], 0.1);
    put(`${p}intermediate.dense.weight`, [I, H]); put(`${p}intermediate.dense.bias`, [I], 0.1);
    put(`${p}output.dense.weight`, [H, I]); put(`${p}output.dense.bias`, [H], 0.1);
    put(`${p}output.LayerNorm.weight`, [H], 0.1, 1); put(`${p}output.LayerNorm.bias`, [H], 0.1);
  }
  put('pooler.dense.weight', [H, H]); put('pooler.dense.bias', [H], 0.1);
  if (opts.drop) delete w[pre + opts.drop];
  if (opts.reshape) w[pre + opts.reshape] = { dtype: 'float32', shape: [3, 3], data: new Float32Array(9) };
  const config = { architectures: ['BertModel'], model_type: 'bert', vocab_size: V, hidden_size: H, num_hidden_layers: L, num_attention_heads: NH,
    intermediate_size: I, hidden_act: 'gelu', hidden_dropout_prob: 0.1, attention_probs_dropout_prob: 0.1, max_position_embeddings: P,
    type_vocab_size: 2, layer_norm_eps: 1e-12, initializer_range: 0.02, pad_token_id: 0 };
  writeFileSync(join(dir, 'config.json'), JSON.stringify(config));
  writeFileSync(join(dir, 'vocab.txt'), (opts.vocab ?? VOCAB).join('\n') + '\n');
  let bytes = encodeSafetensors(w, { format: 'pt' });
  if (opts.truncate) bytes = bytes.slice(0, 40);
  writeFileSync(join(dir, 'model.safetensors'), bytes);
  return { dir, w };
}

// ---- the reference: BERT written out with loops over Float64 arrays, sharing nothing with src/ ----
type M = Float64Array[]; // rows
function get(w: TensorMap, n: string): Float64Array { return Float64Array.from(w['bert.' + n].data); }
function linear(x: M, w: Float64Array, b: Float64Array, out: number): M {
  const inp = x[0].length;
  return x.map((row) => { const y = new Float64Array(out); for (let o = 0; o < out; o++) { let s = b[o]; for (let i = 0; i < inp; i++) s += w[o * inp + i] * row[i]; y[o] = s; } return y; });
}
function layerNorm(x: M, g: Float64Array, b: Float64Array): M {
  return x.map((row) => { const n = row.length; let mu = 0; for (const v of row) mu += v; mu /= n; let va = 0; for (const v of row) va += (v - mu) ** 2; va /= n;
    return row.map((v, i) => ((v - mu) / Math.sqrt(va + 1e-12)) * g[i] + b[i]); });
}
function erf(x: number): number { // Abramowitz–Stegun 7.1.26 is too coarse; use a series / continued fraction at double precision
  const t = Math.abs(x); let r: number;
  if (t < 2.5) { let sum = 0, term = t; for (let n = 0; n < 80; n++) { sum += term / (2 * n + 1); term *= -t * t / (n + 1); } r = (2 / Math.sqrt(Math.PI)) * sum; }
  else { let f = 0; for (let k = 60; k >= 1; k--) f = (k / 2) / (t + f); r = 1 - Math.exp(-t * t) / Math.sqrt(Math.PI) / (t + f); }
  return x < 0 ? -r : r;
}
function reference(w: TensorMap, ids: number[], mask: number[]): { hidden: M[]; pooled: Float64Array } {
  const T = ids.length;
  const we = get(w, 'embeddings.word_embeddings.weight'), pe = get(w, 'embeddings.position_embeddings.weight'), te = get(w, 'embeddings.token_type_embeddings.weight');
  let x: M = ids.map((id, t) => { const r = new Float64Array(H); for (let h = 0; h < H; h++) r[h] = we[id * H + h] + pe[t * H + h] + te[h]; return r; });
  x = layerNorm(x, get(w, 'embeddings.LayerNorm.weight'), get(w, 'embeddings.LayerNorm.bias'));
  const hidden = [x];
  const dH = H / NH;
  for (let l = 0; l < L; l++) {
    const p = `encoder.layer.${l}.`;
    const q = linear(x, get(w, p + 'attention.self.query.weight'), get(w, p + 'attention.self.query.bias'), H);
    const k = linear(x, get(w, p + 'attention.self.key.weight'), get(w, p + 'attention.self.key.bias'), H);
    const v = linear(x, get(w, p + 'attention.self.value.weight'), get(w, p + 'attention.self.value.bias'), H);
    const ctx: M = Array.from({ length: T }, () => new Float64Array(H));
    for (let h = 0; h < NH; h++) for (let i = 0; i < T; i++) {
      const s = new Float64Array(T);
      for (let j = 0; j < T; j++) { let d = 0; for (let e = 0; e < dH; e++) d += q[i][h * dH + e] * k[j][h * dH + e]; s[j] = d / Math.sqrt(dH) + (mask[j] ? 0 : -10000); }
      const m = Math.max(...s); let z = 0; for (let j = 0; j < T; j++) { s[j] = Math.exp(s[j] - m); z += s[j]; }
      for (let j = 0; j < T; j++) for (let e = 0; e < dH; e++) ctx[i][h * dH + e] += (s[j] / z) * v[j][h * dH + e];
    }
    const ao = linear(ctx, get(w, p + 'attention.output.dense.weight'), get(w, p + 'attention.output.dense.bias'), H);
    const h1 = layerNorm(ao.map((r, i) => r.map((val, j) => val + x[i][j])), get(w, p + 'attention.output.LayerNorm.weight'), get(w, p + 'attention.output.LayerNorm.bias'));
    const inter = linear(h1, get(w, p + 'intermediate.dense.weight'), get(w, p + 'intermediate.dense.bias'), I).map((r) => r.map((u) => 0.5 * u * (1 + erf(u / Math.SQRT2))));
    const o = linear(inter, get(w, p + 'output.dense.weight'), get(w, p + 'output.dense.bias'), H);
    x = layerNorm(o.map((r, i) => r.map((val, j) => val + h1[i][j])), get(w, p + 'output.LayerNorm.weight'), get(w, p + 'output.LayerNorm.bias'));
    hidden.push(x);
  }
  const pooled = linear([x[0]], get(w, 'pooler.dense.weight'), get(w, 'pooler.dense.bias'), H)[0].map(Math.tanh);
  return { hidden, pooled };
}

test('a tiny HF-layout BERT loads in one call and its every hidden state equals a written-out float64 computation within 1e-4', () => {
  const { dir, w } = writeTinyBert();
  const bert = loadBert(dir);
  assert.equal(bert.config.hidden_size, H);
  assert.equal(bert.doLowerCase, true);
  const sents = [bert.tokenizer.encode('The p53 proteins binds to α-gene in cells.'), bert.tokenizer.encode('Gene inhibits p53')];
  const T = Math.max(...sents.map((s) => s.ids.length));
  const ids = sents.map((s) => [...s.ids, ...Array(T - s.ids.length).fill(0)]);
  const mask = sents.map((s) => [...s.ids.map(() => 1), ...Array(T - s.ids.length).fill(0)]);
  assert.deepEqual(sents[1].pieces, ['[CLS]', 'gene', 'inhibits', 'p', '##53', '[SEP]']);
  const before = tf.memory().numTensors;
  const out = tf.tidy(() => {
    const o = bert.model.forward({ inputIds: tf.tensor2d(ids, undefined, 'int32'), attentionMask: tf.tensor2d(mask) });
    return { hs: o.hiddenStates.map((h) => h.arraySync()), pooled: o.pooled.arraySync() };
  });
  assert.equal(tf.memory().numTensors, before, 'forward leaks no tensors');
  assert.equal(out.hs.length, L + 1);
  let maxErr = 0;
  for (let b = 0; b < 2; b++) {
    const n = sents[b].ids.length;
    const ref = reference(w, sents[b].ids, Array(n).fill(1)); // padding must not change the real tokens' states
    for (let l = 0; l <= L; l++) for (let t = 0; t < n; t++) for (let h = 0; h < H; h++) maxErr = Math.max(maxErr, Math.abs(out.hs[l][b][t][h] - ref.hidden[l][t][h]));
    for (let h = 0; h < H; h++) maxErr = Math.max(maxErr, Math.abs(out.pooled[b][h] - ref.pooled[h]));
    // and with the padded length and mask the reference agrees too
    const refPad = reference(w, ids[b], mask[b]);
    for (let t = 0; t < n; t++) for (let h = 0; h < H; h++) maxErr = Math.max(maxErr, Math.abs(out.hs[L][b][t][h] - refPad.hidden[L][t][h]));
  }
  assert.ok(maxErr < 1e-4, `max abs difference ${maxErr}`);
  bert.model.dispose();
});

test('un-prefixed weight names (BertModel.save_pretrained without bert.) load the same', () => {
  const a = writeTinyBert();
  const b = writeTinyBert({ prefix: '' });
  const ma = loadBert(a.dir).model, mb = loadBert(b.dir).model;
  const ids = tf.tensor2d([[2, 5, 6, 3]], undefined, 'int32'), m = tf.ones([1, 4]) as tf.Tensor2D;
  const ya = ma.forward({ inputIds: ids, attentionMask: m }).lastHiddenState.dataSync();
  const yb = mb.forward({ inputIds: ids, attentionMask: m }).lastHiddenState.dataSync();
  assert.deepEqual(Array.from(ya), Array.from(yb));
  ma.dispose(); mb.dispose();
});

test('saveBert writes a HF folder that loads back to the same outputs (with the MLM head)', () => {
  const cfg = parseBertConfig({ vocab_size: V, hidden_size: H, num_hidden_layers: 1, num_attention_heads: 2, intermediate_size: 12, max_position_embeddings: 10 });
  const m = new BertModel(cfg, { withMlmHead: true, seed: 5 });
  const dir = join(mkdtempSync(join(tmpdir(), 'bert-save-')), 'out');
  saveBert(dir, m, VOCAB, true);
  const back = loadBert(dir, { withMlmHead: true });
  for (const [name, v] of m.params) assert.deepEqual(Array.from(back.model.p(name).dataSync()), Array.from(v.dataSync()), name);
  m.dispose(); back.model.dispose();
});

test('a folder as transformers 5 writes it (tokenizer.json, no vocab.txt) loads: vocabulary from model.vocab, lower-casing from the normalizer', async () => {
  const cfg = parseBertConfig({ vocab_size: V, hidden_size: H, num_hidden_layers: 1, num_attention_heads: 2, intermediate_size: 12, max_position_embeddings: 10 });
  const m = new BertModel(cfg, { seed: 6 });
  const root = mkdtempSync(join(tmpdir(), 'bert-tokjson-'));
  const [txt, json] = [join(root, 'txt'), join(root, 'json')];
  saveBert(txt, m, VOCAB, true);
  saveBert(json, m, VOCAB, true, {}, { tokenizerFile: 'tokenizer.json' });
  assert.throws(() => readFileSync(join(json, 'vocab.txt')), /ENOENT/);
  const tj = JSON.parse(readFileSync(join(json, 'tokenizer.json'), 'utf8'));
  assert.equal(tj.model.type, 'WordPiece');
  assert.equal(tj.model.vocab['##53'], 12);
  assert.equal(tj.normalizer.lowercase, true);
  assert.equal(JSON.parse(readFileSync(join(json, 'config.json'), 'utf8')).do_lower_case, undefined, 'only the normalizer says it');
  const a = loadBert(txt), b = loadBert(json), c = await loadBertAny(json);
  assert.deepEqual(b.tokenizer.vocab, VOCAB);
  assert.equal(b.doLowerCase, true);
  const text = 'The GENE binds p53 in cells, inhibits Protein.';
  assert.deepEqual(b.tokenizer.encode(text).pieces, a.tokenizer.encode(text).pieces);
  assert.deepEqual(c.tokenizer.encode(text).ids, a.tokenizer.encode(text).ids);
  assert.ok(b.tokenizer.encode(text).pieces.includes('##53'));
  // a cased normalizer keeps capitals (so "The" is unknown to this lower-case vocabulary)
  tj.normalizer.lowercase = false;
  writeFileSync(join(json, 'tokenizer.json'), JSON.stringify(tj));
  const cased = loadBert(json);
  assert.equal(cased.doLowerCase, false);
  assert.deepEqual(cased.tokenizer.encode('The gene').pieces, ['[CLS]', '[UNK]', 'gene', '[SEP]']);
  // the normalizer as a Sequence of NFD, Lowercase, StripAccents (other BERT exports)
  tj.normalizer = { type: 'Sequence', normalizers: [{ type: 'NFD' }, { type: 'Lowercase' }, { type: 'StripAccents' }] };
  writeFileSync(join(json, 'tokenizer.json'), JSON.stringify(tj));
  assert.deepEqual(loadBert(json).tokenizer.encode('THE gène').pieces, ['[CLS]', 'the', 'gene', '[SEP]']);
  // what is not a BERT WordPiece tokenizer.json is refused with the file named
  const isErr = (re: RegExp) => (e: unknown) => e instanceof UserError && e.message.startsWith(join(json, 'tokenizer.json')) && re.test(e.message);
  writeFileSync(join(json, 'tokenizer.json'), JSON.stringify({ ...tj, model: { ...tj.model, type: 'BPE' } }));
  assert.throws(() => loadBert(json), isErr(/model\.type is "BPE"; only WordPiece/));
  const gappy = { ...tj.model.vocab }; delete gappy['binds'];
  writeFileSync(join(json, 'tokenizer.json'), JSON.stringify({ ...tj, model: { ...tj.model, vocab: gappy } }));
  assert.throws(() => loadBert(json), isErr(/no token has id 7/));
  writeFileSync(join(json, 'tokenizer.json'), JSON.stringify({ ...tj, pre_tokenizer: { type: 'ByteLevel' } }));
  assert.throws(() => loadBert(json), isErr(/pre_tokenizer "ByteLevel" is not BERT's/));
  [m, a.model, b.model, c.model, cased.model].forEach((x) => x.dispose());
});

test('a checkpoint without a pooler (BertForMaskedLM) loads with a freshly initialised pooler and one notice; its encoder is unchanged', () => {
  const cfg = parseBertConfig({ vocab_size: V, hidden_size: H, num_hidden_layers: 1, num_attention_heads: 2, intermediate_size: 12, max_position_embeddings: 10 });
  const m = new BertModel(cfg, { withMlmHead: true, seed: 7 });
  const dir = join(mkdtempSync(join(tmpdir(), 'bert-nopool-')), 'mlm');
  saveBert(dir, m, VOCAB, true, {}, { pooler: false, tokenizerFile: 'tokenizer.json' });
  const heard: string[] = [];
  const b = loadBert(dir, { withMlmHead: true, onNotice: (l) => heard.push(l) });
  assert.equal(heard.length, 1);
  assert.deepEqual(b.notices, heard);
  assert.match(heard[0], /model\.safetensors: no pooler \(bert\.pooler\.dense\.\*\) in this checkpoint; initialised it freshly/);
  assert.doesNotMatch(heard[0], /\n/);
  const inputs = { inputIds: tf.tensor2d([[2, 5, 6, 7, 3]], undefined, 'int32'), attentionMask: tf.ones([1, 5]) as tf.Tensor2D };
  const [x, y] = [m.forward(inputs), b.model.forward(inputs)];
  assert.ok(Array.from(x.lastHiddenState.dataSync()).every((v, i) => Math.abs(v - y.lastHiddenState.dataSync()[i]) < 1e-6), 'encoder outputs equal');
  assert.ok(Array.from(b.model.p('pooler.dense.bias').dataSync()).every((v) => v === 0), 'pooler bias zeros, as transformers initialises it');
  const pw = Array.from(b.model.p('pooler.dense.weight').dataSync());
  assert.ok(pw.some((v) => v !== 0) && pw.every((v) => Math.abs(v) <= 2 * cfg.initializer_range), 'pooler weight a truncated normal of initializer_range');
  assert.equal(y.pooled.shape[1], H);
  // with the pooler present there is nothing to say
  saveBert(dir, m, VOCAB, true);
  assert.deepEqual(loadBert(dir, { onNotice: () => assert.fail('no notice expected') }).notices, []);
  tf.dispose([x.lastHiddenState, x.pooled, ...x.hiddenStates, y.lastHiddenState, y.pooled, ...y.hiddenStates]);
  m.dispose(); b.model.dispose();
});

test('bad checkpoints: missing tensor, wrong shape, vocab/embedding mismatch, truncated header, a pytorch_model.bin that is no PyTorch file', () => {
  assert.throws(() => loadBert(writeTinyBert({ drop: 'encoder.layer.1.attention.self.key.weight' }).dir),
    { name: 'UserError', message: /model\.safetensors: missing tensor 'bert\.encoder\.layer\.1\.attention\.self\.key\.weight'/ });
  assert.throws(() => loadBert(writeTinyBert({ reshape: 'encoder.layer.0.intermediate.dense.weight' }).dir),
    { name: 'UserError', message: /tensor 'bert\.encoder\.layer\.0\.intermediate\.dense\.weight' has shape \[3,3\], expected \[16,8\]/ });
  assert.throws(() => loadBert(writeTinyBert({ vocab: [...VOCAB, 'extra'] }).dir),
    { name: 'UserError', message: /vocab\.txt: vocab\.txt has 21 tokens but the word embeddings have 20 rows/ });
  assert.throws(() => loadBert(writeTinyBert({ truncate: true }).dir), { name: 'UserError', message: /truncated safetensors header/ });
  const d = mkdtempSync(join(tmpdir(), 'bert-pt-'));
  writeFileSync(join(d, 'config.json'), '{}');
  writeFileSync(join(d, 'vocab.txt'), '[UNK]\n');
  writeFileSync(join(d, 'pytorch_model.bin'), 'not a zip');
  assert.throws(() => loadBert(d), { name: 'UserError', message: /pytorch_model\.bin: not a PyTorch file/ });
  assert.throws(() => loadBert(join(d, 'nope')), { name: 'UserError', message: /BERT folder not found/ });
  mkdirSync(join(d, 'x'));
  assert.throws(() => parseBertConfig({ hidden_size: 10, num_attention_heads: 3 }), { name: 'UserError', message: /not a multiple/ });
});

/** A state dict pickled the way torch.save writes it (protocol 2, persistent storage ids), zipped like torch >= 1.6. */
function torchZip(tensors: TensorMap, evil = false, legacy = false): Uint8Array {
  const out: number[] = [];
  const enc = new TextEncoder();
  const op = (...b: number[]) => out.push(...b);
  const int = (n: number) => { op(0x4a); const b = new DataView(new ArrayBuffer(4)); b.setInt32(0, n, true); op(...new Uint8Array(b.buffer)); };
  const str = (x: string) => { const b = enc.encode(x); op(0x58); const l = new DataView(new ArrayBuffer(4)); l.setUint32(0, b.length, true); op(...new Uint8Array(l.buffer), ...b); };
  const global = (m: string, n: string) => op(0x63, ...enc.encode(`${m}\n${n}\n`));
  op(0x80, 2);
  if (evil) { global('os', 'system'); str('echo pwned'); op(0x85, 0x52, 0x2e); }
  global('collections', 'OrderedDict'); op(0x29, 0x52, 0x28);
  const files: Record<string, Uint8Array> = {};
  Object.entries(tensors).forEach(([name, t], k) => {
    str(name);
    global('torch._utils', '_rebuild_tensor_v2');
    op(0x28); // args tuple
    op(0x28); str('storage'); global('torch', 'FloatStorage'); str(String(k)); str('cpu'); int(t.data.length); if (legacy) op(0x4e); op(0x74, 0x51);
    int(0);
    op(0x28); for (const d of t.shape) int(d); op(0x74);
    const stride = t.shape.map((_, i) => t.shape.slice(i + 1).reduce((a, b) => a * b, 1));
    op(0x28); for (const d of stride) int(d); op(0x74);
    op(0x89); global('collections', 'OrderedDict'); op(0x29, 0x52);
    op(0x74, 0x52);
    files[`archive/data/${k}`] = new Uint8Array(Float32Array.from(t.data).buffer);
  });
  op(0x75, 0x7d, 0x62, 0x2e); // SETITEMS, then BUILD with an (empty) _metadata state, STOP
  if (legacy) {
    // magic number, protocol 1001, sys info, the state dict, the storage keys, then each storage: int64 count + floats
    const head = [0x80, 2, 0x8a, 10, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19, 0x2e, 0x80, 2, 0x4d, 0xe9, 0x03, 0x2e,
      0x80, 2, 0x7d, 0x28, 0x58, 13, 0, 0, 0, ...enc.encode('little_endian'), 0x88, 0x75, 0x2e];
    const keys: number[] = [0x80, 2, 0x5d, 0x28];
    const body: number[] = [];
    Object.values(tensors).forEach((t, k) => {
      const kb = enc.encode(String(k)); keys.push(0x58, kb.length, 0, 0, 0, ...kb);
      const n = new DataView(new ArrayBuffer(8)); n.setBigInt64(0, BigInt(t.data.length), true);
      body.push(...new Uint8Array(n.buffer), ...new Uint8Array(Float32Array.from(t.data).buffer));
    });
    keys.push(0x65, 0x2e);
    return Uint8Array.from([...head, ...out, ...keys, ...body]);
  }
  files['archive/data.pkl'] = Uint8Array.from(out);
  files['archive/version'] = enc.encode('3\n');
  return zipSync(files, { level: 0 });
}

test('a pytorch_model.bin (zip or legacy format) is read without executing its pickle and loads like the safetensors copy', () => {
  const { dir, w } = writeTinyBert();
  const pt = mkdtempSync(join(tmpdir(), 'bert-pt-'));
  for (const f of ['config.json', 'vocab.txt']) writeFileSync(join(pt, f), readFileSync(join(dir, f)));
  writeFileSync(join(pt, 'pytorch_model.bin'), torchZip(w));
  const a = loadBert(dir).model, b = loadBert(pt).model;
  for (const [name, v] of a.params) assert.deepEqual(Array.from(b.p(name).dataSync()), Array.from(v.dataSync()), name);
  b.dispose();
  // the pre-1.6 sequential format too
  writeFileSync(join(pt, 'pytorch_model.bin'), torchZip(w, false, true));
  const c = loadBert(pt).model;
  for (const [name, v] of a.params) assert.deepEqual(Array.from(c.p(name).dataSync()), Array.from(v.dataSync()), name);
  a.dispose(); c.dispose();
  const evil = join(pt, 'evil.bin');
  writeFileSync(evil, torchZip(w, true));
  assert.throws(() => loadTorchStateDict(evil), { name: 'UserError', message: /refers to os\.system, which biore does not load/ });
});

test('a malformed pickle in pytorch_model.bin (APPEND onto a dict, SETITEM on an empty stack, …) ends in a UserError naming the file', () => {
  const { dir } = writeTinyBert();
  const pt = mkdtempSync(join(tmpdir(), 'bert-badpkl-'));
  for (const f of ['config.json', 'vocab.txt']) writeFileSync(join(pt, f), readFileSync(join(dir, f)));
  const bin = join(pt, 'pytorch_model.bin');
  const zipped = (pkl: number[]) => zipSync({ 'archive/data.pkl': Uint8Array.from(pkl), 'archive/version': new TextEncoder().encode('3\n') }, { level: 0 });
  const cases: [string, number[], RegExp][] = [
    ['APPEND onto a dict', [0x80, 2, 0x7d, 0x4b, 1, 0x61, 0x2e], /APPEND onto a dict, not a list/],
    ['SETITEM on an empty stack', [0x80, 2, 0x73, 0x2e], /on an empty stack/],
    ['SETITEM onto a list', [0x80, 2, 0x5d, 0x4b, 1, 0x4b, 2, 0x73, 0x2e], /SETITEM onto a list, not a dict/],
    ['APPENDS without MARK', [0x80, 2, 0x5d, 0x65, 0x2e], /MARK missing/],
    ['SETITEMS with an odd item count', [0x80, 2, 0x7d, 0x28, 0x4b, 1, 0x75, 0x2e], /odd number of items/],
    ['BINGET of an unset memo', [0x80, 2, 0x68, 7, 0x2e], /memo 7, never stored/],
    ['TUPLE2 on one item', [0x80, 2, 0x4b, 1, 0x86, 0x2e], /empty stack/],
    ['REDUCE of a non-global', [0x80, 2, 0x4b, 1, 0x29, 0x52, 0x2e], /REDUCE on something that is not an allowed global/],
    ['STOP on an empty stack', [0x80, 2, 0x2e], /STOP with 0 items/],
    ['truncated', [0x80, 2, 0x58, 9, 0, 0, 0, 0x41], /truncated pickle/],
  ];
  for (const [what, pkl, re] of cases) {
    writeFileSync(bin, zipped(pkl));
    for (const load of [() => loadTorchStateDict(bin), () => loadBert(pt)]) {
      assert.throws(load, (e: unknown) => e instanceof UserError && e.message.startsWith(bin) && re.test(e.message), what);
    }
  }
});

test('a BERT that ships a SentencePiece .model instead of vocab.txt loads with loadBertAny', async () => {
  const varint = (n: number) => { const o: number[] = []; while (n > 127) { o.push((n & 127) | 128); n >>>= 7; } o.push(n); return o; };
  const field = (no: number, wire: number, payload: number[]) => [...varint((no << 3) | wire), ...payload];
  const bytes = (no: number, b: number[]) => field(no, 2, [...varint(b.length), ...b]);
  const utf8 = (x: string) => Array.from(Buffer.from(x, 'utf8'));
  const f32 = (x: number) => { const b = Buffer.alloc(4); b.writeFloatLE(x); return Array.from(b); };
  const pieces: [string, number, number][] = [['<unk>', 0, 2], ['[CLS]', 0, 3], ['[SEP]', 0, 3], ['\u2581the', -1, 1], ['\u2581kin', -2, 1], ['ase', -2, 1],
    ['\u2581', -3, 1], ['t', -4, 1], ['h', -4, 1], ['e', -4, 1], ['k', -4, 1], ['i', -4, 1], ['n', -4, 1], ['a', -4, 1], ['s', -4, 1]];
  const model = Buffer.from([...pieces.flatMap(([p, sc, ty]) => bytes(1, [...bytes(1, utf8(p)), ...field(2, 5, f32(sc)), ...field(3, 0, varint(ty))])),
    ...bytes(2, [...field(3, 0, varint(1)), ...field(4, 0, varint(pieces.length))]), ...bytes(3, bytes(1, utf8('identity')))]);
  const cfg = parseBertConfig({ vocab_size: pieces.length, hidden_size: 8, num_hidden_layers: 1, num_attention_heads: 2, intermediate_size: 8, max_position_embeddings: 8 });
  const m = new BertModel(cfg, { seed: 1 });
  const dir = join(mkdtempSync(join(tmpdir(), 'bert-spm-')), 'b');
  saveBert(dir, m, pieces.map((p) => p[0]), true);
  rmSync(join(dir, 'vocab.txt'));
  writeFileSync(join(dir, 'spiece.model'), model);
  const loaded = await loadBertAny(dir);
  assert.ok(loaded.tokenizer instanceof SentencePieceTokenizer);
  const e = loaded.tokenizer.encode('The kinase');
  assert.deepEqual(e.ids, [1, 3, 4, 5, 2]);
  const out = loaded.model.forward({ inputIds: tf.tensor2d([e.ids], undefined, 'int32'), attentionMask: tf.ones([1, 5]) as tf.Tensor2D });
  assert.deepEqual(out.lastHiddenState.shape, [1, 5, 8]);
  assert.throws(() => loadBert(dir), /vocabulary file not found/);
  m.dispose(); loaded.model.dispose();
});
