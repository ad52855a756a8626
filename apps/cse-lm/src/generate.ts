// nx run cse-lm:generate [--model DIR] [--prefix TEXT] [--length N] [--temperature T] — samples text from a trained LM.
import { resolve } from 'node:path';
import { Rng, artifactDir, initBackend, numFlag, parseFlags, runCli } from '@biore/runtime';
import { CharLanguageModel, generateText } from '@biore/charlm';

async function main(): Promise<void> {
  const { values: f } = parseFlags({
    model: { type: 'string' },
    prefix: { type: 'string', default: '' },
    length: { type: 'string' },
    temperature: { type: 'string' },
    samples: { type: 'string' },
    seed: { type: 'string' },
    backend: { type: 'string' },
  });
  const backend = await initBackend(f.backend);
  const dir = resolve(f.model ?? artifactDir('cse-lm/forward'));
  const lm = CharLanguageModel.load(dir);
  console.error(`backend: ${backend.backend}; ${lm.config.isForwardLm ? 'forward' : 'backward'} LM from ${dir}`);
  const rng = new Rng(numFlag(f.seed, 'seed', 1));
  for (let i = 0; i < numFlag(f.samples, 'samples', 1); i++) {
    const r = generateText(lm, rng, { prefix: f.prefix, length: numFlag(f.length, 'length', 300), temperature: numFlag(f.temperature, 'temperature', 0.8) });
    console.log(r.text);
    console.error(`(mean -log p per sampled character: ${r.nll.toFixed(3)} nats)`);
  }
  lm.dispose();
}

runCli(main);
