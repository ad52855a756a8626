// nx run elmo-lm:bench — JSON: biLM training tokens/s at the default small size, embedding ms/sentence, peak memory.
import { readFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs-core';
import { COMMON_FLAGS, Rng, defineCommand, findData, initBackend, pick, runCli } from '@biore/runtime';
import { BidirectionalLM, BilmTrainer, BilmVocabulary, DEFAULT_TRAIN_SETTINGS, smallBilmOptions, toSequences, tokenizeDocument } from '@biore/elmo';
import { BILM_FLAGS, bilmFromFlags } from './bilm-flags.ts';

const command = defineCommand({
  name: 'elmo-lm:bench',
  summary: 'biLM training tokens/s at the default small size, embedding ms/sentence and peak memory, as JSON',
  examples: ['npx nx run elmo-lm:bench', 'npx nx run elmo-lm:bench -- --model artifacts/elmo-lm --sentences 128'],
  flags: {
    steps: { type: 'int', min: 1, default: 5, description: 'timed training steps (after one warm-up step)' },
    sentences: { type: 'int', min: 1, default: 64, description: 'sentences embedded for the ms/sentence figure' },
    ...BILM_FLAGS,
    ...pick(COMMON_FLAGS, 'data', 'backend'),
  },
});

runCli(async () => {
  const f = command.parse();
  const backend = await initBackend(f.backend);
  let peakRss = process.memoryUsage().rss;
  let peakTf = 0;
  const sample = () => { peakRss = Math.max(peakRss, process.memoryUsage().rss); peakTf = Math.max(peakTf, tf.memory().numBytes); };
  const timer = setInterval(sample, 50);
  const { path } = findData('text/pubmed/PubMedAbstract_1MB.txt', f.data);
  const docs = readFileSync(path, 'utf8').split('\n').filter((l) => l.trim()).slice(0, 200);
  const sents = docs.flatMap(tokenizeDocument);
  const counts = new Map<string, number>();
  for (const s of sents) for (const w of s) counts.set(w, (counts.get(w) ?? 0) + 1);
  const vocab = BilmVocabulary.fromCounts(counts, { minCount: 2 });
  const options = smallBilmOptions();
  const model = new BidirectionalLM(options, vocab.size, new Rng(1));
  const trainer = new BilmTrainer(model, vocab, toSequences(sents, options.unroll_steps!), { ...DEFAULT_TRAIN_SETTINGS, checkpointEvery: 0 });
  trainer.step(); // warm-up: kernels, optimizer slots
  const steps = f.steps;
  let tokens = 0;
  const t0 = performance.now();
  for (let i = 0; i < steps; i++) { tokens += trainer.step().tokens; sample(); }
  const trainSeconds = (performance.now() - t0) / 1000;
  trainer.dispose();
  let embedder = model;
  let embedModel = 'default small biLM (untrained)';
  const given = await bilmFromFlags(f);
  if (given) { embedder = given.bilm; embedModel = given.source; }
  const n = f.sentences;
  const test = sents.slice(0, n);
  tf.dispose(embedder.elmoLayers(test.slice(0, 8)));
  const t1 = performance.now();
  for (let i = 0; i < test.length; i += 16) { tf.dispose(embedder.elmoLayers(test.slice(i, i + 16))); sample(); }
  const embedMs = (performance.now() - t1) / test.length;
  clearInterval(timer);
  sample();
  console.log(JSON.stringify({
    backend: backend.backend, threads: backend.threads ?? null,
    model: { lstm: options.lstm, filters: options.char_cnn.filters, vocab: vocab.size, batch: options.batch_size, window: options.unroll_steps, softmax: `sampled, ${options.n_negative_samples_batch} negatives` },
    trainTokensPerSecond: Math.round(tokens / trainSeconds), trainSteps: steps, trainTokens: tokens,
    embedModel, embedMsPerSentence: +embedMs.toFixed(2), embedSentences: test.length, meanSentenceTokens: +(test.reduce((s, x) => s + x.length, 0) / test.length).toFixed(1),
    peakRssMB: Math.round(peakRss / 2 ** 20), peakTensorMB: Math.round(peakTf / 2 ** 20), loadAverage: (await import('node:os')).loadavg()[0],
  }));
});
