import { COMMON_FLAGS, pick, type FlagValues } from '@biore/runtime';
import { defaultBuildOptions, type GloveBuildOptions } from '@biore/glove';

const d = defaultBuildOptions;

/** The build flags shared by `glove:build` and `glove:bench` (Stanford GloVe's names, kebab-case). */
export const GLOVE_FLAGS = {
  corpus: { ...COMMON_FLAGS.corpus, description: 'text to count: a corpus:build folder (its train files) or a text file; the data root\'s text/ folder when absent' },
  data: COMMON_FLAGS.data,
  dim: { type: 'int', min: 1, default: d.dim, description: 'vector size' },
  window: { type: 'int', min: 1, default: d.window, description: 'context words on each side that co-occur with a word' },
  'min-count': { type: 'int', min: 1, default: d.minCount, description: 'words seen fewer times are left out of the vocabulary' },
  'max-vocab': { type: 'int', min: 0, default: d.maxVocab, description: 'keep only the N most frequent words (0: no cap)' },
  'x-max': { type: 'number', min: 0, exclusiveMin: true, default: d.xMax, description: 'co-occurrence count where the weighting function reaches 1' },
  alpha: { type: 'number', min: 0, exclusiveMin: true, default: d.alpha, description: 'exponent of the weighting function' },
  eta: { type: 'number', min: 0, exclusiveMin: true, default: d.eta, description: 'initial AdaGrad learning rate' },
  iterations: { type: 'int', min: 1, default: d.iterations, description: 'training passes over the shuffled co-occurrences' },
  threads: { type: 'int', min: 1, max: 256, default: d.threads, description: 'training threads' },
  seed: { ...COMMON_FLAGS.seed, default: d.seed },
  memory: { type: 'int', min: 16, default: d.memoryMB, placeholder: 'MB', description: 'memory budget of the counting and shuffling stages, in MB' },
  cased: { type: 'boolean', description: 'keep case (every token is lowercased otherwise, as the embedder does)' },
  ...pick(COMMON_FLAGS, 'quiet'),
} as const;

/** The library's options from parsed flags (`resume`/`force` only where the command has them). */
export function buildOptions(f: FlagValues<typeof GLOVE_FLAGS> & { resume?: boolean; force?: boolean }): GloveBuildOptions {
  return {
    dim: f.dim, window: f.window, minCount: f['min-count'], maxVocab: f['max-vocab'], xMax: f['x-max'], alpha: f.alpha, eta: f.eta,
    iterations: f.iterations, threads: f.threads, seed: f.seed, memoryMB: f.memory, cased: f.cased,
    resume: Boolean(f.resume), force: Boolean(f.force), quiet: f.quiet,
  };
}
