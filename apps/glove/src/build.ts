import { resolve } from 'node:path';
import { COMMON_FLAGS, artifactDir, defineCommand, ensureWritableDir, pick, runCli } from '@biore/runtime';
import { buildGlove, corpusSource, localTextSource } from '@biore/glove';
import { GLOVE_FLAGS, buildOptions } from './flags.ts';

const command = defineCommand({
  name: 'glove:build',
  summary: 'counts, shuffles and trains GloVe vectors (Stanford GloVe\'s four stages, each skipped when its output is current); prints one JSON line',
  examples: ['npx nx run glove:build -- --corpus artifacts/corpus/local-all --dim 100 --iterations 15', 'npx nx run glove:build -- --force --threads 1'],
  flags: {
    ...GLOVE_FLAGS,
    out: { ...COMMON_FLAGS.out, description: 'artifact folder (vectors.bin, words.txt, config.json); artifacts/glove when absent' },
    resume: { ...COMMON_FLAGS.resume, description: 'continue training from the last per-iteration checkpoint' },
    ...pick(COMMON_FLAGS, 'force'),
  },
});

runCli(async () => {
  const f = command.parse();
  const opts = buildOptions(f);
  const source = f.corpus ? corpusSource(resolve(f.corpus)) : localTextSource(f.data);
  const dir = ensureWritableDir(f.out ? resolve(f.out) : artifactDir('glove'));
  if (!opts.quiet) process.stderr.write(`glove: corpus ${source.description.split('\n')[0]} (${source.files.length} files) → ${dir}\n`);
  const r = await buildGlove(source, dir, opts);
  const last = r.history[r.history.length - 1];
  console.log(JSON.stringify({ dir: r.dir, vocabSize: r.vocabSize, tokens: r.tokens, records: r.records, iterations: r.history.length, finalCost: last?.cost, seconds: r.seconds, skipped: r.skipped }));
});
