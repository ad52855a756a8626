import { findData, UserError, type DataRoot } from '@biore/runtime';
import type { EntityIndicator, RelationInstance } from './types.ts';
import { datasetInfo } from './types.ts';
import { loadChemProt } from './chemprot.ts';
import { loadDdi } from './ddi.ts';
import { loadGad } from './gad.ts';
import { loadAimed } from './aimed.ts';

export interface LoadOptions {
  /** 'train' | 'dev' | 'test' (ddi also 'train-full'). */
  split: string;
  /** Cross-validation fold: 1..10 for both gad and aimed. */
  fold?: number;
  /** The --data flag: a data root holding chemprot/, ddi/, gad/, aimed/. */
  dataFlag?: string;
}

/** Where a dataset's folder is, by the runtime's data-root rules (--data, BIORE_DATA, corpora/, ../shared/data). */
export function datasetRoot(name: string, dataFlag?: string): { path: string; root: DataRoot } {
  const info = datasetInfo(name);
  return findData(info.name, dataFlag);
}

/** The relation instances of one split (and fold) of a dataset. */
export function loadDataset(name: string, opts: LoadOptions): RelationInstance[] {
  const info = datasetInfo(name);
  if (!info.splits.includes(opts.split)) throw new UserError(`${name} has no split '${opts.split}'; expected one of ${info.splits.join(', ')}`);
  if (opts.fold !== undefined && !info.folds) throw new UserError(`${name} has fixed splits, not folds; drop --fold`);
  const { path } = datasetRoot(name, opts.dataFlag);
  switch (info.name) {
    case 'chemprot': return loadChemProt(path, opts.split).instances;
    case 'ddi': return loadDdi(path, opts.split);
    case 'gad': return loadGad(path, opts.split, opts.fold);
    case 'aimed': return loadAimed(path, opts.split, opts.fold);
  }
}

/** A clear error when a dataset cannot take an indicator (GAD has no tags: its entities are already replaced). */
export function checkIndicator(name: string, indicator: string): EntityIndicator {
  const info = datasetInfo(name);
  if (indicator !== 'tags' && indicator !== 'replacement') throw new UserError(`unknown entity indicator '${indicator}'; expected tags or replacement`);
  if (!info.indicators.includes(indicator)) {
    throw new UserError(`${name} supports only the ${info.indicators.join(', ')} indicator${info.indicators.length > 1 ? 's' : ''}, not '${indicator}' (its entities are already replaced by @GENE$/@DISEASE$)`);
  }
  return indicator;
}
