// nx run cse-lm:embed -- --input sentences.txt [--out vectors.jsonl] — one sentence a line → one JSON line a
// sentence: {line, tokens, layers}, layers holding one layer of per-token CSE vectors (forward ++ backward LM states).
import { resolve } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import {
  COMMON_FLAGS, Progress, artifactDir, defineCommand, initBackend, openJsonlOutput, pick, readTextLines, runCli, writeJsonlInBatches,
} from '@biore/runtime';
import { words } from '@biore/text';
import { CharLMEmbedder } from '@biore/embeddings';

const command = defineCommand({
  name: 'cse-lm:embed',
  summary: 'contextual string embeddings of raw text: one sentence a line in, one JSON line {line, tokens, layers} a sentence out',
  examples: ['npx nx run cse-lm:embed -- --input sentences.txt --out vectors.jsonl', 'npx nx run cse-lm:embed -- --input tokens.txt --tokenizer whitespace --digits 4'],
  flags: {
    input: { ...COMMON_FLAGS.input, required: true, description: 'text file, one sentence a line (a blank line gives a record with no tokens)' },
    out: { ...COMMON_FLAGS.out, placeholder: 'FILE', description: 'JSON-lines file to write (stdout when absent)' },
    forward: { type: 'string', placeholder: 'DIR', description: 'forward LM folder (artifacts/cse-lm/forward when absent)' },
    backward: { type: 'string', placeholder: 'DIR', description: 'backward LM folder (artifacts/cse-lm/backward when absent)' },
    ...pick(COMMON_FLAGS, 'tokenizer', 'digits', 'backend'),
    batch: { ...COMMON_FLAGS.batch, description: 'sentences per LM pass' },
  },
  positional: 'input',
});

runCli(async () => {
  const f = command.parse();
  const lines = readTextLines(f.input);
  const tokenize = f.tokenizer === 'whitespace' ? (s: string) => s.split(/\s+/).filter(Boolean) : words;
  const backend = await initBackend(f.backend);
  const fwDir = resolve(f.forward ?? artifactDir('cse-lm/forward'));
  const bwDir = resolve(f.backward ?? artifactDir('cse-lm/backward'));
  console.error(`backend: ${backend.backend}; forward LM ${fwDir}; backward LM ${bwDir}; tokenizer ${f.tokenizer}`);
  const embedder = CharLMEmbedder.load(fwDir, bwDir, { batchSize: f.batch });
  const out = openJsonlOutput(f.out && resolve(f.out));
  const round = (x: number) => Number(x.toFixed(f.digits));
  await writeJsonlInBatches(lines, f.batch, out, new Progress('embed', lines.length, 'sentences'), (batch, start) => {
    const sents = batch.map(tokenize);
    const nonEmpty = sents.filter((s) => s.length > 0);
    const vecs = nonEmpty.length ? tf.tidy(() => embedder.embed(nonEmpty).arraySync()) : [];
    let k = 0;
    return sents.map((tokens, j) => {
      const v = tokens.length ? vecs[k++] : [];
      return { line: start + j + 1, tokens, layers: [tokens.map((_, t) => v[t].map(round))] };
    });
  });
  console.error(`${lines.length} sentences, ${embedder.embeddingLength}-dimensional vectors (1 layer)${f.out ? ` → ${resolve(f.out)}` : ''}`);
  embedder.dispose();
});
