// tsx libs/re-data/src/cli/pubtator.ts --split test --out chemprot-test.pubtator[.gz] [--repeat N] [--data DIR]
// writes ChemProt's abstracts and entities of a split in PubTator layout (gzipped when --out ends in .gz);
// --repeat N writes the documents N times over (input of a given size for extraction measurements).
import { resolve } from 'node:path';
import { gzipSync } from 'node:zlib';
import { numFlag, parseFlags, runCli, UserError, writeFileAtomic } from '@biore/runtime';
import { chemProtAsPubTator, datasetRoot, toPubTator } from '../index.ts';

runCli(async () => {
  const { values } = parseFlags({ split: { type: 'string', default: 'test' }, out: { type: 'string' }, repeat: { type: 'string' }, data: { type: 'string' } });
  if (!values.out) throw new UserError('--out FILE is required');
  const repeat = numFlag(values.repeat, 'repeat', 1);
  if (!Number.isInteger(repeat) || repeat < 1) throw new UserError(`--repeat expects a whole number of at least 1, got '${values.repeat}'`);
  const where = datasetRoot('chemprot', values.data);
  const once = [...chemProtAsPubTator(where.path, values.split!)];
  const text = once.map(toPubTator).join('').repeat(repeat);
  const out = resolve(process.env.INIT_CWD ?? process.cwd(), values.out);
  writeFileAtomic(out, out.endsWith('.gz') ? gzipSync(text) : text);
  process.stderr.write(`data root: ${where.root.root} (${where.root.source})\nwrote ${once.length * repeat} documents (${once.length} ChemProt ${values.split} abstracts × ${repeat}) to ${out}\n`);
});
