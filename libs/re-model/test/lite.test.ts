import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, existsSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import { Rng, initBackend, loadArtifact } from '@biore/runtime';
import {
  createREModel, train, crossEntropy, predict, loadREModel, cropAroundEntities, epochBatches, instanceFromRecord, parseMarkedText,
  LiteREModel, type LiteConfig,
} from '../src/index.ts';
import { hashEmbedder, LABELS, tinyConfig, tinyDataset, tinyTrainOptions } from './fixtures/tiny.ts';

const here = dirname(fileURLToPath(import.meta.url));
const tmp = () => mkdtempSync(join(tmpdir(), 'biore-re-model-'));

test('attention weights are a distribution over each sentence\'s real words only', async () => {
  await initBackend();
  const model = (await createREModel(tinyConfig() as any, new Rng(1))) as LiteREModel;
  const data = tinyDataset(5, 9);
  const batch = model.prepare(data);
  const { logits, attention } = model.forward(batch, false);
  assert.deepEqual(logits.shape, [5, LABELS.length]);
  const att = attention.arraySync();
  batch.lengths.forEach((len, b) => {
    const real = att[b].slice(0, len).reduce((s, x) => s + x, 0);
    assert.ok(Math.abs(real - 1) < 1e-5, `row ${b} sums to ${real}`);
    assert.ok(att[b].slice(len).every((x) => x === 0));
  });
  // tags wrap the entities: the model reads "<chem> aspirin </chem>"
  assert.ok(batch.words[0].includes('<chem>') && batch.words[0].includes('</gene>'));
  tf.dispose([logits, attention]);
  model.dispose();
});

test('padding does not change a sentence\'s prediction (batch composition independence)', async () => {
  await initBackend();
  const model = await createREModel(tinyConfig() as any, new Rng(2));
  const data = tinyDataset(6, 4);
  const alone = tf.tidy(() => model.forward(model.prepare([data[0]]), false).logits.arraySync()[0]);
  const longest = data.reduce((a, b) => (b.tokens.length > a.tokens.length ? b : a));
  const together = tf.tidy(() => model.forward(model.prepare([data[0], longest]), false).logits.arraySync()[0]);
  alone.forEach((x, i) => assert.ok(Math.abs(x - together[i]) < 1e-5, `${x} vs ${together[i]}`));
  model.dispose();
});

test('the loss gradient of every weight matches central differences', async () => {
  await initBackend();
  const model = await createREModel({ ...tinyConfig(3), dropoutEmbedding: 0, dropoutOutput: 0 } as any, new Rng(5));
  const data = tinyDataset(3, 6);
  const batch = model.prepare(data);
  const y = data.map((d) => LABELS.indexOf(d.label));
  const vars = model.trainableVariables();
  const f = () => crossEntropy(model.forward(batch, false).logits, y);
  const { grads } = tf.variableGrads(f, Object.values(vars));
  const eps = 1e-2;
  let worst = 0;
  for (const [name, v] of Object.entries(vars)) {
    const g = grads[v.name].dataSync();
    const base = v.dataSync().slice();
    for (const i of [0, Math.floor(base.length / 2), base.length - 1]) {
      const at = (delta: number) => {
        const p = base.slice(); p[i] += delta;
        v.assign(tf.tensor(p, v.shape));
        return tf.tidy(() => f().dataSync()[0]);
      };
      const num = (at(eps) - at(-eps)) / (2 * eps);
      v.assign(tf.tensor(base, v.shape));
      const err = Math.abs(num - g[i]) / Math.max(1e-3, Math.abs(num) + Math.abs(g[i]));
      worst = Math.max(worst, err);
      assert.ok(err < 2e-2, `${name}[${i}]: analytic ${g[i]} vs numerical ${num}`);
    }
  }
  assert.ok(worst < 2e-2);
  tf.dispose(Object.values(grads));
  model.dispose();
});

test('training lowers the loss, learns the task, and leaks no tensors across steps', async () => {
  await initBackend();
  const model = await createREModel(tinyConfig(8) as any, new Rng(7));
  const trainSet = tinyDataset(96, 1), dev = tinyDataset(48, 2);
  const lossOn = () => tf.tidy(() => crossEntropy(model.forward(model.prepare(dev), false).logits, dev.map((d) => LABELS.indexOf(d.label))).dataSync()[0]);
  const before = lossOn();
  const out = tmp();
  const o = { ...tinyTrainOptions(out), optimizer: 'adam' as const, lr: 0.02, epochs: 1, resume: false, checkpointEvery: 0 };
  await train(model, { train: trainSet, dev, trainSource: 'tiny' }, o);
  const tensorsAfterOne = tf.memory().numTensors;
  await train(model, { train: trainSet, dev, trainSource: 'tiny' }, { ...o, outDir: tmp(), epochs: 12 });
  assert.equal(tf.memory().numTensors, tensorsAfterOne, 'tensor count grew over training');
  const after = lossOn();
  assert.ok(after < before * 0.5, `dev loss ${before} -> ${after}`);
  const preds = predict(model, dev);
  const acc = preds.filter((p, i) => p.label === dev[i].label).length / dev.length;
  assert.ok(acc > 0.9, `dev accuracy ${acc}`);
  assert.ok(existsSync(join(out, 'best', 'model.safetensors')) && existsSync(join(out, 'metrics.jsonl')));
  model.dispose();
});

test('train hands every train and dev sentence to a frozen encoder\'s precompute before the first step, and predict the test sentences', async () => {
  await initBackend();
  const base = hashEmbedder(5);
  const log: string[] = [];
  const precomputed = new Set<string>();
  const embedder = {
    ...base,
    precompute(sentences: readonly (readonly string[])[]) { log.push(`precompute ${sentences.length}`); for (const s of sentences) precomputed.add(s.join(' ')); return sentences.length; },
    embed(sentences: readonly (readonly string[])[]) {
      for (const s of sentences) if (!precomputed.has(s.join(' '))) log.push(`miss ${s.join(' ')}`);
      return base.embed(sentences);
    },
  };
  const model = new LiteREModel({ ...tinyConfig(4), maxTokens: 150 } as LiteConfig, embedder, new Rng(7));
  const trainSet = tinyDataset(24, 1), dev = tinyDataset(12, 2), testSet = tinyDataset(40, 5);
  await train(model, { train: trainSet, dev, trainSource: 'tiny' }, { ...tinyTrainOptions(tmp()), epochs: 1, resume: false, checkpointEvery: 0 });
  assert.deepEqual(log, ['precompute 36'], 'one call with train + dev, before any embed, and no embed outside it');
  predict(model, testSet, 16);
  assert.deepEqual(log.slice(1), ['precompute 40']);
  model.dispose();
});

test('a run killed with SIGKILL resumes from its checkpoint and ends with the same weights as an unbroken run', async () => {
  await initBackend();
  const child = join(here, 'fixtures', 'train-child.ts');
  const run = (dir: string, killAtStep?: number) => new Promise<void>((resolve, reject) => {
    const p = spawn(process.execPath, ['--import', 'tsx', child, dir], { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, BIORE_QUIET: '1' } });
    let err = '';
    p.stderr.on('data', (d) => { err += d; });
    let timer: NodeJS.Timeout | undefined;
    if (killAtStep !== undefined) {
      timer = setInterval(() => {
        const st = join(dir, 'checkpoint', 'state.json');
        if (existsSync(st)) {
          try { if (JSON.parse(readFileSync(st, 'utf8')).step >= killAtStep) p.kill('SIGKILL'); } catch { /* being replaced */ }
        }
      }, 5);
    }
    p.on('exit', (code, signal) => {
      if (timer) clearInterval(timer);
      if (code === 0 || signal === 'SIGKILL') resolve(); else reject(new Error(`child exited ${code}: ${err}`));
    });
  });
  const unbroken = tmp(), broken = tmp();
  await run(unbroken);
  await run(broken, 14);
  const mid = JSON.parse(readFileSync(join(broken, 'checkpoint', 'state.json'), 'utf8'));
  assert.ok(!mid.finished, 'the child was killed before it finished');
  await run(broken);
  const a = loadArtifact(join(unbroken, 'checkpoint')), b = loadArtifact(join(broken, 'checkpoint'));
  assert.equal((b.state as any).finished, true);
  assert.equal((b.state as any).step, (a.state as any).step);
  for (const [name, t] of Object.entries(a.tensors)) {
    const u = b.tensors[name].data;
    t.data.forEach((x, i) => assert.ok(Math.abs(x - u[i]) <= 1e-5 * Math.max(1, Math.abs(x)), `${name}[${i}] ${x} vs ${u[i]}`));
  }
  const m = await loadREModel(broken);
  assert.deepEqual(m.labels, LABELS);
  m.dispose();
});

test('SIGTERM mid-epoch writes a checkpoint at that step and exits 143; resuming finishes like an unbroken run', async () => {
  await initBackend();
  const child = join(here, 'fixtures', 'train-child.ts');
  const dir = tmp();
  // no periodic checkpoints: the only mid-epoch checkpoint can come from the signal handler
  const p = spawn(process.execPath, ['--import', 'tsx', child, dir, '0'], { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, BIORE_QUIET: '1' } });
  const st = join(dir, 'checkpoint', 'state.json');
  const code = await new Promise<number | null>((resolve) => {
    const timer = setInterval(() => { if (existsSync(st)) { clearInterval(timer); p.kill('SIGTERM'); } }, 5);
    p.on('exit', (c) => { clearInterval(timer); resolve(c); });
  });
  assert.equal(code, 143, 'a run stopped by SIGTERM exits 143 after its checkpoint');
  const s = JSON.parse(readFileSync(st, 'utf8'));
  assert.ok(!s.finished && s.batch > 0, `checkpoint at epoch ${s.epoch} batch ${s.batch}`);
  const again = spawn(process.execPath, ['--import', 'tsx', child, dir, '0'], { stdio: 'ignore', env: { ...process.env, BIORE_QUIET: '1' } });
  assert.equal(await new Promise((resolve) => again.on('exit', resolve)), 0);
  const unbroken = tmp();
  const u = spawn(process.execPath, ['--import', 'tsx', child, unbroken, '0'], { stdio: 'ignore', env: { ...process.env, BIORE_QUIET: '1' } });
  assert.equal(await new Promise((resolve) => u.on('exit', resolve)), 0);
  const a = loadArtifact(join(unbroken, 'checkpoint')), b = loadArtifact(join(dir, 'checkpoint'));
  for (const [name, t] of Object.entries(a.tensors)) {
    t.data.forEach((x, i) => assert.ok(Math.abs(x - b.tensors[name].data[i]) <= 1e-5 * Math.max(1, Math.abs(x)), `${name}[${i}]`));
  }
});

test('gradient accumulation over micro-batches gives the same updates as whole batches', async () => {
  await initBackend();
  const cfg = { ...tinyConfig(5), dropoutEmbedding: 0, dropoutOutput: 0 } as any;
  const data = { train: tinyDataset(40, 8), dev: tinyDataset(8, 9), trainSource: 'tiny' };
  const run = async (accumulate: number) => {
    const m = await createREModel(cfg, new Rng(21));
    await train(m, data, { ...tinyTrainOptions(tmp()), epochs: 1, resume: false, checkpointEvery: 0, accumulate });
    const w = Object.fromEntries(Object.entries(m.weights()).map(([k, v]) => [k, Array.from(v.dataSync())]));
    m.dispose();
    return w;
  };
  const [whole, micro] = [await run(1), await run(3)];
  for (const [k, xs] of Object.entries(whole)) xs.forEach((x, i) => assert.ok(Math.abs(x - micro[k][i]) < 1e-4, `${k}[${i}] ${x} vs ${micro[k][i]}`));
});

test('cropping keeps both entities and at most maxTokens tokens', () => {
  const inst = { id: 'x', docId: 'd', label: 'false', tokens: Array.from({ length: 40 }, (_, i) => `w${i}`),
    e1: { type: 'CHEMICAL', start: 20, end: 22, text: 'w20 w21' }, e2: { type: 'GENE', start: 30, end: 31, text: 'w30' } } as const;
  const c = cropAroundEntities(inst as any, 16);
  assert.equal(c.tokens.length, 16);
  assert.deepEqual(c.tokens.slice(c.e1.start, c.e1.end), ['w20', 'w21']);
  assert.deepEqual(c.tokens.slice(c.e2.start, c.e2.end), ['w30']);
});

test('epoch batches cover every instance once and depend only on seed and epoch', () => {
  const lengths = Array.from({ length: 103 }, (_, i) => (i * 37) % 50);
  const a = epochBatches(lengths, 8, 1, 0);
  assert.deepEqual(a.flat().sort((x, y) => x - y), lengths.map((_, i) => i));
  assert.deepEqual(epochBatches(lengths, 8, 1, 0), a);
  assert.notDeepEqual(epochBatches(lengths, 8, 1, 1), a);
});

test('predict input: marked text and character offsets give the same instance; bad records are named', () => {
  const a = instanceFromRecord({ text: 'Aspirin inhibits <gene>COX-2</gene> in <chem>rats</chem>.' }, 'in.jsonl', 1);
  const plain = 'Aspirin inhibits COX-2 in rats.';
  const b = instanceFromRecord({ text: plain, e1: { start: 17, end: 22, type: 'GENE' }, e2: { start: 26, end: 30, type: 'CHEMICAL' } }, 'in.jsonl', 2);
  assert.deepEqual(a.tokens, b.tokens);
  assert.deepEqual([a.e1.start, a.e1.end, a.e2.start, a.e2.end], [b.e1.start, b.e1.end, b.e2.start, b.e2.end]);
  assert.equal(parseMarkedText('x <chem>y</chem>', 'f', 1).text, 'x y');
  assert.throws(() => instanceFromRecord({ text: plain, e1: { start: 5, end: 99, type: 'GENE' }, e2: { start: 0, end: 3, type: 'CHEMICAL' } }, 'in.jsonl', 3), /in\.jsonl, record 3: entity e1 offsets \[5, 99\) lie outside/);
  assert.throws(() => instanceFromRecord({ text: 'only <chem>one</chem>' }, 'in.jsonl', 4), /record 4: expected exactly two/);
  assert.throws(() => instanceFromRecord({ text: 'a <chem>b</gene>' }, 'in.jsonl', 5), /record 5: closing marker/);
});

test('a batch that exhausts the backend heap ends in one clear error naming the batch, not a wasm abort', async () => {
  await initBackend();
  const model = (await createREModel(tinyConfig() as any, new Rng(3))) as LiteREModel;
  const data = tinyDataset(6, 4);
  // the model as tfjs' wasm backend leaves it when its 4 GB heap runs out mid-forward
  const aborting = Object.create(model, { forward: { value: () => { const e = new Error('Aborted(). Build with -sASSERTIONS for more info.'); e.name = 'RuntimeError'; throw e; } } });
  assert.throws(() => predict(aborting, data, 4), (e: Error) => e.name === 'UserError'
    && /ran out of memory on a batch of 4 sentences \(longest \d+ words\): pass a smaller --batch \(e\.g\. 2\) or --engine onnx/.test(e.message));
  // any other failure is not disguised as a memory error
  const broken = Object.create(model, { forward: { value: () => { throw new TypeError('shape mismatch'); } } });
  assert.throws(() => predict(broken, data, 4), /shape mismatch/);
  model.dispose();
});
