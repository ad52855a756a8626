import { test } from 'node:test';
import assert from 'node:assert/strict';
import { scoreRelations, foldSummary, f1Of } from '../src/index.ts';

const close = (a: number, b: number, msg?: string) => assert.ok(Math.abs(a - b) < 1e-12, `${msg ?? ''} ${a} != ${b}`);

test('micro P/R/F1 over positive classes, by hand (a wrong positive costs precision and recall)', () => {
  //           0      1      2      3      4      5      6      7
  const gold = ['A',  'A',  'B',  'B',  'neg', 'neg', 'A',  'B'];
  const pred = ['A',  'B',  'B',  'neg','A',   'neg', 'A',  'B'];
  const s = scoreRelations(gold, pred, ['A', 'B']);
  // TP: 0, 2, 6, 7 = 4; predicted positives: all but 3 and 5 = 6; gold positives: 6
  assert.equal(s.tp, 4);
  assert.equal(s.predictedPositives, 6);
  assert.equal(s.goldPositives, 6);
  close(s.precision, 4 / 6);
  close(s.recall, 4 / 6);
  close(s.f1, 4 / 6);
  // A: tp 2 (0, 6), predicted 3 (0, 4, 6), support 3 (0, 1, 6); B: tp 2 (2, 7), predicted 3 (1, 2, 7), support 3
  close(s.perClass.A.precision, 2 / 3);
  close(s.perClass.A.recall, 2 / 3);
  assert.equal(s.perClass.B.support, 3);
  close(s.macroF1, 2 / 3);
  assert.deepEqual(s.confusion.labels, ['neg', 'A', 'B']);
  assert.deepEqual(s.confusion.matrix, [
    [1, 1, 0],
    [0, 2, 1],
    [1, 0, 2],
  ]);
  assert.equal(s.n, 8);
});

test('micro and macro differ when classes differ in size; F1 is the harmonic mean', () => {
  const gold = ['A', 'A', 'A', 'A', 'B', 'n', 'n'];
  const pred = ['A', 'A', 'A', 'n', 'n', 'B', 'n'];
  const s = scoreRelations(gold, pred, ['A', 'B']);
  // micro: tp 3, predicted 4 (A×3, B×1), gold 5
  close(s.precision, 3 / 4);
  close(s.recall, 3 / 5);
  close(s.f1, (2 * (3 / 4) * (3 / 5)) / (3 / 4 + 3 / 5));
  // A: P 1, R 3/4, F1 6/7; B: P 0, R 0, F1 0 → macro 3/7
  close(s.perClass.A.f1, 6 / 7);
  assert.equal(s.perClass.B.f1, 0);
  close(s.macroF1, 3 / 7);
});

test('identities: perfect predictions score 1; all-negative predictions score 0 without dividing by zero', () => {
  const gold = ['x', 'y', 'false', 'x', 'false'];
  const perfect = scoreRelations(gold, gold, ['x', 'y']);
  assert.equal(perfect.f1, 1);
  assert.equal(perfect.macroF1, 1);
  const none = scoreRelations(gold, gold.map(() => 'false'), ['x', 'y']);
  assert.deepEqual([none.precision, none.recall, none.f1, none.macroF1], [0, 0, 0, 0]);
  // the confusion matrix sums to n and its row sums are the gold counts
  const m = scoreRelations(gold, ['y', 'y', 'x', 'false', 'false'], ['x', 'y']).confusion;
  assert.equal(m.matrix.flat().reduce((a, b) => a + b, 0), gold.length);
  assert.deepEqual(m.matrix.map((r) => r.reduce((a, b) => a + b, 0)), m.labels.map((l) => gold.filter((g) => g === l).length));
});

test('binary datasets: with one positive label the scores are the ordinary binary P/R/F1', () => {
  const gold = ['1', '1', '1', '0', '0', '0', '0'];
  const pred = ['1', '0', '1', '1', '0', '0', '1'];
  const s = scoreRelations(gold, pred, ['1']);
  // tp 2, fp 2, fn 1
  close(s.precision, 2 / 4);
  close(s.recall, 2 / 3);
  close(s.f1, f1Of(0.5, 2 / 3));
  close(s.f1, (2 * 2) / (2 * 2 + 2 + 1)); // F1 = 2TP / (2TP + FP + FN)
  close(s.macroF1, s.f1);
});

test('a fixed label order is respected and unknown labels or length mismatches are errors', () => {
  const s = scoreRelations(['b', 'a'], ['a', 'a'], ['a', 'b'], ['b', 'a', 'c']);
  assert.deepEqual(s.confusion.labels, ['b', 'a', 'c']);
  assert.deepEqual(s.confusion.matrix, [[0, 1, 0], [0, 1, 0], [0, 0, 0]]);
  assert.throws(() => scoreRelations(['a'], ['z'], ['a'], ['a']), RangeError);
  assert.throws(() => scoreRelations(['a'], [], ['a']), RangeError);
});

test('fold summary: mean and sample standard deviation', () => {
  const s = foldSummary([2, 4, 4, 4, 5, 5, 7, 9]);
  close(s.mean, 5);
  // sum of squared deviations 32, n − 1 = 7
  close(s.std, Math.sqrt(32 / 7));
  assert.equal(s.n, 8);
  assert.deepEqual(foldSummary([0.7]), { mean: 0.7, std: 0, n: 1 });
  const shifted = foldSummary([12, 14, 14, 14, 15, 15, 17, 19]);
  close(shifted.std, s.std, 'std is shift-invariant');
  assert.throws(() => foldSummary([]), RangeError);
  assert.throws(() => foldSummary([1, NaN]), RangeError);
});
