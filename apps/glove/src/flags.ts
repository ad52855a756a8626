import { numFlag, parseFlags, UserError } from '@biore/runtime';
import { defaultBuildOptions, type GloveBuildOptions } from '@biore/glove';

/** The build flags shared by `glove:build` and `glove:bench`. */
export const buildFlagSpec = {
  corpus: { type: 'string' },
  data: { type: 'string' },
  out: { type: 'string' },
  dim: { type: 'string' },
  window: { type: 'string' },
  'min-count': { type: 'string' },
  'max-vocab': { type: 'string' },
  'x-max': { type: 'string' },
  alpha: { type: 'string' },
  eta: { type: 'string' },
  iterations: { type: 'string' },
  threads: { type: 'string' },
  seed: { type: 'string' },
  memory: { type: 'string' },
  cased: { type: 'boolean' },
  resume: { type: 'boolean' },
  force: { type: 'boolean' },
  quiet: { type: 'boolean' },
} as const;

export function parseBuildFlags(argv = process.argv.slice(2)) {
  const { values, positionals } = parseFlags(buildFlagSpec, argv);
  if (positionals.length) throw new UserError(`unexpected argument '${positionals[0]}'; flags: ${Object.keys(buildFlagSpec).map((k) => '--' + k).join(' ')}`);
  const d = defaultBuildOptions;
  const opts: GloveBuildOptions = {
    dim: numFlag(values.dim, 'dim', d.dim),
    window: numFlag(values.window, 'window', d.window),
    minCount: numFlag(values['min-count'], 'min-count', d.minCount),
    maxVocab: numFlag(values['max-vocab'], 'max-vocab', d.maxVocab),
    xMax: numFlag(values['x-max'], 'x-max', d.xMax),
    alpha: numFlag(values.alpha, 'alpha', d.alpha),
    eta: numFlag(values.eta, 'eta', d.eta),
    iterations: numFlag(values.iterations, 'iterations', d.iterations),
    threads: numFlag(values.threads, 'threads', d.threads),
    seed: numFlag(values.seed, 'seed', d.seed),
    memoryMB: numFlag(values.memory, 'memory', d.memoryMB),
    cased: Boolean(values.cased),
    resume: Boolean(values.resume),
    force: Boolean(values.force),
    quiet: Boolean(values.quiet),
  };
  return { opts, corpus: values.corpus, data: values.data, out: values.out };
}
