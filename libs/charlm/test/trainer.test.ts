import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { cpSync, realpathSync, existsSync, mkdtempSync, readFileSync, writeFileSync, truncateSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import { Rng, UserError, initBackend } from '@biore/runtime';
import {
  CharDictionary, CharLanguageModel, charLMConfig, countChars, evaluate, generateText, heldOutStream, loadCheckpoint, openCharCorpus,
  trainLanguageModel,
} from '../src/index.ts';
import { pubmedDocs, writeCorpus } from './helpers.ts';
import { tinyModel, tinyOptions, tinyRun } from './fixtures/tiny.ts';

const here = dirname(fileURLToPath(import.meta.url));
const docs = pubmedDocs(24, 160);
const corpusDir = writeCorpus([docs.slice(0, 10), docs.slice(10, 20)], docs.slice(20, 22), docs.slice(22, 24));

function weightsOf(m: CharLanguageModel): Record<string, Float32Array> {
  return Object.fromEntries(Object.entries(m.weightsToHost()).map(([k, v]) => [k, v.data as Float32Array]));
}

function maxDiff(a: Record<string, Float32Array>, b: Record<string, Float32Array>): number {
  let d = 0;
  for (const k of Object.keys(a)) for (let i = 0; i < a[k].length; i++) d = Math.max(d, Math.abs(a[k][i] - b[k][i]));
  return d;
}

test('a run killed with SIGKILL mid-epoch and resumed reaches the same weights as an unbroken run', async () => {
  await initBackend();
  const unbroken = await tinyRun(corpusDir);
  assert.equal(unbroken.result.stopped, 'finished');
  const ckpt = mkdtempSync(join(tmpdir(), 'charlm-ckpt-'));
  const child = spawn(process.execPath, ['--import', 'tsx', join(here, 'fixtures', 'train-child.ts'), corpusDir, ckpt, '40'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d) => { out += d; });
  child.stderr.on('data', (d) => { out += d; });
  const exited = new Promise<number | null>((res) => child.on('exit', (code, sig) => res(sig ? null : code)));
  // wait until a checkpoint lies in the middle of the first epoch's second split, then kill without warning
  let killedAt: { epoch: number; window: number; windowsDone: number } | undefined;
  for (let i = 0; i < 1200 && !killedAt; i++) {
    await new Promise((r) => setTimeout(r, 50));
    const p = join(ckpt, 'state.json');
    if (!existsSync(p)) continue;
    const s = JSON.parse(readFileSync(p, 'utf8'));
    if (s.splitPos === 1 && s.window > 0) {
      child.kill('SIGKILL');
      killedAt = { epoch: s.epoch, window: s.window, windowsDone: s.windowsDone };
    }
  }
  assert.equal(await exited, null, `child was killed by a signal (output: ${out})`);
  assert.ok(killedAt, 'the child reached a mid-epoch checkpoint');
  const resumed = loadCheckpoint(ckpt);
  assert.ok(resumed.state.window > 0 && !resumed.state.finished, 'the checkpoint lies mid-epoch');
  const r = await tinyRun(corpusDir, {}, resumed);
  assert.equal(r.result.stopped, 'finished');
  assert.equal(r.result.state.windowsDone, unbroken.result.state.windowsDone);
  assert.equal(r.result.state.lr, unbroken.result.state.lr);
  const d = maxDiff(weightsOf(unbroken.model), weightsOf(r.model));
  assert.ok(d < 1e-5, `max weight difference ${d}`);
  // and training did move the weights away from the initial ones
  assert.ok(maxDiff(weightsOf(tinyModel(corpusDir)), weightsOf(unbroken.model)) > 1e-3);
  unbroken.model.dispose();
  r.model.dispose();
});

test('SIGINT-style stop writes a checkpoint from which the run continues to the same weights', async () => {
  await initBackend();
  const unbroken = await tinyRun(corpusDir, { epochs: 1 });
  const ckpt = mkdtempSync(join(tmpdir(), 'charlm-stop-'));
  let n = 0;
  const first = await tinyRun(corpusDir, { epochs: 1, checkpointDir: ckpt, checkpointEveryWindows: 1000, shouldStop: () => ++n === 7 });
  assert.equal(first.result.stopped, 'signal');
  first.model.dispose();
  const r = await tinyRun(corpusDir, { epochs: 1, checkpointDir: ckpt }, loadCheckpoint(ckpt));
  assert.ok(maxDiff(weightsOf(unbroken.model), weightsOf(r.model)) < 1e-5);
  unbroken.model.dispose();
  r.model.dispose();
});

test('training lowers held-out loss, keeps the best model, and leaks no tensors', async () => {
  await initBackend();
  const out = mkdtempSync(join(tmpdir(), 'charlm-best-'));
  const model = tinyModel(corpusDir);
  const valid = heldOutStream(openCharCorpus(corpusDir).valid, model.dictionary, true, 4);
  const before = evaluate(model, valid, 12);
  const run = () => trainLanguageModel(model, openCharCorpus(corpusDir), tinyOptions({ epochs: 1, outDir: out, checkpointEveryWindows: 0 }));
  await run();
  const tensors = tf.memory().numTensors;
  const r = await run();
  assert.equal(tf.memory().numTensors, tensors, 'a second epoch leaves no tensors behind');
  assert.ok(r.lastValid!.loss < before.loss, `valid loss ${r.lastValid!.loss} after training vs ${before.loss} before`);
  assert.ok(Math.abs(r.lastValid!.bitsPerChar - r.lastValid!.loss / Math.LN2) < 1e-9);
  const best = CharLanguageModel.load(out);
  assert.ok(evaluate(best, valid, 12).loss <= before.loss);
  best.dispose();
  model.dispose();
});

test('the backward LM is trained on reversed text: after "b" it predicts the "a" that preceded it', async () => {
  await initBackend();
  const line = 'abcd'.repeat(30);
  const dir = writeCorpus([[line, line, line]], [line], [line]);
  const dict = CharDictionary.fromCounts(countChars(line + '\n'));
  // the most likely next character after reading `context` in the model's own reading order
  const next = (m: CharLanguageModel, context: string) => tf.tidy(() => {
    const ids = dict.encode(context);
    const logits = m.decode(m.forward(tf.tensor2d(ids, [1, ids.length], 'int32'), m.zeroState(1)).output);
    return dict.items[tf.argMax(logits, 1).dataSync()[ids.length - 1]];
  });
  const models: CharLanguageModel[] = [];
  for (const forward of [true, false]) {
    const m = new CharLanguageModel(charLMConfig({ vocabSize: dict.size, isForwardLm: forward, embeddingSize: 5, hiddenSize: 8, dropout: 0 }), dict, new Rng(1));
    await trainLanguageModel(m, openCharCorpus(dir), tinyOptions({ epochs: 4, caseFlip: false, lr: 5, clip: 5, seqLen: 10 }));
    models.push(m);
  }
  // the forward LM, having read "dab", expects c; the backward LM reads "…abcd" right to left,
  // so having read "dcb" it expects the a that stands before b in the text
  assert.equal(next(models[0], 'dab'), 'c');
  assert.equal(next(models[1], 'dcb'), 'a');
  assert.equal(next(models[1], 'adc'), 'b');
  // sampling: the forward LM continues the text, the backward LM writes what came before the prefix
  assert.equal(generateText(models[0], new Rng(1), { prefix: 'ab', length: 6, temperature: 0.05 }).text, 'abcdabcd');
  assert.equal(generateText(models[1], new Rng(1), { prefix: 'cd', length: 6, temperature: 0.05 }).text, 'abcdabcd');
  models.forEach((m) => m.dispose());
});

test('a truncated or corrupt checkpoint, a mismatched dictionary and changed settings are clear errors', async () => {
  await initBackend();
  const ckpt = mkdtempSync(join(tmpdir(), 'charlm-bad-'));
  let n = 0;
  const r = await tinyRun(corpusDir, { epochs: 1, checkpointDir: ckpt, shouldStop: () => ++n === 3 });
  r.model.dispose();
  const copy = (name: string) => {
    const d = mkdtempSync(join(tmpdir(), `charlm-${name}-`)) + '/ck';
    writeDirCopy(ckpt, d);
    return d;
  };
  const t = copy('trunc');
  truncateSync(join(t, 'model.safetensors'), Math.floor(statSync(join(t, 'model.safetensors')).size / 2));
  assert.throws(() => loadCheckpoint(t), (e: Error) => e instanceof UserError && e.message.includes(join(t, 'model.safetensors')));
  const s = copy('state');
  writeFileSync(join(s, 'state.json'), '{"version": 1, "epoch": ');
  assert.throws(() => loadCheckpoint(s), (e: Error) => e instanceof UserError && e.message.includes('state.json'));
  const d = copy('dict');
  const dict = JSON.parse(readFileSync(join(d, 'dictionary.json'), 'utf8'));
  dict.items.pop();
  writeFileSync(join(d, 'dictionary.json'), JSON.stringify(dict));
  assert.throws(() => loadCheckpoint(d), (e: Error) => e instanceof UserError && /do not match/.test(e.message) && e.message.includes('dictionary.json'));
  const ok = loadCheckpoint(copy('settings'));
  await assert.rejects(tinyRun(corpusDir, { epochs: 1, seqLen: 13 }, ok), (e: Error) => e instanceof UserError && /seqLen/.test(e.message));
  ok.model.dispose();
});

function writeDirCopy(from: string, to: string): void {
  // the checkpoint is a link to its newest generation: copy what it points to
  cpSync(realpathSync(from), to, { recursive: true });
}
