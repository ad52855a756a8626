import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FingerprintSet } from '@biore/corpus';

test('the fingerprint set keeps every distinct key once across growth', () => {
  const s = new FingerprintSet(16);
  for (let i = 0; i < 50_000; i++) assert.equal(s.add(`sentence ${i}`), true);
  for (let i = 0; i < 50_000; i += 7) assert.equal(s.add(`sentence ${i}`), false);
  assert.equal(s.size, 50_000);
  assert.ok(s.has('sentence 49999') && !s.has('sentence 50000'));
  assert.equal(s.bytes, 131_072 * 8, '16 bytes per member at load ≤ 1/2');
});
