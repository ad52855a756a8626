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
  for (const abbr of ['e.g.', 'i.e.', 'et al.', 'Fig.', 'Figs.', 'vs.', 'approx.', 'Dr.', 'No.', 'cf.', 'U.S.']) {
    const t = `Rats were treated ${abbr} Compound A was given. Then they slept.`;
    assert.deepEqual(sentences(t), [`Rats were treated ${abbr} Compound A was given.`, 'Then they slept.'], abbr);
  }
});

test('abbreviations match case-sensitively: DR. (dopamine receptor) and NO. (nitric oxide) end a sentence', () => {
  assert.deepEqual(sentences('It is also known not to form DR. This study shows more.'), ['It is also known not to form DR.', 'This study shows more.']);
  assert.deepEqual(sentences('Cells produce NO. The effect was blocked.'), ['Cells produce NO.', 'The effect was blocked.']);
  assert.equal(sentences('As Dr. Smith said. Then it rained.').length, 2);
});

test('units and etc. are not abbreviations: "for 30 min. The" is two sentences', () => {
  assert.deepEqual(sentences('Cells were incubated for 30 min. The medium was replaced.'), ['Cells were incubated for 30 min.', 'The medium was replaced.']);
  assert.equal(sentences('It was measured after 72 h. Significant increases followed.').length, 2);
  assert.equal(sentences('Chalcones, hydrazones, etc. These were tested.').length, 2);
});

test('a route of administration ends a sentence unless a preposition stands before it', () => {
  assert.deepEqual(sentences('Drug X was infused i.v. Infusion lasted 2 h.'), ['Drug X was infused i.v.', 'Infusion lasted 2 h.']);
  assert.equal(sentences('The response provoked by i.v. CCK-8 was small.').length, 1);
  assert.equal(sentences('Rats were given i.p. injections daily.').length, 1);
});

test('a capital initial: names and journal titles stay whole, "kinase C. The" and "vitamin D. These" end there', () => {
  assert.equal(sentences('As shown by Dr. J. Smith and R. A. Jones the dose was 2.5 mg. Then J. R. Smith agreed.').length, 2);
  assert.deepEqual(sentences('It activates protein kinase C. The effect was blocked.'), ['It activates protein kinase C.', 'The effect was blocked.']);
  assert.equal(sentences('Deficient in vitamin D. These rats were small.').length, 2);
  assert.equal(sentences('Growth of E. coli was inhibited.').length, 1);
  assert.equal(sentences('J. Smith reported it in 1990.').length, 1);
  assert.equal(sentences('See (1996) J. Biol. Chem. 270, 12 for details. As in Proc. Natl. Acad. Sci. USA 107 it was. 30 rats died.').length, 3);
  assert.equal(sentences('The fungus Nocardiopsis sp. KMF-001 was grown.').length, 1);
});

test('inside brackets no sentence ends; a stray opener does not hide the boundaries after it', () => {
  assert.equal(sentences('Levels rose (see Fig. 2. Data not shown. Also table 1.) in all rats. Then fell.').length, 2);
  const stray = 'CGS 12066B (7-trifluoromethyl-4(4 methyl-quinoxaline malate). ' + 'Binding was not altered by these compounds at all. '.repeat(5) + 'It fell (H).';
  assert.equal(sentences(stray).length, 7);
});

test('a sentence begins with a capital, a digit, a lower-case gene or chemical name, or a glued stereo prefix; not with a plain lower-case word', () => {
  assert.deepEqual(sentences('It binds to the receptor. mRNA levels rose.'), ['It binds to the receptor.', 'mRNA levels rose.']);
  assert.equal(sentences('Rats were fasted. l-glutamine was given. c-fos rose. p53 fell.').length, 4);
  assert.equal(sentences('Dose was 5 mg. 10 rats died.').length, 2);
  assert.equal(sentences('Stereo forms were used. (-)-Stepholidine was active. (R)-Roscovitine was not.').length, 3);
  assert.equal(sentences('It was done in children. (ABSTRACT TRUNCATED AT 250 WORDS)').length, 2);
  assert.equal(sentences('No inhibitor was given. (3) There is clinical evidence.').length, 2);
  assert.equal(sentences('Each took 1 mg. anastrozole daily.').length, 1);
  assert.equal(sentences('The dose was 10 mg. kg(-1) daily.').length, 1);
  assert.equal(sentences('It was done. (Results follow.)').length, 1);
  assert.equal(sentences('It was done. "Results" follow.').length, 1);
  assert.equal(sentences('It was done. Égalité follows.').length, 2);
});

test('a list number stays with the sentence it opens', () => {
  assert.deepEqual(sentences('Rats were dosed with alanine. 5. These results are new. 6. The end.'),
    ['Rats were dosed with alanine.', '5. These results are new.', '6. The end.']);
});

test('blank lines always split', () => {
  assert.deepEqual(sentences('Title without period\n\nabstract starts here.'), ['Title without period', 'abstract starts here.']);
  assert.deepEqual(splitSentences(''), []);
});

test("compat 'blue' is BLUE's construction: only a capital begins a sentence, i.v. never ends one, nor does a word spaCy keeps its period on (microM., IgG., kinase C.)", () => {
  const t = 'The IC50 was 5 microM. The effect of IgG. Was it. Then PKC. Last. It binds. mRNA rose. Given i.v. Aspirin was. Of kinase C. The end. Form DR. This one.';
  const blue = splitSentences(t, { compat: 'blue' }).map((s) => t.slice(s.start, s.end));
  assert.deepEqual(blue, ['The IC50 was 5 microM. The effect of IgG. Was it.', 'Then PKC.', 'Last.', 'It binds. mRNA rose.',
    'Given i.v. Aspirin was.', 'Of kinase C. The end.', 'Form DR.', 'This one.']);
  assert.equal(sentences(t).length, 13);
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
