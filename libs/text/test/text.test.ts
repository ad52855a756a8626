import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UserError, findData } from '@biore/runtime';
import { tokenize, words, splitSentences, Vocabulary, WordCounter, TOKEN_PATTERN } from '../src/index.ts';

const sentences = (t: string) => splitSentences(t).map((s) => t.slice(s.start, s.end));

test('every token is the slice of the input at its offsets', () => {
  const s = 'IL-2 (5-HT(2A)) at 1.5 mg/kg, p<0.05; Alzheimer\u2019s 𝛼-helix\u00a0done.';
  for (const t of tokenize(s)) assert.equal(s.slice(t.start, t.end), t.text);
});

test('biomedical names keep inner hyphens, apostrophes and decimals; punctuation is split off', () => {
  assert.deepEqual(words('IL-2-induced 5-HT(2A) receptors'), ['IL-2-induced', '5-HT', '(', '2A', ')', 'receptors']);
  assert.deepEqual(words('p<0.05, 1.5-fold and 10,000 cells.'), ['p', '<', '0.05', ',', '1.5-fold', 'and', '10,000', 'cells', '.']);
  assert.deepEqual(words("Crohn's disease, 5'-UTR, Na+/K+-ATPase"), ["Crohn's", 'disease', ',', "5'-UTR", ',', 'Na', '+', '/', 'K', '+', '-', 'ATPase']);
  assert.deepEqual(words('a sentence ending in 2. Next'), ['a', 'sentence', 'ending', 'in', '2', '.', 'Next']);
  assert.deepEqual(words('trailing- hyphen'), ['trailing', '-', 'hyphen']);
});

test('tokenizer is Unicode-safe: accents, Greek and astral letters stay whole, any space separates', () => {
  const s = 'TNF-α and β-catenin in Müller cells\u2009(𝛽-form)';
  assert.deepEqual(words(s), ['TNF-α', 'and', 'β-catenin', 'in', 'Müller', 'cells', '(', '𝛽-form', ')']);
  const astral = tokenize('😀x');
  assert.deepEqual(astral.map((t) => [t.text, t.start, t.end]), [['😀', 0, 2], ['x', 2, 3]]);
});

test('sentences split at ordinary boundaries, spans are trimmed', () => {
  const t = '  The drug inhibits COX-2.  It was well tolerated!   Why? Nobody knows.  ';
  assert.deepEqual(sentences(t), ['The drug inhibits COX-2.', 'It was well tolerated!', 'Why?', 'Nobody knows.']);
});

test('no split after biomedical abbreviations', () => {
  for (const abbr of ['e.g.', 'i.e.', 'et al.', 'Fig.', 'Figs.', 'vs.', 'approx.', 'i.v.', 'i.p.', 's.c.', 'Dr.', 'No.']) {
    const t = `Rats were treated ${abbr} Compound A was given. Then they slept.`;
    assert.deepEqual(sentences(t), [`Rats were treated ${abbr} Compound A was given.`, 'Then they slept.'], abbr);
  }
});

test('no split after a capital initial (even "kinase C."), decimals, or inside brackets', () => {
  assert.equal(sentences('As shown by Dr. J. Smith and R. A. Jones the dose was 2.5 mg. Then J. R. Smith agreed.').length, 2);
  assert.equal(sentences('Levels rose (see Fig. 2. Data not shown. Also table 1.) in all rats. Then fell.').length, 2);
  assert.equal(sentences('It activates protein kinase C. The effect was blocked.').length, 1); // the documented price
  assert.equal(sentences('Growth of E. coli was inhibited.').length, 1);
  assert.equal(sentences('Reported by J. Smith in 1990.').length, 1);
});

test('only an upper-case letter begins a sentence (not lower case, digits, brackets); blank lines always split', () => {
  assert.equal(sentences('It binds to the receptor. mRNA levels rose.').length, 1);
  assert.equal(sentences('Dose was 5 mg. 10 rats died.').length, 1);
  assert.equal(sentences('It was done. (Results follow.)').length, 1);
  assert.equal(sentences('It was done. "Results" follow.').length, 1);
  assert.equal(sentences('It was done. Égalité follows.').length, 2);
  assert.deepEqual(sentences('Title without period\n\nabstract starts here.'), ['Title without period', 'abstract starts here.']);
  assert.deepEqual(splitSentences(''), []);
});

test("compat 'blue' also keeps a period after one capital after a non-capital (microM., IgG.) inside the sentence", () => {
  const t = 'The IC50 was 5 microM. The effect of IgG. Was it. Then PKC. Last.';
  assert.deepEqual(sentences(t), ['The IC50 was 5 microM.', 'The effect of IgG.', 'Was it.', 'Then PKC.', 'Last.']);
  const blue = splitSentences(t, { compat: 'blue' }).map((s) => t.slice(s.start, s.end));
  assert.deepEqual(blue, ['The IC50 was 5 microM. The effect of IgG. Was it.', 'Then PKC.', 'Last.']);
});

test('vocabulary orders by frequency (ties alphabetically), applies min count and specials', () => {
  const v = Vocabulary.build([['b', 'a', 'c', 'a'], ['c', 'd', 'a']], { minCount: 2, specials: ['<pad>', '<unk>'] });
  assert.deepEqual(v.words(), ['<pad>', '<unk>', 'a', 'c']);
  assert.deepEqual(v.counts(), [0, 0, 3, 2]);
  assert.equal(v.id('c'), 3);
  assert.equal(v.id('b'), -1);
  assert.deepEqual(v.encode(['a', 'zz'], 1), [2, 1]);
  assert.equal(v.word(2), 'a');
  assert.throws(() => v.word(9), RangeError);
  const c = new WordCounter();
  c.addAll(['x', 'y', 'x']);
  assert.equal(c.total, 3);
  assert.deepEqual(c.toVocabulary({ maxSize: 1 }).words(), ['x']);
});

test('vocabulary saves one word a line with counts and loads back identically', () => {
  const dir = mkdtempSync(join(tmpdir(), 'biore-text-'));
  const v = Vocabulary.build([words('the cat saw the IL-2 cat the end')]);
  const p = join(dir, 'vocab.txt');
  v.save(p);
  const w = Vocabulary.load(p);
  assert.deepEqual(w.words(), v.words());
  assert.deepEqual(w.counts(), v.counts());
  assert.equal(w.words()[0], 'the');
  assert.equal(w.count('the'), 3);
});

test('malformed vocabulary files are user errors naming file and line', () => {
  const dir = mkdtempSync(join(tmpdir(), 'biore-text-'));
  const p = join(dir, 'bad.txt');
  writeFileSync(p, 'the 3\ncat x\n');
  assert.throws(() => Vocabulary.load(p), (e: unknown) => e instanceof UserError && e.message.includes(p) && e.message.includes('line 2'));
  writeFileSync(p, 'the 3\nthe 2\n');
  assert.throws(() => Vocabulary.load(p), /line 2.*duplicate/);
  assert.throws(() => Vocabulary.load(join(dir, 'none.txt')), UserError);
  assert.throws(() => new Vocabulary([['a b', 1]]).toText(), UserError);
});

test('the hand-written scanner tokenizes exactly as the TOKEN_PATTERN definition, on real and random text', () => {
  const reference = (s: string) => [...s.matchAll(TOKEN_PATTERN)].map((m) => [m[0], m.index!, m.index! + m[0].length]);
  const check = (s: string) => assert.deepEqual(tokenize(s).map((t) => [t.text, t.start, t.end]), reference(s), JSON.stringify(s));
  const dir = findData('text/pubmed').path;
  const real = readFileSync(join(dir, 'PubMedAbstract_1MB.txt'), 'utf8').slice(0, 200_000);
  check(real);
  const alphabet = ['a', 'B', '1', '9', '.', ',', '-', '\u2010', "'", '\u2019', ' ', '\u00a0', '(', ')', 'é', 'α', '\u0301', '😀', '𝛽', '٣', '\ud800', '/', '+', '\n'];
  let seed = 12345;
  const rand = (n: number) => { seed = (Math.imul(seed, 1103515245) + 12345) >>> 0; return seed % n; };
  for (let k = 0; k < 3000; k++) {
    let s = '';
    const len = 1 + rand(14);
    for (let j = 0; j < len; j++) s += alphabet[rand(alphabet.length)];
    check(s);
  }
});
