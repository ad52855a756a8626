import { Rng } from '@biore/runtime';
import type { DatasetInfo, RelationInstance } from './types.ts';
import { datasetInfo } from './types.ts';
import { loadDataset } from './datasets.ts';

export interface ExperimentSplits {
  info: DatasetInfo;
  train: RelationInstance[];
  dev: RelationInstance[];
  /** loaded on demand: training runs read it only after model selection */
  test: () => RelationInstance[];
}

/**
 * The training, model-selection and test instances of an experiment. ChemProt and DDI have their dev splits;
 * for the cross-validated datasets (GAD, AIMed) dev is a seeded 10% of the fold's training documents, so the
 * fold's test set is never used for selection.
 */
export function experimentSplits(name: string, opts: { fold?: number; dataFlag?: string; seed: number }): ExperimentSplits {
  const info = datasetInfo(name);
  const load = (split: string) => loadDataset(info.name, { split, fold: opts.fold, dataFlag: opts.dataFlag });
  if (!info.folds) return { info, train: load('train'), dev: load('dev'), test: () => load('test') };
  const all = load('train');
  const docs = [...new Set(all.map((i) => i.docId))];
  new Rng(opts.seed).shuffle(docs);
  const devDocs = new Set(docs.slice(0, Math.max(1, Math.round(docs.length / 10))));
  return { info, train: all.filter((i) => !devDocs.has(i.docId)), dev: all.filter((i) => devDocs.has(i.docId)), test: () => load('test') };
}

/** A seeded sample of n instances (all of them when n is absent or not smaller): for quick runs. */
export function sampleInstances<T>(xs: T[], n: number | undefined, seed: number): T[] {
  if (!n || n >= xs.length) return xs;
  return new Rng(seed + 17).shuffle(xs.slice()).slice(0, n);
}
