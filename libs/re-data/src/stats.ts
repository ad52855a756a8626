import type { RelationInstance } from './types.ts';
import { datasetInfo } from './types.ts';
import { datasetRoot, loadDataset } from './datasets.ts';
import { loadChemProt } from './chemprot.ts';

/** BLUE's published ChemProt instance counts (Peng et al. 2019), shown beside ours. */
export const BLUE_CHEMPROT_INSTANCES: Record<string, number> = { train: 19460, dev: 11820, test: 16943 };

export interface SplitStats {
  instances: number;
  /** Documents with at least one instance. */
  documents: number;
  labels: Record<string, number>;
  /** ChemProt only: gold-standard rows, those kept as instances, those lost across sentences, BLUE's count. */
  gold?: { rows: number; inOneSentence: number; crossSentence: number };
  blueInstances?: number;
  vsBlue?: string;
}

export function splitStats(instances: RelationInstance[], labels: string[]): SplitStats {
  const counts: Record<string, number> = Object.fromEntries(labels.map((l) => [l, 0]));
  for (const i of instances) counts[i.label] = (counts[i.label] ?? 0) + 1;
  return { instances: instances.length, documents: new Set(instances.map((i) => i.docId)).size, labels: counts };
}

export interface DatasetStats {
  dataset: string;
  dataRoot: string;
  dataRootSource: string;
  path: string;
  splits?: Record<string, SplitStats>;
  folds?: Record<string, Record<string, SplitStats>>;
}

/** Instance and label counts per split (per fold for gad and aimed). */
export function datasetStats(name: string, dataFlag?: string): DatasetStats {
  const info = datasetInfo(name);
  const where = datasetRoot(name, dataFlag);
  const out: DatasetStats = { dataset: info.name, dataRoot: where.root.root, dataRootSource: where.root.source, path: where.path };
  if (info.folds) {
    out.folds = {};
    for (const fold of info.folds) {
      out.folds[fold] = {};
      for (const split of info.splits) out.folds[fold][split] = splitStats(loadDataset(name, { split, fold, dataFlag }), info.labels);
    }
  } else if (info.name === 'chemprot') {
    out.splits = {};
    for (const split of info.splits) {
      const r = loadChemProt(where.path, split);
      const blue = BLUE_CHEMPROT_INSTANCES[split];
      out.splits[split] = {
        ...splitStats(r.instances, info.labels),
        gold: { rows: r.goldRows, inOneSentence: r.goldInSentence, crossSentence: r.goldCrossSentence.length },
        blueInstances: blue,
        vsBlue: `${((r.instances.length / blue - 1) * 100).toFixed(2)}%`,
      };
    }
  } else {
    out.splits = {};
    for (const split of info.splits) out.splits[split] = splitStats(loadDataset(name, { split, dataFlag }), info.labels);
  }
  return out;
}
