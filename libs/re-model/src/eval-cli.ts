import { numFlag, parseFlags, startBackend, UserError } from '@biore/runtime';
import { datasetInfo, loadDataset, sampleInstances } from '@biore/re-data';
import { evaluate } from './evaluate.ts';
import { loadREModel } from './io.ts';

/**
 * The `eval` command of both RE apps (a trained model of either family on a dataset split): parses the flags,
 * scores, and returns one JSON-ready record (micro P/R/F1 over the positive classes, per class, confusion, time).
 */
export async function evalCommand(app: string, argv = process.argv.slice(2), defaultBatch = 32): Promise<Record<string, unknown>> {
  const { values: f } = parseFlags({
    model: { type: 'string' }, dataset: { type: 'string', default: 'chemprot' }, split: { type: 'string', default: 'test' },
    fold: { type: 'string' }, limit: { type: 'string' }, seed: { type: 'string' }, backend: { type: 'string' }, data: { type: 'string' }, batch: { type: 'string' },
  }, argv);
  if (!f.model) throw new UserError(`--model DIR is required (a run folder written by ${app})`);
  const info = datasetInfo(f.dataset!);
  const report = await startBackend(f.backend, { rel: info.name, flag: f.data });
  const model = await loadREModel(f.model);
  const all = loadDataset(info.name, { split: f.split!, fold: f.fold !== undefined ? numFlag(f.fold, 'fold', 1) : undefined, dataFlag: f.data });
  // --limit N scores a seeded sample of N instances (quick checks); the full split otherwise
  const instances = sampleInstances(all, f.limit ? numFlag(f.limit, 'limit', 0) : undefined, numFlag(f.seed, 'seed', 42));
  const t0 = performance.now();
  const scores = evaluate(model, instances, info.positiveLabels, numFlag(f.batch, 'batch', defaultBatch), f.split);
  const seconds = (performance.now() - t0) / 1000;
  model.dispose();
  return { dataset: info.name, split: f.split, model: f.model, backend: report.backend, instances: instances.length, seconds, msPerSentence: (1000 * seconds) / instances.length, ...scores };
}
