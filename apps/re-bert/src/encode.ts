// nx run re-bert:encode --model DIR --input sentences.txt --layers all|last --out F.jsonl
// One JSON line per input sentence: its word pieces and, per chosen layer, each piece's hidden state.
import * as tf from '@tensorflow/tfjs-core';
import { existsSync, readFileSync } from 'node:fs';
import { numFlag, openAtomicWriter, parseFlags, Progress, runCli, startBackend, UserError } from '@biore/runtime';
import { loadBertAny } from '@biore/bert';

runCli(async () => {
  const { values: f } = parseFlags({
    model: { type: 'string' }, input: { type: 'string' }, out: { type: 'string' }, layers: { type: 'string', default: 'last' },
    'max-length': { type: 'string' }, batch: { type: 'string' }, digits: { type: 'string' }, backend: { type: 'string' },
  });
  if (!f.model || !f.input || !f.out) throw new UserError('usage: re-bert:encode --model DIR --input sentences.txt --layers all|last --out F.jsonl');
  if (f.layers !== 'all' && f.layers !== 'last') throw new UserError(`--layers must be all or last, got '${f.layers}'`);
  if (!existsSync(f.input)) throw new UserError('input file not found', { file: f.input });
  const report = await startBackend(f.backend);
  const { model, tokenizer, config } = await loadBertAny(f.model);
  const maxLength = Math.min(numFlag(f['max-length'], 'max-length', 512), config.max_position_embeddings);
  const batchSize = numFlag(f.batch, 'batch', 16);
  const digits = numFlag(f.digits, 'digits', 6);
  const sentences = readFileSync(f.input, 'utf8').split('\n').map((l) => l.replace(/\r$/, '')).filter((l) => l.trim());
  const layerIds = f.layers === 'all' ? Array.from({ length: config.num_hidden_layers + 1 }, (_, i) => i) : [config.num_hidden_layers];
  process.stderr.write(`encoding ${sentences.length} sentences with ${f.model} (layers ${f.layers}: ${layerIds.join(',')}; backend ${report.backend}) -> ${f.out}\n`);
  const w = openAtomicWriter(f.out);
  const progress = new Progress('encode', sentences.length, 'sent');
  const round = (x: number) => Number(x.toFixed(digits));
  try {
    for (let s = 0; s < sentences.length; s += batchSize) {
      const encs = sentences.slice(s, s + batchSize).map((t) => tokenizer.encode(t, maxLength));
      const B = encs.length, T = Math.max(...encs.map((e) => e.ids.length));
      const ids = new Int32Array(B * T), mask = new Float32Array(B * T);
      encs.forEach((e, b) => e.ids.forEach((id, t) => { ids[b * T + t] = id; mask[b * T + t] = 1; }));
      const states = tf.tidy(() => {
        const out = model.forward({ inputIds: tf.tensor2d(ids, [B, T], 'int32'), attentionMask: tf.tensor2d(mask, [B, T]) });
        return layerIds.map((l) => out.hiddenStates[l].arraySync());
      });
      for (let b = 0; b < B; b++) {
        const n = encs[b].ids.length;
        await w.write(JSON.stringify({
          sentence: sentences[s + b], pieces: encs[b].pieces, wordIndex: encs[b].wordIndex, layers: layerIds,
          hidden: states.map((st) => st[b].slice(0, n).map((v) => v.map(round))),
        }) + '\n');
      }
      progress.tick(B);
    }
    progress.end();
    await w.commit();
  } catch (e) {
    w.abort();
    throw e;
  }
  model.dispose();
});
