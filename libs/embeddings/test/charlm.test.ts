import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { Rng, UserError, initBackend } from '@biore/runtime';
import { CharDictionary, CharLanguageModel, charLMConfig, countChars, saveFlairLanguageModel } from '@biore/charlm';
import { CharLMEmbedder, END_MARKER, START_MARKER, loadEmbedder, tokenOffsets } from '../src/index.ts';

const dict = CharDictionary.fromCounts(countChars('The protein binds (IL-2), 𝛼-helix β-cells; a dog bit a man.\n xyz'));
const lm = (forward: boolean, seed: number) =>
  new CharLanguageModel(charLMConfig({ vocabSize: dict.size, isForwardLm: forward, embeddingSize: 5, hiddenSize: 7, dropout: 0.3 }), dict, new Rng(seed));

function close(a: ArrayLike<number>, b: ArrayLike<number>, tol = 1e-5): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (Math.abs(a[i] - b[i]) > tol) return false;
  return true;
}

/** The LM's output after the last character of `text`, run alone from a zero state. */
function lastOutput(m: CharLanguageModel, text: string): Float32Array {
  return tf.tidy(() => {
    const ids = m.dictionary.encode(text);
    const out = m.forward(tf.tensor2d(ids, [1, ids.length], 'int32'), m.zeroState(1)).output;
    return tf.slice(out, [0, ids.length - 1, 0], [1, 1, m.outputSize]).dataSync() as Float32Array;
  });
}

test('offsets land on each word\'s last character (forward) and first character (backward), with punctuation, surrogate pairs and spaces', () => {
  const tokens = ['(IL-2),', '𝛼-helix', 'β', 'x  y', 'dog.'];
  const o = tokenOffsets(tokens);
  const fw = [...START_MARKER, ...o.text, ...END_MARKER];
  const bw = [...START_MARKER, ...o.text.slice().reverse(), ...END_MARKER];
  assert.equal(o.text.join(''), tokens.join(' '));
  tokens.forEach((tok, i) => {
    const cps = [...tok];
    assert.equal(fw[o.forward[i]], cps[cps.length - 1], `forward offset of ${tok}`);
    assert.equal(bw[o.backward[i]], cps[0], `backward offset of ${tok}`);
    // the forward LM has read exactly the text up to the word's end; the backward one the text from its start
    assert.equal(fw.slice(START_MARKER.length, o.forward[i] + 1).join(''), tokens.slice(0, i + 1).join(' '));
    assert.equal(bw.slice(START_MARKER.length, o.backward[i] + 1).reverse().join(''), tokens.slice(i).join(' '));
  });
  // '𝛼' is two UTF-16 units but one character: the offsets count code points
  assert.equal(o.forward[1], START_MARKER.length + [...'(IL-2), 𝛼-helix'].length - 1);
});

test('a word\'s vector is the forward LM after its last character beside the backward LM after its first', async () => {
  await initBackend();
  const e = new CharLMEmbedder(lm(true, 1), lm(false, 2));
  assert.equal(e.embeddingLength, 14);
  const s = ['The', '𝛼-helix', 'binds', '(IL-2),'];
  const out = e.embed([s]);
  assert.deepEqual(out.shape, [1, 4, 14]);
  const rows = out.arraySync()[0];
  s.forEach((_, i) => {
    const prefix = START_MARKER + s.slice(0, i + 1).join(' ');
    const suffix = START_MARKER + [...s.slice(i).join(' ')].reverse().join('');
    assert.ok(close(rows[i].slice(0, 7), lastOutput(e.forwardLm, prefix)), `forward part of word ${i}`);
    assert.ok(close(rows[i].slice(7), lastOutput(e.backwardLm, suffix)), `backward part of word ${i}`);
  });
  out.dispose();
  e.dispose();
});

test('the same word in two sentences gets different vectors; batch composition and chunking change nothing', async () => {
  await initBackend();
  // no cache: every call runs the LMs, so the comparisons below are of real runs
  const e = new CharLMEmbedder(lm(true, 3), lm(false, 4), { charsPerChunk: 512, cacheMB: 0 });
  const small = new CharLMEmbedder(e.forwardLm, e.backwardLm, { charsPerChunk: 3, batchSize: 1, cacheMB: 0 });
  const a = ['The', 'protein', 'binds'];
  const b = ['a', 'dog', 'binds', 'a', 'man', '.'];
  const before = tf.memory().numTensors;
  const alone = e.embed([a]);
  const together = e.embed([b, a, ['xyz']]);
  const chunked = small.embed([b, a, ['xyz']]);
  const A = alone.arraySync()[0];
  const T = together.arraySync();
  const C = chunked.arraySync();
  assert.ok(!close(A[2], T[0][2], 1e-3), '"binds" differs between the two sentences');
  a.forEach((_, i) => assert.ok(close(A[i], T[1][i]), `word ${i} alone vs in a batch`));
  T.flat().forEach((v, i) => assert.ok(close(v, C.flat()[i]), 'chunks of 3 characters and batches of 1 give the same vectors'));
  // padding positions are zero
  assert.ok(T[2].slice(1).every((v) => v.every((x) => x === 0)));
  tf.dispose([alone, together, chunked]);
  assert.equal(tf.memory().numTensors, before, 'embedding leaves no tensors behind');
  e.dispose();
});

test('cached sentences get exactly the vectors a fresh run gives, in any batch, and the cache can be full', async () => {
  await initBackend();
  const fresh = new CharLMEmbedder(lm(true, 8), lm(false, 9), { cacheMB: 0 });
  const cached = new CharLMEmbedder(fresh.forwardLm, fresh.backwardLm, { cacheMB: 1 });
  const tiny = new CharLMEmbedder(fresh.forwardLm, fresh.backwardLm, { cacheMB: 1e-9 }); // too small to keep anything
  const a = ['Aspirin', 'inhibits', 'COX-2', '.'];
  const b = ['β-blockers', 'lower', 'pressure'];
  const first = cached.embed([a]);
  const again = cached.embed([b, a, a]);
  const ref = fresh.embed([b, a, a]);
  const full = tiny.embed([b, a, a]);
  assert.ok(close(again.dataSync(), ref.dataSync(), 1e-6), 'cache hits and misses mixed in one batch');
  assert.ok(close(full.dataSync(), ref.dataSync(), 1e-6), 'a full cache still returns right vectors');
  assert.ok(close(first.arraySync()[0].flat(), again.arraySync()[1].flat(), 1e-6));
  tf.dispose([first, again, ref, full]);
  fresh.dispose();
});

test('precompute runs the LMs once, ahead, and embed then returns the same vectors without running them', async () => {
  await initBackend();
  const fresh = new CharLMEmbedder(lm(true, 8), lm(false, 9), { cacheMB: 0 });
  const pre = new CharLMEmbedder(fresh.forwardLm, fresh.backwardLm, { cacheMB: 1, batchSize: 2 });
  const sents = [['Aspirin', 'inhibits', 'COX-2', '.'], ['β-blockers', 'lower', 'pressure'], ['IL-6'], ['TNF', 'α']];
  pre.precompute(sents);
  let runs = 0;
  const lmForward = fresh.forwardLm.forward.bind(fresh.forwardLm);
  fresh.forwardLm.forward = (...args) => { runs++; return lmForward(...args); };
  const before = tf.memory().numTensors;
  const a = pre.embed([sents[3], sents[0], sents[1]]);
  assert.equal(runs, 0, 'every vector came from the precomputed cache');
  const ref = fresh.embed([sents[3], sents[0], sents[1]]);
  assert.ok(runs > 0);
  assert.ok(close(a.dataSync(), ref.dataSync(), 1e-6), 'precomputed (length-sorted batches) equals a fresh run');
  tf.dispose([a, ref]);
  assert.equal(tf.memory().numTensors, before, 'no tensors left behind');
  fresh.dispose();
});

test('saved LMs load through the embedder registry as type "cse"; a forward LM in the backward slot is refused', async () => {
  await initBackend();
  const dir = mkdtempSync(join(tmpdir(), 'cse-emb-'));
  const [f, b] = [lm(true, 5), lm(false, 6)];
  f.save(join(dir, 'forward'));
  b.save(join(dir, 'backward'));
  const e = await loadEmbedder({ type: 'cse', forward: join(dir, 'forward'), backward: join(dir, 'backward') });
  assert.equal(e.name, 'cse');
  assert.deepEqual(e.trainableVariables(), []);
  const direct = new CharLMEmbedder(f, b);
  const [x, y] = [e.embed([['a', 'dog']]), direct.embed([['a', 'dog']])];
  assert.ok(close(x.dataSync(), y.dataSync(), 1e-6));
  const again = await loadEmbedder(e.describe());
  assert.equal(again.embeddingLength, 14);
  // the folder cse-lm:pretrain writes, as re-lite's --embeddings glove+cse names it
  const byRoot = await loadEmbedder({ type: 'cse', path: dir });
  const z = byRoot.embed([['a', 'dog']]);
  assert.ok(close(z.dataSync(), y.dataSync(), 1e-6));
  z.dispose();
  byRoot.dispose();
  assert.throws(() => new CharLMEmbedder(f, f), UserError);
  tf.dispose([x, y]);
  [e, again, direct].forEach((m) => m.dispose());
});

test("flair's published LM pair loads as --cse DIR (two .pt files, told apart by is_forward_lm) and gives the same vectors as the LMs themselves", async () => {
  await initBackend();
  const dir = mkdtempSync(join(tmpdir(), 'cse-flair-'));
  const [f, b] = [lm(true, 11), lm(false, 12)];
  // names that sort backward first: the direction comes from the files, not their names
  saveFlairLanguageModel(join(dir, 'a-lm.pt'), b);
  saveFlairLanguageModel(join(dir, 'b-lm.pt'), f);
  const e = await loadEmbedder({ type: 'cse', path: dir });
  const direct = new CharLMEmbedder(f, b, { cacheMB: 0 });
  const s = [['Aspirin', 'inhibits', 'COX-2', '.'], ['β-cells']];
  const [x, y] = [e.embed(s), direct.embed(s)];
  assert.ok(close(x.dataSync(), y.dataSync(), 1e-6));
  assert.deepEqual(e.describe(), { type: 'cse', forward: join(dir, 'b-lm.pt'), backward: join(dir, 'a-lm.pt'), charsPerChunk: 512, batchSize: 32 });
  // each file named on its own, as a JSON spec would
  const named = await loadEmbedder({ type: 'cse', forward: join(dir, 'b-lm.pt'), backward: join(dir, 'a-lm.pt') });
  const z = named.embed(s);
  assert.ok(close(z.dataSync(), y.dataSync(), 1e-6));
  // two forward LMs are refused with the folder named
  const two = mkdtempSync(join(tmpdir(), 'cse-flair-fw-'));
  saveFlairLanguageModel(join(two, 'x.pt'), f);
  saveFlairLanguageModel(join(two, 'y.pt'), f);
  await assert.rejects(async () => loadEmbedder({ type: 'cse', path: two }), (err: unknown) => err instanceof UserError && /both forward LMs; CSE needs one of each/.test(err.message) && err.message.startsWith(two));
  tf.dispose([x, y, z]);
  [e, named, direct].forEach((m) => m.dispose());
});
