import { foldSummary } from './folds.ts';

/** One fold's test scores (fractions in [0, 1]). */
export interface FoldScores {
  fold: number;
  precision: number;
  recall: number;
  f1: number;
}

export interface CrossValidationSummary {
  /** the folds in fold order */
  folds: FoldScores[];
  k: number;
  /** mean of the per-fold scores (each fold weighs the same, as in BioBERT's and Su & Vijay-Shanker's reports) */
  mean: { precision: number; recall: number; f1: number };
  /** sample standard deviation (n − 1) of the per-fold scores */
  sd: { precision: number; recall: number; f1: number };
}

/** k-fold cross-validation: per-fold scores, their mean and sample sd, one JSON-ready object. */
export function crossValidationSummary(folds: readonly FoldScores[]): CrossValidationSummary {
  if (folds.length === 0) throw new RangeError('crossValidationSummary: no folds');
  const seen = new Set<number>();
  for (const f of folds) {
    if (seen.has(f.fold)) throw new RangeError(`crossValidationSummary: fold ${f.fold} given twice`);
    seen.add(f.fold);
  }
  const sorted = [...folds].sort((a, b) => a.fold - b.fold).map(({ fold, precision, recall, f1 }) => ({ fold, precision, recall, f1 }));
  const p = foldSummary(sorted.map((f) => f.precision));
  const r = foldSummary(sorted.map((f) => f.recall));
  const f = foldSummary(sorted.map((x) => x.f1));
  return { folds: sorted, k: sorted.length, mean: { precision: p.mean, recall: r.mean, f1: f.mean }, sd: { precision: p.std, recall: r.std, f1: f.std } };
}
