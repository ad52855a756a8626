// nx run elmo-lm:embed — each sentence's tokens and its ELMo layers (token ++ token, then each LSTM layer
// forward ++ backward) as JSON lines {line, tokens, layers}, from a biLM trained here (--model) or a published one.
import { resolve } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { COMMON_FLAGS, Progress, UserError, defineCommand, initBackend, openJsonlOutput, pick, readTextLines, runCli, writeJsonlInBatches } from '@biore/runtime';
import { words } from '@biore/text';
import { BILM_FLAGS, bilmFromFlags } from './bilm-flags.ts';

const command = defineCommand({
  name: 'elmo-lm:embed',
  summary: 'ELMo layers of raw text: one sentence a line in, one JSON line {line, tokens, layers} a sentence out',
  examples: ['npx nx run elmo-lm:embed -- --model artifacts/elmo-lm --input sentences.txt --out layers.jsonl', 'npx nx run elmo-lm:embed -- --options options.json --weights weights.hdf5 --input tokens.txt --tokenizer whitespace'],
  flags: {
    ...BILM_FLAGS,
    input: { ...COMMON_FLAGS.input, required: true, description: 'text file, one sentence a line (a blank line gives a record with no tokens)' },
    out: { ...COMMON_FLAGS.out, placeholder: 'FILE', description: 'JSON-lines file to write (stdout when absent)' },
    ...pick(COMMON_FLAGS, 'tokenizer', 'digits', 'backend'),
    batch: { ...COMMON_FLAGS.batch, default: 16, description: 'sentences per biLM pass' },
  },
  positional: 'input',
});

runCli(async () => {
  const f = command.parse();
  const lines = readTextLines(f.input);
  const tokenize = f.tokenizer === 'whitespace' ? (s: string) => s.split(/\s+/).filter(Boolean) : words;
  const backend = await initBackend(f.backend);
  console.error(`tfjs backend: ${backend.backend} (${backend.package}); tokenizer ${f.tokenizer}`);
  const found = await bilmFromFlags(f);
  if (!found) throw new UserError('give --model DIR (from elmo-lm:pretrain), or --options options.json with --weights weights.hdf5');
  const { bilm } = found;
  const out = openJsonlOutput(f.out && resolve(f.out));
  const round = (x: number) => Number(x.toFixed(f.digits));
  await writeJsonlInBatches(lines, f.batch, out, new Progress('embed', lines.length, 'sentences'), (batch, start) => {
    const sents = batch.map(tokenize);
    const layers = bilm.elmoLayers(sents);
    const host = layers.map((t) => t.arraySync() as number[][][]);
    tf.dispose(layers);
    return sents.map((tokens, b) => ({ line: start + b + 1, tokens, layers: host.map((l) => l[b].slice(0, tokens.length).map((v) => v.map(round))) }));
  });
  console.error(`${lines.length} sentences${f.out ? ` → ${resolve(f.out)}` : ''} (${bilm.forwardLayers.length + 1} layers × ${2 * bilm.dim} per token)`);
  bilm.dispose();
});
