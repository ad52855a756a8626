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
