import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Rng, UserError, findData } from '@biore/runtime';
import {
  CharBigram, CharDictionary, UNK, batchify, countChars, deriveCorpus, documentsToStream, estimateBigram, getWindow,
  openCharCorpus, readDocuments, windowCount,
} from '../src/index.ts';
import { pubmedDocs, writeCorpus } from './helpers.ts';

test('the dictionary is <unk> then characters by falling frequency, capped, by code point', () => {
  const d = CharDictionary.fromCounts(countChars('aaaa b c 𝛼𝛼𝛼 '), 4);
  // ' ' and 'a' both occur 4 times: ties go by code point; '𝛼' is one character, not two halves
  assert.deepEqual(d.items, [UNK, ' ', 'a', '𝛼']);
  assert.equal(d.size, 4);
  // 'b' and 'c' fell off the cap: unknown
  assert.deepEqual(Array.from(d.encode('ab𝛼')), [2, 0, 3]);
  assert.equal(d.decode(d.encode('a 𝛼a')), 'a 𝛼a');
  const again = CharDictionary.parse(d.serialize(), 'dict.json');
  assert.deepEqual(again.items, d.items);
});

test('a malformed dictionary file is a UserError naming it', () => {
  assert.throws(() => CharDictionary.parse('{"items": ["a"]}', '/x/dictionary.json'), (e: Error) => e instanceof UserError && /\/x\/dictionary.json/.test(e.message));
  assert.throws(() => CharDictionary.parse('{not json', '/x/d.json'), UserError);
  assert.throws(() => CharDictionary.parse(JSON.stringify({ format: 'biore-char-dictionary', items: [UNK, 'ab'] }), 'd.json'), /entry 1 is not a single character/);
});

test('batchify lays the stream out as flair does: column b is the b-th contiguous piece; targets are successors', () => {
  const ids = Int32Array.from({ length: 23 }, (_, i) => i);
  const s = batchify(ids, 4);
  assert.equal(s.rows, 5);
  // column 2 holds characters 10..14
  assert.deepEqual([0, 1, 2, 3, 4].map((t) => s.data[t * 4 + 2]), [10, 11, 12, 13, 14]);
  assert.equal(windowCount(s, 3), 2);
  const w0 = getWindow(s, 0, 3);
  const w1 = getWindow(s, 1, 3);
  assert.equal(w0.len, 3);
  assert.equal(w1.len, 1);
  // batch-major: row b of window 0 is characters 5b..5b+2, targets one later
  assert.deepEqual(Array.from(w0.input.subarray(3, 6)), [5, 6, 7]);
  assert.deepEqual(Array.from(w0.target.subarray(3, 6)), [6, 7, 8]);
  assert.deepEqual(Array.from(w1.input), [3, 8, 13, 18]);
  assert.deepEqual(Array.from(w1.target), [4, 9, 14, 19]);
});

test('the backward LM reads each split as the forward stream reversed, documents ended by the delimiter', () => {
  const d = CharDictionary.fromCounts(countChars('abc\n'));
  const fw = documentsToStream(['ab', 'c'], d, { forward: true });
  const bw = documentsToStream(['ab', 'c'], d, { forward: false });
  assert.equal(d.decode(fw), 'ab\nc\n');
  assert.equal(d.decode(bw), '\nc\nba');
  // shuffling and case flips come only from the rng, so the same state gives the same stream
  const docs = pubmedDocs(50, 60);
  const dict = CharDictionary.fromCounts(countChars(docs.join('\n')));
  const a = documentsToStream(docs, dict, { forward: true, rng: new Rng(5), caseFlip: true });
  const b = documentsToStream(docs, dict, { forward: true, rng: new Rng(5), caseFlip: true });
  assert.deepEqual(a, b);
  assert.notDeepEqual(a, documentsToStream(docs, dict, { forward: true }));
});

test('a corpus folder in flair layout opens; an empty one is a clear error', () => {
  const root = writeCorpus([['one doc'], ['two doc']], ['valid doc'], ['test doc']);
  const c = openCharCorpus(root);
  assert.equal(c.train.length, 2);
  assert.deepEqual(readDocuments(c.valid), ['valid doc']);
  const empty = mkdtempSync(join(tmpdir(), 'charlm-empty-'));
  mkdirSync(join(empty, 'train'));
  assert.throws(() => openCharCorpus(empty), (e: Error) => e instanceof UserError && /empty corpus/.test(e.message));
  writeFileSync(join(empty, 'train', 'a.txt'), '');
  writeFileSync(join(empty, 'valid.txt'), 'x\n');
  writeFileSync(join(empty, 'test.txt'), 'x\n');
  assert.throws(() => openCharCorpus(empty), /empty corpus: every training split file is empty/);
  writeFileSync(join(empty, 'train', 'a.txt'), '\n\n');
  assert.throws(() => readDocuments(join(empty, 'train', 'a.txt')), (e: Error) => e instanceof UserError && e.message.includes('a.txt'));
  assert.throws(() => openCharCorpus(join(tmpdir(), 'no-such-corpus-folder')), /corpus folder not found/);
});

test('the default corpus split is deterministic and holds out every 20th document twice over', () => {
  const src = join(findData('text').path, 'pubmed', 'PubMedAbstract_1MB.txt');
  const out = mkdtempSync(join(tmpdir(), 'charlm-default-'));
  const a = deriveCorpus(src, join(out, 'a'));
  const b = deriveCorpus(src, join(out, 'b'));
  const n = readDocuments(src).length;
  assert.equal(a.info.documents.train + a.info.documents.valid + a.info.documents.test, n);
  assert.equal(a.info.documents.valid, Math.floor(n / 20) + (n % 20 >= 19 ? 1 : 0));
  assert.equal(readFileSync(a.valid, 'utf8'), readFileSync(b.valid, 'utf8'));
  const train = new Set(readDocuments(a.train[0]));
  assert.ok(readDocuments(a.test).every((d) => !train.has(d)), 'test documents are not in training');
});

test('the add-k bigram is a distribution, chooses k on training text alone, and beats uniform on held-out text', () => {
  const docs = pubmedDocs(200, 2000);
  const dict = CharDictionary.fromCounts(countChars(docs.join('\n')));
  const train = documentsToStream(docs.slice(0, 180), dict, { forward: true });
  const held = documentsToStream(docs.slice(180), dict, { forward: true });
  const m = estimateBigram([train], dict.size);
  for (const prev of [1, 5, 0]) {
    let s = 0;
    for (let next = 0; next < dict.size; next++) s += 2 ** m.log2Prob(prev, next);
    assert.ok(Math.abs(s - 1) < 1e-9, `P(·|${prev}) sums to ${s}`);
  }
  const bpc = m.bitsPerChar(held);
  assert.ok(bpc < Math.log2(dict.size) - 1, `bigram ${bpc} bits/char vs uniform ${Math.log2(dict.size)}`);
  assert.ok(bpc > 2.5 && bpc < 4.5, `bigram bits/char on English abstracts ${bpc}`);
  // the same pairs scored in batched layout give about the same figure
  const batched = m.bitsPerCharBatched(batchify(held, 8));
  assert.ok(Math.abs(batched - bpc) < 0.1);
  // a smaller k than 1 wins on this much text
  assert.ok(m.k < 1);
  assert.ok(new CharBigram(dict.size, 1).add(train).bitsPerChar(held) >= bpc - 1e-9);
});
