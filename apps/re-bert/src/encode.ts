// nx run re-bert:encode -- --model DIR --input sentences.txt --layers all|last --out F.jsonl
// One JSON line per input line, {line, tokens, layers, …}: its word pieces and, per chosen layer, each piece's hidden state.
import * as tf from '@tensorflow/tfjs-core';
import { resolve } from 'node:path';
import { COMMON_FLAGS, Progress, defineCommand, openJsonlOutput, pick, readTextLines, runCli, startBackend, writeJsonlInBatches } from '@biore/runtime';
import { loadBertAny } from '@biore/bert';

const command = defineCommand({
  name: 're-bert:encode',
  summary: 'BERT hidden states of raw text: one sentence a line in, one JSON line {line, tokens (word pieces), layers, layerIds, wordIndex} a sentence out',
  examples: ['npx nx run re-bert:encode -- --model artifacts/bert --input sentences.txt --layers all --out states.jsonl'],
  flags: {
    model: { ...COMMON_FLAGS.model, required: true, description: 'a BERT folder (config.json, vocab.txt, weights)' },
    input: { ...COMMON_FLAGS.input, required: true, description: 'text file, one sentence a line (a blank line gives a record with no tokens)' },
    out: { ...COMMON_FLAGS.out, placeholder: 'FILE', description: 'JSON-lines file to write (stdout when absent)' },
    layers: { type: 'string', choices: ['all', 'last'], default: 'last', description: 'which hidden states: the embeddings and every layer (all), or the last layer' },
    'max-length': { ...COMMON_FLAGS['max-length'], default: 512, description: 'word pieces a sentence, [CLS] and [SEP] included (capped at the model\'s positions)' },
    batch: { ...COMMON_FLAGS.batch, default: 16, description: 'sentences per forward pass' },
    ...pick(COMMON_FLAGS, 'digits', 'backend'),
  },
  positional: 'input',
});

runCli(async () => {
  const f = command.parse();
  const lines = readTextLines(f.input);
  const report = await startBackend(f.backend);
  const { model, tokenizer, config } = await loadBertAny(f.model);
  const maxLength = Math.min(f['max-length'], config.max_position_embeddings);
  const layerIds = f.layers === 'all' ? Array.from({ length: config.num_hidden_layers + 1 }, (_, i) => i) : [config.num_hidden_layers];
  process.stderr.write(`encoding ${lines.length} sentences with ${f.model} (layers ${f.layers}: ${layerIds.join(',')}; backend ${report.backend})${f.out ? ` -> ${f.out}` : ''}\n`);
  const round = (x: number) => Number(x.toFixed(f.digits));
  const out = openJsonlOutput(f.out && resolve(f.out));
  await writeJsonlInBatches(lines, f.batch, out, new Progress('encode', lines.length, 'sentences'), (batch, start) => {
    const encs = batch.map((t) => (t.trim() ? tokenizer.encode(t, maxLength) : undefined));
    const live = encs.filter((e) => e !== undefined);
    const B = live.length, T = Math.max(0, ...live.map((e) => e.ids.length));
    const ids = new Int32Array(B * T), mask = new Float32Array(B * T);
    live.forEach((e, b) => e.ids.forEach((id, t) => { ids[b * T + t] = id; mask[b * T + t] = 1; }));
    const states = B === 0 ? [] : tf.tidy(() => {
      const o = model.forward({ inputIds: tf.tensor2d(ids, [B, T], 'int32'), attentionMask: tf.tensor2d(mask, [B, T]) });
      return layerIds.map((l) => o.hiddenStates[l].arraySync());
    });
    let b = 0;
    return encs.map((e, j) => {
      if (!e) return { line: start + j + 1, tokens: [], layers: layerIds.map(() => []), layerIds, wordIndex: [] };
      const n = e.ids.length, k = b++;
      return { line: start + j + 1, tokens: e.pieces, layers: states.map((st) => st[k].slice(0, n).map((v) => v.map(round))), layerIds, wordIndex: e.wordIndex };
    });
  });
  model.dispose();
});
