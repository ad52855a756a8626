import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SentenceCache } from '../src/sentence-cache.ts';

test('the sentence cache computes each distinct missing sentence once and evicts the oldest past its bound', () => {
  const calls: string[][] = [];
  const encode = (missing: (readonly string[])[]) => {
    calls.push(missing.map((s) => s.join(' ')));
    return missing.map((s) => Float32Array.from(s, (w) => w.length));
  };
  const cache = new SentenceCache(5); // five floats: one float a word here
  const a = ['aspirin', 'inhibits'], b = ['COX', '2', 'x'], c = ['p53'];
  assert.deepEqual(cache.lookup([a, a, b], encode).map((v) => Array.from(v)), [[7, 8], [7, 8], [3, 1, 1]]);
  assert.deepEqual(calls, [['aspirin inhibits', 'COX 2 x']], 'a sentence twice in a batch is encoded once');
  cache.lookup([a, b], encode);
  assert.equal(calls.length, 1, 'both cached');
  cache.lookup([c], encode); // 6 floats > 5: the oldest (a) goes
  cache.lookup([a], encode);
  assert.deepEqual(calls.at(-1), ['aspirin inhibits']);
  assert.equal(new SentenceCache(0).enabled, false);
});

test('fill computes the missing sentences once each, shortest first in batches, and stops when the cache is full', () => {
  const calls: string[][] = [];
  const encode = (batch: (readonly string[])[]) => {
    calls.push(batch.map((s) => s.join(' ')));
    return batch.map((s) => Float32Array.from(s, (w) => w.length));
  };
  const long = ['a', 'much', 'longer', 'one'], mid = ['two', 'words'], short = ['x'];
  const cache = new SentenceCache(100);
  cache.lookup([mid], encode); // already cached: not recomputed
  calls.length = 0;
  assert.equal(cache.fill([long, mid, short, long], encode, 2), 2);
  assert.deepEqual(calls, [['x', 'a much longer one']], 'distinct, uncached, shortest first');
  cache.lookup([long, short, mid], encode);
  assert.equal(calls.length, 1, 'every later lookup is a cache read');

  const small = new SentenceCache(3);
  const computed = small.fill([long, short, mid], encode, 8);
  assert.equal(computed, 2, 'x (1 float) and "two words" (2) fit; the 4-float sentence does not');
  assert.equal(small.size, 2, 'a full cache is not emptied to make room');
  assert.deepEqual(Array.from(small.lookup([long], encode)[0]), [1, 4, 6, 3], 'the rest is computed when used');
});
