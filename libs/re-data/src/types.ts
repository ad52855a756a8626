import { UserError } from '@biore/runtime';

export type EntityType = 'CHEMICAL' | 'GENE' | 'DRUG' | 'PROTEIN' | 'DISEASE';

/** An entity as a token span [start, end) of its instance's tokens. */
export interface EntitySpan {
  type: EntityType;
  start: number;
  end: number;
  text: string;
  id?: string;
}

/** One candidate pair in one sentence: the unit of relation classification. */
export interface RelationInstance {
  id: string;
  docId: string;
  tokens: string[];
  e1: EntitySpan;
  e2: EntitySpan;
  label: string;
}

export type EntityIndicator = 'tags' | 'replacement';
export type DatasetName = 'chemprot' | 'ddi' | 'gad' | 'aimed';

export interface DatasetInfo {
  name: DatasetName;
  /** All labels, the negative label first. */
  labels: string[];
  negativeLabel: string;
  positiveLabels: string[];
  /** The entity indicators this dataset supports. */
  indicators: EntityIndicator[];
  /** Split names loadDataset accepts. */
  splits: string[];
  /** Cross-validation fold ids, 1..10 for both gad and aimed (aimed's fold k tests on its file test_{k-1}.json), else undefined. */
  folds?: number[];
}

export const DATASET_NAMES: readonly DatasetName[] = ['chemprot', 'ddi', 'gad', 'aimed'];

const INFO: Record<DatasetName, DatasetInfo> = {
  // 'false' is the negative label of the BLUE/BioBERT ChemProt files
  chemprot: {
    name: 'chemprot', labels: ['false', 'CPR:3', 'CPR:4', 'CPR:5', 'CPR:6', 'CPR:9'], negativeLabel: 'false',
    positiveLabels: ['CPR:3', 'CPR:4', 'CPR:5', 'CPR:6', 'CPR:9'], indicators: ['tags', 'replacement'], splits: ['train', 'dev', 'test'],
  },
  ddi: {
    name: 'ddi', labels: ['negative', 'effect', 'mechanism', 'advise', 'int'], negativeLabel: 'negative',
    positiveLabels: ['effect', 'mechanism', 'advise', 'int'], indicators: ['tags', 'replacement'], splits: ['train', 'dev', 'test', 'train-full'],
  },
  // GAD ships with entities already replaced, so only the replacement indicator exists
  gad: {
    name: 'gad', labels: ['0', '1'], negativeLabel: '0', positiveLabels: ['1'], indicators: ['replacement'], splits: ['train', 'test'], folds: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10],
  },
  aimed: {
    name: 'aimed', labels: ['negative', 'positive'], negativeLabel: 'negative', positiveLabels: ['positive'],
    indicators: ['tags', 'replacement'], splits: ['train', 'test'], folds: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10],
  },
};

export function isDatasetName(name: string): name is DatasetName {
  return (DATASET_NAMES as readonly string[]).includes(name);
}

export function datasetInfo(name: string): DatasetInfo {
  if (!isDatasetName(name)) throw new UserError(`unknown dataset '${name}'; expected one of ${DATASET_NAMES.join(', ')}`);
  const i = INFO[name];
  return { ...i, labels: [...i.labels], positiveLabels: [...i.positiveLabels], indicators: [...i.indicators], splits: [...i.splits], ...(i.folds ? { folds: [...i.folds] } : {}) };
}
