// nx run re-data:stats --dataset chemprot [--data DIR]: instance and label counts per split (per fold) as JSON.
import { parseFlags, runCli, UserError } from '@biore/runtime';
import { datasetStats, DATASET_NAMES } from '../index.ts';

runCli(async () => {
  const { values } = parseFlags({ dataset: { type: 'string' }, data: { type: 'string' } });
  if (!values.dataset) throw new UserError(`--dataset is required (${DATASET_NAMES.join(', ')})`);
  process.stdout.write(JSON.stringify(datasetStats(values.dataset, values.data), null, 2) + '\n');
});
