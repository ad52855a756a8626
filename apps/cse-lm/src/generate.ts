// nx run cse-lm:generate -- [--model DIR] [--prefix TEXT] [--length N] [--temperature T] — samples text from a trained LM.
import { resolve } from 'node:path';
import { COMMON_FLAGS, Rng, artifactDir, defineCommand, initBackend, runCli } from '@biore/runtime';
import { CharLanguageModel, generateText } from '@biore/charlm';

const command = defineCommand({
  name: 'cse-lm:generate',
  summary: 'samples text from a trained character LM, one sample a line on stdout',
  examples: ['npx nx run cse-lm:generate -- --prefix "The kinase" --length 200 --temperature 0.6 --samples 3'],
  flags: {
    model: { ...COMMON_FLAGS.model, description: 'character LM folder (artifacts/cse-lm/forward when absent)' },
    prefix: { type: 'string', default: '', placeholder: 'TEXT', description: 'text the sample continues' },
    length: { type: 'int', min: 1, max: 100000, default: 300, description: 'characters to sample' },
    temperature: { type: 'number', min: 0, exclusiveMin: true, default: 0.8, description: 'sampling temperature (lower: more conservative)' },
    samples: { type: 'int', min: 1, default: 1, description: 'how many samples' },
    seed: { ...COMMON_FLAGS.seed, default: 1 },
    backend: COMMON_FLAGS.backend,
  },
});

async function main(): Promise<void> {
  const f = command.parse();
  const backend = await initBackend(f.backend);
  const dir = resolve(f.model ?? artifactDir('cse-lm/forward'));
  const lm = CharLanguageModel.load(dir);
  console.error(`backend: ${backend.backend}; ${lm.config.isForwardLm ? 'forward' : 'backward'} LM from ${dir}`);
  const rng = new Rng(f.seed);
  for (let i = 0; i < f.samples; i++) {
    const r = generateText(lm, rng, { prefix: f.prefix, length: f.length, temperature: f.temperature });
    console.log(r.text);
    console.error(`(mean -log p per sampled character: ${r.nll.toFixed(3)} nats)`);
  }
  lm.dispose();
}

runCli(main);
