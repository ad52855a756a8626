/**
 * Relation-extraction scores as the ChemProt / DDI / BLUE evaluations define them: the negative class is
 * never scored; micro precision, recall and F1 pool the positive classes.
 * - TP: pred === gold and gold is a positive label;
 * - predicted positives: predictions that are a positive label; gold positives: gold labels that are.
 * So a positive predicted as another positive counts against precision AND recall.
 * A ratio with a zero denominator is 0 (precision with no predicted positives, F1 when P + R = 0).
 * Macro-F1 is the mean of the per-class F1 over the positive classes (not the F1 of mean P and R).
 * For binary datasets (GAD, AIMed) pass the one positive label.
 */
export interface ClassScore {
  precision: number;
  recall: number;
  f1: number;
  /** Gold instances of the class. */
  support: number;
  /** Predictions of the class. */
  predicted: number;
  tp: number;
}

export interface ConfusionMatrix {
  /** Row and column order. */
  labels: string[];
  /** matrix[g][p]: instances with gold labels[g] predicted as labels[p]. */
  matrix: number[][];
}

export interface RelationScores {
  precision: number;
  recall: number;
  f1: number;
  tp: number;
  predictedPositives: number;
  goldPositives: number;
  /** Per positive class. */
  perClass: Record<string, ClassScore>;
  macroF1: number;
  confusion: ConfusionMatrix;
  /** Number of scored instances. */
  n: number;
}

const ratio = (a: number, b: number) => (b === 0 ? 0 : a / b);
export const f1Of = (p: number, r: number) => (p + r === 0 ? 0 : (2 * p * r) / (p + r));

/**
 * Scores predictions against gold labels. `labels` fixes the confusion-matrix order; by default the labels
 * that are not positive (sorted) come first, then the positive labels in the given order, then any other.
 */
export function scoreRelations(gold: readonly string[], pred: readonly string[], positiveLabels: readonly string[], labels?: readonly string[]): RelationScores {
  if (gold.length !== pred.length) throw new RangeError(`scoreRelations: ${gold.length} gold labels but ${pred.length} predictions`);
  if (positiveLabels.length === 0) throw new RangeError('scoreRelations: at least one positive label is needed');
  const positive = new Set(positiveLabels);
  let order: string[];
  if (labels) {
    order = [...labels];
    const known = new Set(order);
    for (const l of [...gold, ...pred, ...positiveLabels]) if (!known.has(l)) throw new RangeError(`scoreRelations: label '${l}' is not in the given label list`);
  } else {
    const seen = new Set([...gold, ...pred]);
    order = [...[...seen].filter((l) => !positive.has(l)).sort(), ...positiveLabels];
  }
  const index = new Map(order.map((l, i) => [l, i]));
  const matrix = order.map(() => order.map(() => 0));
  for (let i = 0; i < gold.length; i++) matrix[index.get(gold[i])!][index.get(pred[i])!]++;

  const perClass: Record<string, ClassScore> = {};
  let tp = 0;
  let predictedPositives = 0;
  let goldPositives = 0;
  for (const l of positiveLabels) {
    const k = index.get(l)!;
    const ctp = matrix[k][k];
    const support = matrix[k].reduce((a, b) => a + b, 0);
    const predicted = matrix.reduce((a, row) => a + row[k], 0);
    const precision = ratio(ctp, predicted);
    const recall = ratio(ctp, support);
    perClass[l] = { precision, recall, f1: f1Of(precision, recall), support, predicted, tp: ctp };
    tp += ctp;
    predictedPositives += predicted;
    goldPositives += support;
  }
  const precision = ratio(tp, predictedPositives);
  const recall = ratio(tp, goldPositives);
  const macroF1 = positiveLabels.reduce((a, l) => a + perClass[l].f1, 0) / positiveLabels.length;
  return { precision, recall, f1: f1Of(precision, recall), tp, predictedPositives, goldPositives, perClass, macroF1, confusion: { labels: order, matrix }, n: gold.length };
}
