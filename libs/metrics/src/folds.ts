export interface FoldSummary {
  mean: number;
  /** Sample standard deviation (n − 1 in the denominator); 0 for a single value. */
  std: number;
  n: number;
}

/** Mean and sample standard deviation of per-fold scores (k-fold cross-validation). */
export function foldSummary(values: readonly number[]): FoldSummary {
  if (values.length === 0) throw new RangeError('foldSummary: no values');
  for (const v of values) if (!Number.isFinite(v)) throw new RangeError(`foldSummary: non-finite value ${v}`);
  const n = values.length;
  const mean = values.reduce((a, b) => a + b, 0) / n;
  if (n === 1) return { mean, std: 0, n };
  const ss = values.reduce((a, v) => a + (v - mean) * (v - mean), 0);
  return { mean, std: Math.sqrt(ss / (n - 1)), n };
}
