import { dirname, resolve } from 'node:path';
import { COMMON_FLAGS, Progress, defineCommand, ensureWritableDir, runCli } from '@biore/runtime';
import { loadGloveText, writeGloveArtifact } from '@biore/glove';

const command = defineCommand({
  name: 'glove:import',
  summary: 'converts a published Stanford GloVe .txt into the binary lookup folder (vectors.bin, words.txt, config.json) that GloveEmbedder.load reads',
  examples: ['npx nx run glove:import -- --input glove.6B.100d.txt --out artifacts/glove-6B-100d'],
  flags: {
    input: { ...COMMON_FLAGS.input, required: true, deprecated: ['txt'], description: 'the GloVe text file: one word and its vector components a line' },
    out: { ...COMMON_FLAGS.out, required: true, description: 'artifact folder to write (replaced whole)' },
    quiet: COMMON_FLAGS.quiet,
  },
});

runCli(async () => {
  const f = command.parse();
  const txt = resolve(f.input);
  const out = resolve(f.out);
  ensureWritableDir(dirname(out));
  let p: Progress | undefined;
  let last = 0;
  const v = await loadGloveText(txt, {
    onProgress: (bytes, total) => {
      p ??= new Progress(`import ${txt}`, total, 'bytes', f.quiet, 0, { bytes: true });
      p.tick(bytes - last);
      last = bytes;
    },
  });
  p?.end(`${v.words.length} words`);
  // published 6B/42B vectors are lowercased, 840B are not: record what the vocabulary shows
  const lowercase = !v.words.some((w) => w !== w.toLowerCase());
  writeGloveArtifact(out, v, { lowercase, vectors: 'imported', source: txt, duplicates: v.duplicates });
  console.log(JSON.stringify({ out, vocabSize: v.words.length, dim: v.dim, lowercase, duplicates: v.duplicates }));
});
