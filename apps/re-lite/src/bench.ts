// nx run re-lite:bench — training sentences/s, extraction ms/sentence at batch 1 and 32, peak memory, and the
// achieved GFLOP/s of the training step beside the backend's own large-matmul rate. Prints one JSON object.
import * as tf from '@tensorflow/tfjs-core';
import { COMMON_FLAGS, defineCommand, measureMatmulRate, pick, Rng, runCli, startBackend } from '@biore/runtime';
import { embeddingSpec } from '@biore/embeddings';
import { loadDataset, datasetInfo } from '@biore/re-data';
import { createREModel, makeOptimizer, trainStep, LITE_DEFAULTS, type LiteConfig } from '@biore/re-model';

let peakRss = 0;
const sample = () => { peakRss = Math.max(peakRss, process.memoryUsage().rss); };

const command = defineCommand({
  name: 're-lite:bench',
  summary: 'lite model speed as one JSON object: training sentences/s and GFLOP/s beside the backend\'s matmul rate, extraction ms/sentence at batch 1 and 32, peak memory',
  examples: ['npx nx run re-lite:bench', 'npx nx run re-lite:bench -- --embeddings glove+cse --hidden 128 --batch 16'],
  flags: {
    embeddings: { type: 'string', default: 'glove', placeholder: 'glove+cse+elmo', description: "embedding members joined by '+' (glove, cse, elmo, bert), or an embedder spec .json" },
    glove: { type: 'string', placeholder: 'DIR', description: 'GloVe folder (artifacts/glove when absent)' },
    cse: { type: 'string', placeholder: 'DIR', description: 'CSE folder with forward/ and backward/ LMs (artifacts/cse-lm when absent)' },
    elmo: { type: 'string', placeholder: 'DIR', description: 'ELMo folder (artifacts/elmo-lm when absent)' },
    bert: { type: 'string', placeholder: 'DIR', description: 'BERT folder used as a frozen embedding (artifacts/bert when absent)' },
    hidden: { ...COMMON_FLAGS.hidden, default: LITE_DEFAULTS.hidden, description: 'LSTM units per direction' },
    batch: { ...COMMON_FLAGS.batch, description: 'sentences per training step' },
    steps: { type: 'int', min: 1, default: 20, description: 'timed training steps (after two warm-up steps)' },
    ...pick(COMMON_FLAGS, 'backend', 'data'),
  },
});

runCli(async () => {
  const f = command.parse();
  const report = await startBackend(f.backend, { rel: 'chemprot', flag: f.data });
  const timer = setInterval(sample, 50);
  const hidden = f.hidden;
  const B = f.batch;
  const steps = f.steps;
  const info = datasetInfo('chemprot');
  const data = loadDataset('chemprot', { split: 'dev', dataFlag: f.data });
  const rng = new Rng(1);
  const config: LiteConfig = {
    ...LITE_DEFAULTS, family: 'lite', labels: info.labels, indicator: 'tags', hidden, embeddings: embeddingSpec(f.embeddings, { glove: f.glove, cse: f.cse, elmo: f.elmo, bert: f.bert }),
  } as LiteConfig;
  const model = await createREModel(config, rng);
  const D = (model as any).embedder.embeddingLength as number;
  const labelIndex = new Map(info.labels.map((l, i) => [l, i]));
  const vars = model.trainableVariables();
  const opt = makeOptimizer({ optimizer: 'sgd', lr: 0.1, weightDecay: 0 });
  const pick = (n: number, k: number) => Array.from({ length: n }, (_, i) => data[(k * n + i) % data.length]);

  // training: forward + backward + update on batches of B real ChemProt sentences
  let flops = 0, sentences = 0, trainMs = 0;
  for (let s = -2; s < steps; s++) {
    const insts = pick(B, s + 2);
    const batch = model.prepare(insts) as { lengths: number[] };
    const y = insts.map((i) => labelIndex.get(i.label)!);
    const T = Math.max(...batch.lengths);
    const t0 = performance.now();
    trainStep(model, vars, opt, { clipNorm: 5 }, insts, y, s + 2);
    if (s < 0) continue; // warm-up steps
    trainMs += performance.now() - t0;
    sentences += B;
    // two directions x (input projection + recurrence) x 4 gates, forward pass = 1/3 of forward+backward
    flops += 3 * 2 * (2 * B * T * (D + hidden) * 4 * hidden);
  }
  const extract = (bs: number, n: number) => {
    let ms = 0;
    for (let k = 0; k < n; k++) {
      const batch = model.prepare(pick(bs, k));
      const t0 = performance.now();
      tf.tidy(() => { tf.softmax(model.forward(batch, false).logits).dataSync(); });
      ms += performance.now() - t0;
    }
    return ms / (bs * n);
  };
  extract(1, 3);
  const ms1 = extract(1, 50);
  const ms32 = extract(32, 5);
  const achieved = flops / (trainMs / 1000) / 1e9;
  const matmul = measureMatmulRate();
  sample();
  clearInterval(timer);
  console.log(JSON.stringify({
    bench: 're-lite', backend: report.backend, embeddings: f.embeddings, embeddingLength: D, hidden, batch: B, steps,
    trainSentencesPerSec: sentences / (trainMs / 1000), extractMsPerSentenceBatch1: ms1, extractMsPerSentenceBatch32: ms32,
    achievedGflops: achieved, matmulGflops: matmul, fractionOfMatmulRate: achieved / matmul,
    peakRssMB: Math.round(peakRss / 2 ** 20), tfBytesMB: Math.round(tf.memory().numBytes / 2 ** 20),
  }));
});
