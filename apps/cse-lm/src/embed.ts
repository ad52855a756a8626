// nx run cse-lm:embed --input sentences.txt [--output vectors.jsonl] — one sentence a line → one JSON line of
// per-word CSE vectors (forward ++ backward LM states) a sentence.
import { readFileSync, existsSync } from 'node:fs';
import { resolve } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { UserError, artifactDir, initBackend, numFlag, openAtomicWriter, parseFlags, runCli, Progress } from '@biore/runtime';
import { words } from '@biore/text';
import { CharLMEmbedder } from '@biore/embeddings';

async function main(): Promise<void> {
  const { values: f, positionals } = parseFlags({
    input: { type: 'string' },
    output: { type: 'string' },
    forward: { type: 'string' },
    backward: { type: 'string' },
    tokenizer: { type: 'string', default: 'words' },
    batch: { type: 'string' },
    digits: { type: 'string' },
    backend: { type: 'string' },
  });
  const input = f.input ?? positionals[0];
  if (!input) throw new UserError('usage: nx run cse-lm:embed --input sentences.txt [--output vectors.jsonl] [--forward DIR --backward DIR] [--tokenizer words|whitespace]');
  if (!existsSync(input)) throw new UserError('input file not found', { file: input });
  const tokenize = f.tokenizer === 'whitespace' ? (s: string) => s.split(/\s+/).filter(Boolean) : f.tokenizer === 'words' ? words : undefined;
  if (!tokenize) throw new UserError(`--tokenizer expects words or whitespace, got '${f.tokenizer}'`);
  const backend = await initBackend(f.backend);
  const fwDir = resolve(f.forward ?? artifactDir('cse-lm/forward'));
  const bwDir = resolve(f.backward ?? artifactDir('cse-lm/backward'));
  console.error(`backend: ${backend.backend}; forward LM ${fwDir}; backward LM ${bwDir}`);
  const batch = numFlag(f.batch, 'batch', 32);
  const digits = numFlag(f.digits, 'digits', 6);
  const embedder = CharLMEmbedder.load(fwDir, bwDir, { batchSize: batch });
  const lines = readFileSync(input, 'utf8').split('\n').map((l) => l.replace(/\r$/, ''));
  if (lines[lines.length - 1] === '') lines.pop();
  const out = f.output ? openAtomicWriter(resolve(f.output)) : undefined;
  const write = async (s: string) => (out ? out.write(s) : void process.stdout.write(s));
  const progress = new Progress('embed', lines.length, 'sentences');
  try {
    for (let i = 0; i < lines.length; i += batch) {
      const sents = lines.slice(i, i + batch).map((l) => tokenize(l));
      const vecs = tf.tidy(() => embedder.embed(sents).arraySync());
      for (let j = 0; j < sents.length; j++) {
        const vectors = sents[j].map((_, t) => vecs[j][t].map((x) => Number(x.toFixed(digits))));
        await write(JSON.stringify({ line: i + j + 1, tokens: sents[j], vectors }) + '\n');
      }
      progress.tick(sents.length);
    }
    await out?.commit();
  } catch (e) {
    out?.abort();
    throw e;
  }
  progress.end();
  console.error(`${lines.length} sentences, ${embedder.embeddingLength}-dimensional vectors${f.output ? ` → ${resolve(f.output)}` : ''}`);
  embedder.dispose();
}

runCli(main);
