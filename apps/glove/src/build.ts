import { resolve } from 'node:path';
import { artifactDir, runCli } from '@biore/runtime';
import { buildGlove, corpusSource, localTextSource } from '@biore/glove';
import { parseBuildFlags } from './flags.ts';

/**
 * nx run glove:build [--corpus PATH | --data DIR] [--out DIR] [--dim 100 --window 15 --min-count 5 --x-max 10
 *   --iterations 15 --threads 2 --seed 42 --memory 1024 --cased --resume --force]
 * Counts, shuffles and trains GloVe vectors; prints one JSON line with the artifact folder and final cost.
 */
runCli(async () => {
  const { opts, corpus, data, out } = parseBuildFlags();
  const source = corpus ? corpusSource(resolve(corpus)) : localTextSource(data);
  const dir = out ? resolve(out) : artifactDir('glove');
  if (!opts.quiet) process.stderr.write(`glove: corpus ${source.description.split('\n')[0]} (${source.files.length} files) → ${dir}\n`);
  const r = await buildGlove(source, dir, opts);
  const last = r.history[r.history.length - 1];
  console.log(JSON.stringify({ dir: r.dir, vocabSize: r.vocabSize, tokens: r.tokens, records: r.records, iterations: r.history.length, finalCost: last?.cost, seconds: r.seconds, skipped: r.skipped }));
});
