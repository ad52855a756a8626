import { test } from 'node:test';
import assert from 'node:assert/strict';
import { experimentSplits, loadDataset, sampleInstances } from '../src/index.ts';

test('cross-validated datasets select on a seeded tenth of the fold\'s training documents, never on its test fold', () => {
  const s = experimentSplits('gad', { fold: 1, seed: 3 });
  assert.equal(s.train.length + s.dev.length, loadDataset('gad', { split: 'train', fold: 1 }).length);
  const devDocs = new Set(s.dev.map((i) => i.docId));
  assert.ok(s.train.every((i) => !devDocs.has(i.docId)), 'dev documents are not trained on');
  const docs = new Set([...s.train, ...s.dev].map((i) => i.docId));
  assert.equal(devDocs.size, Math.round(docs.size / 10));
  assert.deepEqual(experimentSplits('gad', { fold: 1, seed: 3 }).dev.map((i) => i.id), s.dev.map((i) => i.id));
  assert.equal(s.test().length, 534);
});

test('datasets with a dev split use it as it is', () => {
  const s = experimentSplits('chemprot', { seed: 1 });
  assert.equal(s.dev.length, loadDataset('chemprot', { split: 'dev' }).length);
});

test('a sample is seeded and never larger than asked', () => {
  const xs = Array.from({ length: 100 }, (_, i) => i);
  assert.deepEqual(sampleInstances(xs, 10, 4), sampleInstances(xs, 10, 4));
  assert.equal(new Set(sampleInstances(xs, 10, 4)).size, 10);
  assert.equal(sampleInstances(xs, undefined, 4), xs);
});
