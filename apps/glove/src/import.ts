import { resolve } from 'node:path';
import { Progress, UserError, parseFlags, runCli } from '@biore/runtime';
import { loadGloveText, writeGloveArtifact } from '@biore/glove';

/**
 * nx run glove:import --txt glove.6B.100d.txt --out DIR
 * Converts a published Stanford GloVe .txt into the binary lookup folder (vectors.bin, words.txt, config.json)
 * that GloveEmbedder.load reads.
 */
runCli(async () => {
  const { values } = parseFlags({ txt: { type: 'string' }, out: { type: 'string' }, quiet: { type: 'boolean' } });
  if (!values.txt || !values.out) throw new UserError('usage: nx run glove:import --txt FILE.txt --out DIR');
  const txt = resolve(values.txt);
  const out = resolve(values.out);
  const quiet = Boolean(values.quiet);
  let p: Progress | undefined;
  let last = 0;
  const v = await loadGloveText(txt, {
    onProgress: (bytes, total) => {
      p ??= new Progress(`import ${txt}`, Math.ceil(total / 1e6), 'MB', quiet);
      const mb = Math.floor(bytes / 1e6);
      if (mb > last) { p.tick(mb - last); last = mb; }
    },
  });
  p?.end();
  // published 6B/42B vectors are lowercased, 840B are not: record what the vocabulary shows
  const lowercase = !v.words.some((w) => w !== w.toLowerCase());
  writeGloveArtifact(out, v, { lowercase, vectors: 'imported', source: txt, duplicates: v.duplicates });
  console.log(JSON.stringify({ out, vocabSize: v.words.length, dim: v.dim, lowercase, duplicates: v.duplicates }));
});
