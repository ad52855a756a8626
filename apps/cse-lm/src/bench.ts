// nx run cse-lm:bench -- [--hidden 256 --seq-len 100 --batch 32 --windows 6] — training speed of the char LM as JSON:
// characters/s, peak memory, achieved GFLOP/s beside the backend's own large-matmul rate.
import { join } from 'node:path';
import { COMMON_FLAGS, Rng, UserError, defineCommand, findData, initBackend, measureMatmulRate, pick, runCli } from '@biore/runtime';
import { SGD, lstmFlops } from '@biore/nn';
import {
  CharDictionary, CharLanguageModel, batchify, charLMConfig, countChars, documentsToStream, getWindow, readDocuments, trainStep, windowCount,
} from '@biore/charlm';
import * as tf from '@tensorflow/tfjs-core';

const command = defineCommand({
  name: 'cse-lm:bench',
  summary: 'training speed of the character LM as JSON: characters/s, peak memory, achieved GFLOP/s beside the backend\'s large-matmul rate',
  examples: ['npx nx run cse-lm:bench', 'npx nx run cse-lm:bench -- --hidden 128 --batch 16'],
  flags: {
    hidden: { ...COMMON_FLAGS.hidden, default: 256, description: 'LSTM hidden size' },
    'seq-len': { type: 'int', min: 1, default: 100, description: 'characters a training window (truncated backpropagation length)' },
    batch: { ...COMMON_FLAGS.batch, description: 'parallel character streams' },
    layers: { ...COMMON_FLAGS.layers, default: 1, description: 'LSTM layers' },
    'embedding-size': { type: 'int', min: 1, default: 100, description: 'character embedding size' },
    windows: { type: 'int', min: 1, default: 6, description: 'timed training windows (after one warm-up window)' },
    ...pick(COMMON_FLAGS, 'data', 'backend'),
  },
});

async function main(): Promise<void> {
  const f = command.parse();
  const backend = await initBackend(f.backend);
  const H = f.hidden, T = f['seq-len'], B = f.batch;
  const L = f.layers, D = f['embedding-size'], N = f.windows;
  const docs = readDocuments(join(findData('text', f.data).path, 'pubmed', 'PubMedAbstract_1MB.txt'));
  const dict = CharDictionary.fromCounts(countChars(docs.join('\n')), 300);
  const stream = batchify(documentsToStream(docs, dict, { forward: true }), B);
  if (windowCount(stream, T) < N + 1) throw new UserError(`the benchmark text holds ${windowCount(stream, T)} windows of --seq-len ${T} × --batch ${B}; lower --windows, --seq-len or --batch`);
  const model = new CharLanguageModel(charLMConfig({ vocabSize: dict.size, hiddenSize: H, layers: L, embeddingSize: D }), dict, new Rng(1));
  const opt = new SGD(20);
  const rng = new Rng(2);
  let state = model.zeroState(B);
  let peakRss = 0, peakTensorBytes = 0;
  const sample = () => { peakRss = Math.max(peakRss, process.memoryUsage().rss); peakTensorBytes = Math.max(peakTensorBytes, tf.memory().numBytes); };
  // one warm-up window (kernel setup), then N timed ones
  const step = (w: number) => {
    const win = getWindow(stream, w, T);
    state = trainStep(model, opt, 0.25, win.input, win.target, win.len, B, state, rng).state;
    sample();
  };
  step(0);
  const t0 = performance.now();
  for (let w = 1; w <= N; w++) step(w);
  const secs = (performance.now() - t0) / 1000;
  const chars = N * T * B;
  let flops = 0;
  for (let l = 0; l < L; l++) flops += lstmFlops(B, T, l === 0 ? D : H, H);
  flops += 3 * 2 * B * T * H * dict.size; // decoder forward, and its two backward matmuls
  const achieved = (flops * N) / secs / 1e9;
  state.h.concat(state.c).forEach((t) => t.dispose());
  const matmul = measureMatmulRate();
  const report = {
    backend: backend.backend, threads: backend.threads, simd: backend.simd,
    hidden: H, seqLen: T, batch: B, layers: L, embeddingSize: D, vocab: dict.size, windows: N,
    charsPerSec: Math.round(chars / secs), msPerWindow: Math.round((secs * 1000) / N),
    achievedGflops: Number(achieved.toFixed(3)), matmulGflops: Number(matmul.toFixed(3)), fractionOfMatmul: Number((achieved / matmul).toFixed(3)),
    target: 'at least half the large-matmul rate', meetsTarget: achieved >= matmul / 2,
    // maxRSS is the process's true high-water mark; tensor bytes are sampled between steps (weights + state)
    peakRssMB: Math.round(Math.max(peakRss, process.resourceUsage().maxRSS * 1024) / 2 ** 20), tensorMBBetweenSteps: Math.round(peakTensorBytes / 2 ** 20),
    loadAverage1m: (await import('node:os')).loadavg()[0],
  };
  console.log(JSON.stringify(report, null, 2));
  model.dispose();
}

runCli(main);
