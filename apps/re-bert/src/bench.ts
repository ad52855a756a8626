// nx run re-bert:bench — BERT feature extraction speed: ms per sentence at batch 1 and 32, and peak memory, as JSON.
// Either a BERT folder (--model DIR) or a random BERT of a given size (--hidden --layers --heads --intermediate --vocab).
import * as tf from '@tensorflow/tfjs-core';
import { measureMatmulRate, numFlag, parseFlags, runCli, startBackend } from '@biore/runtime';
import { BertModel, loadBertAny, parseBertConfig } from '@biore/bert';

runCli(async () => {
  const { values: f } = parseFlags({
    model: { type: 'string' }, hidden: { type: 'string' }, layers: { type: 'string' }, heads: { type: 'string' }, intermediate: { type: 'string' },
    vocab: { type: 'string' }, 'max-length': { type: 'string' }, seconds: { type: 'string' }, batches: { type: 'string' }, backend: { type: 'string' },
  });
  const report = await startBackend(f.backend);
  const model = f.model ? (await loadBertAny(f.model)).model : new BertModel(parseBertConfig({
    vocab_size: numFlag(f.vocab, 'vocab', 8000), hidden_size: numFlag(f.hidden, 'hidden', 128), num_hidden_layers: numFlag(f.layers, 'layers', 2),
    num_attention_heads: numFlag(f.heads, 'heads', 2), intermediate_size: numFlag(f.intermediate, 'intermediate', 512), max_position_embeddings: 512,
  }, '--flags'), { seed: 1 });
  const c = model.config;
  const T = Math.min(numFlag(f['max-length'], 'max-length', 128), c.max_position_embeddings);
  const seconds = numFlag(f.seconds, 'seconds', 3);
  const batches = (f.batches ?? '1,32').split(',').map((x) => numFlag(x, 'batches', 1));
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
