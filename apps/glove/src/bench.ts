import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { defineCommand, runCli } from '@biore/runtime';
import { buildGlove, corpusSource, localTextSource } from '@biore/glove';
import { GLOVE_FLAGS, buildOptions } from './flags.ts';

const command = defineCommand({
  name: 'glove:bench',
  summary: 'times the whole GloVe pipeline on the data root\'s text (every stage forced, in a temporary folder) beside Stanford\'s C tools; prints one JSON object',
  examples: ['npx nx run glove:bench', 'npx nx run glove:bench -- --threads 1 --iterations 3'],
  flags: GLOVE_FLAGS,
});

/**
 * nx run glove:bench: the whole pipeline on ../shared/data/text with the settings (window 15, dim 100,
 * x_max 10, 15 iterations, 2 threads), in a temporary folder, every stage forced (the build defaults are those settings). Prints one JSON object.
 * Reference (Stanford's C tools, 2 threads, this machine): count+shuffle 4.8 s, 4.5 s/iteration, cost 0.0225.
 */
runCli(async () => {
  const f = command.parse();
  const opts = buildOptions(f);
  const dir = mkdtempSync(join(tmpdir(), 'biore-glove-bench-'));
  const load0 = loadavg()[0];
  try {
    const t0 = performance.now();
    const r = await buildGlove(f.corpus ? corpusSource(resolve(f.corpus)) : localTextSource(f.data), dir, { ...opts, force: true });
    const wall = (performance.now() - t0) / 1000;
    const s = r.seconds;
    const countShuffle = (s.vocab ?? 0) + (s.cooccur ?? 0) + (s.shuffle ?? 0);
    const perIteration = r.history.reduce((a, h) => a + h.seconds, 0) / Math.max(1, r.history.length);
    const finalCost = r.history[r.history.length - 1]?.cost;
    const ref = { countShuffleSeconds: 4.8, secondsPerIteration: 4.5, finalCost: 0.0225 };
    console.log(JSON.stringify({
      tokens: r.tokens, vocabSize: r.vocabSize, records: r.records,
      options: { dim: opts.dim, window: opts.window, xMax: opts.xMax, iterations: opts.iterations, threads: opts.threads, minCount: opts.minCount, memoryMB: opts.memoryMB },
      seconds: { vocab: s.vocab, cooccur: s.cooccur, shuffle: s.shuffle, countShuffle, train: s.train, wall },
      secondsPerIteration: perIteration,
      // CPU seconds (all threads): on a loaded shared machine, wall time measures the neighbours too
      cpuSeconds: { ...r.cpuSeconds, countShuffle: (r.cpuSeconds.vocab ?? 0) + (r.cpuSeconds.cooccur ?? 0) + (r.cpuSeconds.shuffle ?? 0), perIteration: (r.cpuSeconds.train ?? 0) / Math.max(1, r.history.length), perIterationPerThread: (r.cpuSeconds.train ?? 0) / Math.max(1, r.history.length) / opts.threads },
      costs: r.history.map((h) => Number(h.cost.toFixed(6))),
      finalCost,
      peakRssMB: Math.round(process.resourceUsage().maxRSS / 1024),
      loadAverage: { start: load0, end: loadavg()[0] },
      reference: ref,
      ratio: { countShuffle: countShuffle / ref.countShuffleSeconds, perIteration: perIteration / ref.secondsPerIteration },
    }));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
