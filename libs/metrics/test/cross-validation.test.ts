import { test } from 'node:test';
import assert from 'node:assert/strict';
import { crossValidationSummary } from '../src/index.ts';

const close = (a: number, b: number, msg?: string) => assert.ok(Math.abs(a - b) < 1e-12, `${msg ?? ''} ${a} vs ${b}`);

test('k-fold cross-validation reports every fold, the mean of the fold scores and their sample sd', () => {
  const folds = [3, 1, 2].map((fold) => ({ fold, precision: fold / 10, recall: 0.5, f1: [0.6, 0.8, 0.7][fold - 1] }));
  const s = crossValidationSummary(folds);
  assert.deepEqual(s.folds.map((f) => f.fold), [1, 2, 3], 'in fold order');
  assert.equal(s.k, 3);
  close(s.mean.f1, 0.7);
  close(s.sd.f1, 0.1, 'sample sd: sqrt(((-0.1)² + 0.1² + 0²) / 2)');
  close(s.mean.precision, 0.2);
  close(s.sd.recall, 0);
  // the mean of per-fold F1, not the F1 of the mean precision and recall
  assert.notEqual(s.mean.f1, (2 * s.mean.precision * s.mean.recall) / (s.mean.precision + s.mean.recall));
  assert.deepEqual(JSON.parse(JSON.stringify(s)), s, 'plain JSON');
});

test('a fold given twice or no folds at all is an error', () => {
  assert.throws(() => crossValidationSummary([]), RangeError);
  const f = { fold: 1, precision: 0, recall: 0, f1: 0 };
  assert.throws(() => crossValidationSummary([f, f]), /fold 1 given twice/);
});
