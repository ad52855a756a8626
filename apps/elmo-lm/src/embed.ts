// nx run elmo-lm:embed — writes each sentence's tokens and its ELMo layers (token ++ token, then each LSTM
// layer forward ++ backward) as JSON lines, from a published biLM (--options/--weights) or one trained here (--model).
import { existsSync, readFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs-core';
import { Progress, UserError, initBackend, numFlag, openAtomicWriter, parseFlags, runCli } from '@biore/runtime';
import { loadBilm, loadBilmHdf5, type BidirectionalLM } from '@biore/elmo';

runCli(async () => {
  const { values: f } = parseFlags({
    options: { type: 'string' }, weights: { type: 'string' }, model: { type: 'string' },
    input: { type: 'string' }, out: { type: 'string' }, 'batch-size': { type: 'string' }, backend: { type: 'string' },
  });
  if (!f.input || !f.out) throw new UserError('usage: elmo-lm:embed (--options options.json --weights weights.hdf5 | --model DIR) --input sentences.txt --out F.jsonl');
  if (!existsSync(f.input)) throw new UserError('input file not found', { file: f.input });
  const backend = await initBackend(f.backend);
  console.error(`tfjs backend: ${backend.backend} (${backend.package})`);
  let bilm: BidirectionalLM;
  if (f.model) bilm = loadBilm(f.model).model;
  else if (f.options && f.weights) bilm = await loadBilmHdf5(f.options, f.weights);
  else throw new UserError('give --model DIR, or --options and --weights');
  // one whitespace-tokenized sentence a line; blank lines give an empty record so lines stay aligned
  const sentences = readFileSync(f.input, 'utf8').split('\n').map((l) => l.trim().split(/\s+/).filter(Boolean));
  if (sentences.length && sentences[sentences.length - 1].length === 0) sentences.pop();
  const bs = numFlag(f['batch-size'], 'batch-size', 16);
  const w = openAtomicWriter(f.out);
  const progress = new Progress('embed', sentences.length, 'sentences');
  const fmt = (v: number) => +v.toPrecision(7);
  try {
    for (let i = 0; i < sentences.length; i += bs) {
      const batch = sentences.slice(i, i + bs);
      const layers = bilm.elmoLayers(batch);
      const host = layers.map((t) => t.arraySync() as number[][][]);
      tf.dispose(layers);
      for (let b = 0; b < batch.length; b++) {
        const rec = { tokens: batch[b], layers: host.map((l) => l[b].slice(0, batch[b].length).map((v) => v.map(fmt))) };
        await w.write(JSON.stringify(rec) + '\n');
      }
      progress.tick(batch.length);
    }
    await w.commit();
  } catch (e) {
    w.abort();
    throw e;
  }
  progress.end();
  console.error(`${sentences.length} sentences → ${f.out} (${bilm.forwardLayers.length + 1} layers × ${2 * bilm.dim} per token)`);
  bilm.dispose();
});
