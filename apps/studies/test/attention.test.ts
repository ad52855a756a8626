import { test } from 'node:test';
import assert from 'node:assert/strict';
import { addContextWeights, contextPositions, entitySpans, mergeWeights, stemOf, topStems, type StemWeights } from '../src/attention.ts';

test('entities are placeholders (@GENE$) or tagged spans with their tags', () => {
  assert.deepEqual(entitySpans(['@CHEMICAL$', 'inhibits', '@GENE$', '.']), [[0, 0], [2, 2]]);
  assert.deepEqual(entitySpans(['the', '<chem>', 'amantadine', 'hcl', '</chem>', 'induced', '<gene>', 'Fos', '</gene>']), [[1, 4], [6, 8]]);
  assert.deepEqual(entitySpans(['@CHEM-GENE$', 'x']), [[0, 0]], 'an overlapping pair is one placeholder');
});

test('the context is the three words either side of each entity, never the entities themselves, each word once', () => {
  const w = ['a', 'b', 'c', 'd', '@DRUG$', 'e', 'f', '@DRUG$', 'g', 'h', 'i', 'j'];
  assert.deepEqual(contextPositions(w), [1, 2, 3, 5, 6, 8, 9, 10]);
  assert.deepEqual(contextPositions(['<gene>', 'x', '</gene>', 'binds', '<gene>', 'y', '</gene>']), [3]);
});

test('Porter stems group a word\'s forms ("activate", "activates", "activation" → activ); numbers and punctuation are left out', () => {
  assert.equal(stemOf('activates'), 'activ');
  assert.equal(stemOf('Activation'), 'activ');
  assert.equal(stemOf('activate'), 'activ');
  assert.equal(stemOf('inhibited'), 'inhibit');
  assert.equal(stemOf('12'), undefined);
  assert.equal(stemOf('('), undefined);
});

test('global attention of a stem is the mean of its weights near the entities, over all instances', () => {
  const acc: StemWeights = {};
  addContextWeights(acc, ['@PROTEIN$', 'activates', '@PROTEIN$', 'strongly', 'in', 'vivo', 'here'], [0.1, 0.5, 0.1, 0.1, 0.1, 0.05, 0.05]);
  addContextWeights(acc, ['@PROTEIN$', 'activation', 'of', '@PROTEIN$'], [0.2, 0.3, 0.3, 0.2]);
  assert.deepEqual(acc.activ, [0.8, 2]);
  assert.equal(acc.here, undefined, 'four words from the entity');
  const top = topStems(acc, 2, 1);
  assert.equal(top[0].stem, 'activ');
  assert.ok(Math.abs(top[0].mean - 0.4) < 1e-12);
  assert.equal(topStems(acc, 10, 2).length, 1, 'only activ is seen twice');
  assert.deepEqual(mergeWeights({ activ: [1, 1] }, acc).activ, [1.8, 3]);
});
