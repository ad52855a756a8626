// nx run re-bert:eval — scores a fine-tuned BERT RE model on a split: micro P/R/F1 over the positive classes, per class, confusion.
import { numFlag, parseFlags, runCli, startBackend, UserError } from '@biore/runtime';
import { datasetInfo, loadDataset, sampleInstances } from '@biore/re-data';
import { evaluate, loadREModel } from '@biore/re-model';

runCli(async () => {
  const { values: f } = parseFlags({
    model: { type: 'string' }, dataset: { type: 'string', default: 'chemprot' }, split: { type: 'string', default: 'test' },
    fold: { type: 'string' }, limit: { type: 'string' }, seed: { type: 'string' }, backend: { type: 'string' }, data: { type: 'string' }, batch: { type: 'string' },
  });
  if (!f.model) throw new UserError('--model DIR is required (a run folder written by re-bert:finetune)');
  const dataset = datasetInfo(f.dataset!).name;
  const report = await startBackend(f.backend, { rel: dataset, flag: f.data });
  const model = await loadREModel(f.model);
  const info = datasetInfo(dataset as any);
  const all = loadDataset(dataset as any, { split: f.split!, fold: f.fold !== undefined ? numFlag(f.fold, 'fold', 1) : undefined, dataFlag: f.data });
  // --limit N scores a seeded random subset (quick checks); without it the whole split
  const instances = sampleInstances(all, f.limit ? numFlag(f.limit, 'limit', 0) : undefined, numFlag(f.seed, 'seed', 42));
  const t0 = performance.now();
  const scores = evaluate(model, instances, info.positiveLabels, numFlag(f.batch, 'batch', 32), f.split);
  const seconds = (performance.now() - t0) / 1000;
  console.log(JSON.stringify({ dataset, split: f.split, model: f.model, backend: report.backend, instances: instances.length, seconds, msPerSentence: (1000 * seconds) / instances.length, ...scores }));
  model.dispose();
});
