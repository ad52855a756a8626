// nx run re-data:export --dataset chemprot --split dev --indicator replacement --out dev.tsv [--fold K] [--data DIR]
// writes the BLUE/BioBERT TSV (index, sentence, label) atomically.
import { resolve } from 'node:path';
import { numFlag, parseFlags, runCli, UserError, writeFileAtomic } from '@biore/runtime';
import { checkIndicator, datasetRoot, loadDataset, toBlueTsv, DATASET_NAMES } from '../index.ts';

runCli(async () => {
  const { values } = parseFlags({
    dataset: { type: 'string' }, split: { type: 'string' }, indicator: { type: 'string' }, out: { type: 'string' },
    fold: { type: 'string' }, data: { type: 'string' },
  });
  if (!values.dataset) throw new UserError(`--dataset is required (${DATASET_NAMES.join(', ')})`);
  if (!values.split) throw new UserError('--split is required (train, dev, test)');
  if (!values.out) throw new UserError('--out FILE is required');
  const indicator = checkIndicator(values.dataset, values.indicator ?? 'replacement');
  const fold = values.fold === undefined ? undefined : numFlag(values.fold, 'fold', 0);
  const where = datasetRoot(values.dataset, values.data);
  const instances = loadDataset(values.dataset, { split: values.split, fold, dataFlag: values.data });
  const out = resolve(process.env.INIT_CWD ?? process.cwd(), values.out);
  writeFileAtomic(out, toBlueTsv(instances, indicator));
  process.stderr.write(`data root: ${where.root.root} (${where.root.source})\nwrote ${instances.length} instances (${indicator}) to ${out}\n`);
});
