import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UserError } from '@biore/runtime';
import { BilmVocabulary, isTruncated, tokenBatch, tokenCharIds, toSequences, unigramPerplexity, parseBilmOptions, smallBilmOptions } from '../src/index.ts';

test('a token is begin-of-word, its UTF-8 bytes, end-of-word, then padding, all +1 (0 is reserved for no token)', () => {
  const ids = tokenCharIds('IL-6');
  assert.deepEqual(Array.from(ids.slice(0, 8)), [259, 74, 77, 46, 55, 260, 261, 261]);
  assert.equal(ids.length, 50);
  assert.ok(ids.slice(6).every((x) => x === 261));
});

test('the sentence markers are one-character words 256 and 257', () => {
  assert.deepEqual(Array.from(tokenCharIds('<S>').slice(0, 4)), [259, 257, 260, 261]);
  assert.deepEqual(Array.from(tokenCharIds('</S>').slice(0, 4)), [259, 258, 260, 261]);
});

test('multi-byte characters take one id per UTF-8 byte', () => {
  assert.deepEqual(Array.from(tokenCharIds('β').slice(0, 4)), [259, 0xce + 1, 0xb2 + 1, 260]);
});

test('a token longer than the limit keeps its first 48 bytes and still ends with end-of-word', () => {
  const long = 'a'.repeat(47) + 'bcdef';
  assert.ok(isTruncated(long));
  assert.ok(!isTruncated('a'.repeat(48)));
  const ids = tokenCharIds(long);
  assert.equal(ids[0], 259);
  assert.equal(ids[47], 'a'.charCodeAt(0) + 1);
  assert.equal(ids[48], 'b'.charCodeAt(0) + 1);
  assert.equal(ids[49], 260, 'the last slot is end-of-word, no padding left');
  assert.deepEqual(Array.from(tokenCharIds(long)), Array.from(tokenCharIds('a'.repeat(47) + 'b' + 'zzz')), 'what is cut away is not seen');
});

test('a batch holds each distinct token once; padding positions point at the all-zero type 0', () => {
  const b = tokenBatch([['the', 'cat', 'the'], ['dog']]);
  assert.equal(b.types, 4);
  assert.deepEqual(Array.from(b.index), [1, 2, 1, 3, 0, 0]);
  assert.ok(b.typeIds.slice(0, 50).every((x) => x === 0));
  assert.deepEqual(b.lengths, [3, 1]);
});

test('a bilm-tf vocabulary file: <S>, </S>, <UNK> first, then words; unknown words map to <UNK>', () => {
  const v = BilmVocabulary.fromText('<S>\n</S>\n<UNK>\nthe\nof\n');
  assert.equal(v.size, 5);
  assert.deepEqual([v.bos, v.eos, v.unk], [0, 1, 2]);
  assert.equal(v.id('of'), 4);
  assert.equal(v.id('zebrafish'), 2);
});

test('a vocabulary without the three special tokens is an error naming the file and what is missing', () => {
  const dir = mkdtempSync(join(tmpdir(), 'elmo-vocab-'));
  const p = join(dir, 'vocab.txt');
  writeFileSync(p, '<S>\nthe\nof\n');
  assert.throws(() => BilmVocabulary.load(p), (e: unknown) => e instanceof UserError && e.message.includes(p) && e.message.includes('</S>, <UNK>'));
  writeFileSync(p, '<S>\n</S>\n<UNK>\nthe\nthe\n');
  assert.throws(() => BilmVocabulary.load(p), /line 5: duplicate token 'the'/);
  assert.throws(() => BilmVocabulary.load(join(dir, 'none.txt')), /vocabulary file not found/);
});

test('a vocabulary cut from counts is ordered by frequency after the specials', () => {
  const v = BilmVocabulary.fromCounts(new Map([['b', 2], ['a', 5], ['c', 1], ['d', 2]]), { minCount: 2 });
  assert.deepEqual(v.words, ['<S>', '</S>', '<UNK>', 'a', 'b', 'd']);
  assert.equal(BilmVocabulary.fromText(v.toText()).toText(), v.toText());
});

test('long sentences are cut into windows overlapping by one token, so each token is predicted once per direction', () => {
  const seqs = toSequences([['a', 'b', 'c', 'd', 'e']], 3);
  assert.deepEqual(seqs, [['<S>', 'a', 'b'], ['b', 'c', 'd'], ['d', 'e', '</S>']]);
  const fwTargets = seqs.flatMap((s) => s.slice(1));
  assert.deepEqual(fwTargets, ['a', 'b', 'c', 'd', 'e', '</S>']);
  const bwTargets = seqs.flatMap((s) => s.slice(0, -1));
  assert.deepEqual(bwTargets, ['<S>', 'a', 'b', 'c', 'd', 'e']);
});

test('the unigram baseline is the add-one smoothed training frequency of each held-out target', () => {
  const v = BilmVocabulary.fromText('<S>\n</S>\n<UNK>\nx\n');
  const train = toSequences([['x', 'x', 'x']], 10); // targets x x x </S>
  const held = toSequences([['x']], 10); // targets x </S>
  const p = unigramPerplexity(train, held, v);
  const px = (3 + 1) / (4 + 4), ps = (1 + 1) / (4 + 4);
  assert.ok(Math.abs(p.perplexity - Math.exp(-(Math.log(px) + Math.log(ps)) / 2)) < 1e-9);
  assert.equal(p.tokens, 2);
});

test('options.json errors name the key; the default small options are valid bilm-tf options', () => {
  assert.throws(() => parseBilmOptions({ char_cnn: {} }, 'o.json'), /o\.json: options 'lstm' must be an object/);
  const o = smallBilmOptions();
  assert.throws(() => parseBilmOptions({ ...o, char_cnn: { ...o.char_cnn, activation: 'gelu' } }, 'o.json'), /char_cnn.activation' must be 'relu' or 'tanh'/);
  assert.throws(() => parseBilmOptions({ ...o, lstm: { ...o.lstm, cell_clip: -1 } }, 'o.json'), /lstm.cell_clip' must be a positive number or null/);
  assert.throws(() => parseBilmOptions({ ...o, char_cnn: { ...o.char_cnn, n_characters: 300 } }, 'o.json'), /n_characters/);
  assert.equal(parseBilmOptions(o).lstm.projection_dim, o.lstm.projection_dim);
});
