// nx run re-bert:bench — BERT feature extraction speed: ms per sentence at batch 1 and 32, and peak memory, as JSON.
// Either a BERT folder (--model DIR) or a random BERT of a given size (--hidden --layers --heads --intermediate --vocab).
import * as tf from '@tensorflow/tfjs-core';
import { COMMON_FLAGS, checkFlagValue, defineCommand, measureMatmulRate, runCli, startBackend } from '@biore/runtime';
import { BertModel, loadBertAny, parseBertConfig } from '@biore/bert';

const command = defineCommand({
  name: 're-bert:bench',
  summary: 'BERT feature-extraction speed as one JSON object: ms per sentence at each batch size, GFLOP/s, peak memory; a BERT folder or a random BERT of a given size',
  examples: ['npx nx run re-bert:bench', 'npx nx run re-bert:bench -- --model artifacts/bert --batches 1,8,32 --max-length 64'],
  flags: {
    model: { ...COMMON_FLAGS.model, description: 'a BERT folder (a random BERT of the sizes below when absent)' },
    hidden: { ...COMMON_FLAGS.hidden, default: 128, description: 'random BERT: hidden size (a multiple of --heads)' },
    layers: { ...COMMON_FLAGS.layers, default: 2, description: 'random BERT: transformer layers' },
    heads: { type: 'int', min: 1, default: 2, description: 'random BERT: attention heads' },
    intermediate: { type: 'int', min: 1, default: 512, description: 'random BERT: feed-forward size' },
    vocab: { type: 'int', min: 10, default: 8000, description: 'random BERT: vocabulary size' },
    'max-length': { ...COMMON_FLAGS['max-length'], default: 128, description: 'word pieces a sentence (capped at the model\'s positions)' },
    seconds: { type: 'number', min: 0, exclusiveMin: true, default: 3, description: 'seconds timed at each batch size' },
    batches: { type: 'string', default: '1,32', placeholder: 'B,B', description: 'batch sizes to time, comma-separated' },
    backend: COMMON_FLAGS.backend,
  },
});

runCli(async () => {
  const f = command.parse();
  const batchFlag = { ...COMMON_FLAGS.batch, default: undefined };
  const batches = f.batches.split(',').map((x) => checkFlagValue('batches', batchFlag, x.trim()) as number);
  const report = await startBackend(f.backend);
  const model = f.model ? (await loadBertAny(f.model)).model : new BertModel(parseBertConfig({
    vocab_size: f.vocab, hidden_size: f.hidden, num_hidden_layers: f.layers,
    num_attention_heads: f.heads, intermediate_size: f.intermediate, max_position_embeddings: 512,
  }, '--flags'), { seed: 1 });
  const c = model.config;
  const T = Math.min(f['max-length'], c.max_position_embeddings);
  const seconds = f.seconds;
  let peakRss = process.memoryUsage().rss, peakTf = tf.memory().numBytes;
  const sample = () => { peakRss = Math.max(peakRss, process.memoryUsage().rss); peakTf = Math.max(peakTf, tf.memory().numBytes); };
  const results: Record<string, unknown>[] = [];
  for (const B of batches) {
    const ids = tf.tidy(() => tf.randomUniform([B, T], 5, c.vocab_size, 'int32', 7)) as tf.Tensor2D;
    const mask = tf.ones([B, T]) as tf.Tensor2D;
    const run = () => tf.tidy(() => {
      const out = model.forward({ inputIds: ids, attentionMask: mask });
      sample();
      out.lastHiddenState.dataSync();
    });
    run(); // warm-up: kernels compiled, buffers allocated
    let n = 0;
    const t0 = performance.now();
    while (performance.now() - t0 < seconds * 1000 || n < 2) { run(); n++; sample(); }
    const ms = (performance.now() - t0) / n;
    // encoder multiply-adds per sentence: projections and feed-forward per token, plus the two attention matmuls
    const flops = 2 * c.num_hidden_layers * (T * (4 * c.hidden_size * c.hidden_size + 2 * c.hidden_size * c.intermediate_size) + 2 * T * T * c.hidden_size);
    results.push({ batch: B, msPerBatch: Number(ms.toFixed(2)), msPerSample: Number((ms / B).toFixed(3)), gflopPerSecond: Number(((flops * B) / (ms / 1000) / 1e9).toFixed(2)) });
    tf.dispose([ids, mask]);
  }
  console.log(JSON.stringify({
    backend: report.backend, package: report.package, simd: report.simd, threads: report.threads,
    model: f.model ?? 'random', hidden: c.hidden_size, layers: c.num_hidden_layers, heads: c.num_attention_heads, intermediate: c.intermediate_size, maxLength: T,
    results, peakRssMB: Math.round(peakRss / 2 ** 20), peakTensorMB: Math.round(peakTf / 2 ** 20), matmulGflops: Number(measureMatmulRate(512, 1).toFixed(1)),
  }));
  model.dispose();
});
