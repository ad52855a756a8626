import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findData, UserError } from '@biore/runtime';
import { loadDataset, type RelationInstance } from '@biore/re-data';
import {
  buildCorpus, buildPreset, loadEvaluationGuard, loadPreset, openCorpus, sentenceKey, defaultCorpus,
  TABLE4_PRESETS, type ContaminationGuard,
} from '@biore/corpus';

const text = findData('text').path;
let guard: ContaminationGuard;
let chemprotTest: RelationInstance[];
const evalKeys = new Set<string>();

before(() => {
  guard = loadEvaluationGuard();
  chemprotTest = loadDataset('chemprot', { split: 'test' });
  for (const i of [...chemprotTest, ...loadDataset('ddi', { split: 'test' })]) evalKeys.add(sentenceKey(i.tokens.join(' ')));
  for (let f = 1; f <= 10; f++) for (const i of loadDataset('aimed', { split: 'test', fold: f })) evalKeys.add(sentenceKey(i.tokens.join(' ')));
});

function lines(file: string): string[] {
  return readFileSync(file, 'utf8').split('\n').filter(Boolean);
}

function corpusLines(dir: string): string[] {
  const c = openCorpus(dir);
  return [...c.trainFiles, c.validFile, c.testFile].flatMap(lines);
}

test("Table 4's four combinations ship as presets naming their sources", () => {
  assert.deepEqual(TABLE4_PRESETS.map((p) => loadPreset(p).sources), [['pubmed'], ['pubmed', 'chemrxiv'], ['pubmed', 'pmc'], ['pubmed', 'pmc', 'chemrxiv']]);
  assert.throws(() => loadPreset('nope'), UserError);
});

test('the four Table 4 corpora build offline from the local texts, in flair layout, with no evaluation test PMID or sentence', async () => {
  const root = mkdtempSync(join(tmpdir(), 'corpus-t4-'));
  const sizes: Record<string, number> = {};
  const testPmids = new Set(chemprotTest.map((i) => i.docId));
  for (const p of TABLE4_PRESETS) {
    const { dir, manifest } = await buildPreset({ preset: p, out: join(root, p), guard });
    assert.deepEqual(manifest.sources.map((s) => s.name), loadPreset(p).sources);
    assert.deepEqual(readdirSync(dir).sort(), ['documents.tsv', 'manifest.json', 'test.txt', 'train', 'valid.txt']);
    const c = openCorpus(join(dir, 'manifest.json'));
    assert.ok(c.trainFiles.length >= 1 && c.trainFiles.every((f, i) => f.endsWith(`train/train_split_${i + 1}`)));
    const all = corpusLines(dir);
    assert.equal(all.length, manifest.counts.sentences);
    assert.equal(manifest.files.train.reduce((n, f) => n + f.lines, 0) + manifest.files.valid.lines + manifest.files.test.lines, all.length);
    assert.ok(manifest.guard && manifest.guard.pmids > 700 && manifest.guard.datasets.length === 4);
    for (const l of all) {
      assert.ok(!evalKeys.has(sentenceKey(l)), `evaluation sentence in ${p}: ${l}`);
      assert.ok(!guard.matchesSentence(l), `guarded sentence in ${p}: ${l}`);
    }
    for (const row of lines(join(dir, 'documents.tsv')).slice(1)) {
      const pmid = row.split('\t')[2];
      assert.ok(!testPmids.has(pmid), `ChemProt test PMID ${pmid} in ${p}`);
    }
    assert.equal(new Set(all.map(sentenceKey)).size, all.length, 'sentences are de-duplicated');
    sizes[p] = manifest.counts.sentences;
  }
  // adding a source only adds text
  assert.ok(sizes['pubmed'] < sizes['pubmed+pmc'] && sizes['pubmed+pmc'] < sizes['pubmed+pmc+chemrxiv']);
  assert.ok(sizes['pubmed'] < sizes['pubmed+chemrxiv']);
});

/** A PubMed XML file with the given (pmid, abstract) citations. */
function pubmedXml(docs: [string, string][]): string {
  const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;');
  return `<?xml version="1.0"?>\n<PubmedArticleSet>\n${docs.map(([pmid, abs]) =>
    `<PubmedArticle><MedlineCitation><PMID Version="1">${pmid}</PMID><Article><Journal><Title>J</Title><JournalIssue><PubDate><Year>2001</Year></PubDate></JournalIssue></Journal><ArticleTitle>Article number ${pmid} about proteins.</ArticleTitle><Abstract><AbstractText>${esc(abs)}</AbstractText></Abstract></Article></MedlineCitation></PubmedArticle>`).join('\n')}\n</PubmedArticleSet>\n`;
}

test('the guard removes ChemProt test documents by PMID and evaluation sentences by text, unless the user opts out', async () => {
  const pmid = chemprotTest[0].docId;
  const ddi = loadDataset('ddi', { split: 'test' })[0].tokens.join(' ');
  const gad = loadDataset('gad', { split: 'test', fold: 1 })[0].tokens.join(' ').replace('@GENE$', 'BRCA1').replace('@DISEASE$', 'breast cancer');
  const filler = Array.from({ length: 40 }, (_, i) => [String(9_000_000 + i), `Protein ${i} binds receptor ${i} in cultured cells. The binding was measured twice in vitro.`] as [string, string]);
  const dir = mkdtempSync(join(tmpdir(), 'corpus-guard-'));
  mkdirSync(join(dir, 'pubmed'));
  writeFileSync(join(dir, 'pubmed', 'mix.xml'), pubmedXml([
    [pmid, 'A ChemProt test abstract that must not be seen. It has two sentences here.'],
    ['9100001', `An innocent first sentence about kinases. ${ddi} A final innocent sentence about kinases.`],
    ['9100002', `Another innocent sentence about genes. ${gad}`],
    ...filler,
  ]));
  const opts = { name: 'guard-test', sources: [{ name: 'pubmed' as const, dir: join(dir, 'pubmed') }], validFraction: 0.2, testFraction: 0.2 };
  const m = await buildCorpus({ ...opts, out: join(dir, 'guarded'), guard });
  const guarded = corpusLines(join(dir, 'guarded'));
  assert.equal(m.counts.guardedDocuments, 1);
  assert.equal(m.counts.guardedSentences, 2);
  assert.ok(!guarded.some((l) => l.includes('ChemProt test abstract')));
  assert.ok(!guarded.some((l) => sentenceKey(l) === sentenceKey(ddi) || l.includes('BRCA1')));
  assert.ok(guarded.includes('An innocent first sentence about kinases.'));
  // "The binding was measured twice in vitro." appears in all 40 filler abstracts: kept once
  assert.equal(guarded.filter((l) => l === 'The binding was measured twice in vitro.').length, 1);
  assert.equal(m.counts.duplicateSentences, 39);
  const open = await buildCorpus({ ...opts, out: join(dir, 'open'), guard: null });
  const unguarded = corpusLines(join(dir, 'open'));
  assert.ok(unguarded.some((l) => l.includes('ChemProt test abstract')));
  assert.ok(unguarded.some((l) => l.includes('BRCA1')));
  assert.equal(open.options.guard, false);
});

test('a failing build leaves neither a corpus nor a temporary folder behind', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'corpus-fail-'));
  mkdirSync(join(dir, 'pubmed'));
  symlinkSync(join(text, 'pubmed', 'medline16n0902.xml.gz'), join(dir, 'pubmed', 'a.xml.gz'));
  writeFileSync(join(dir, 'pubmed', 'b.xml'), '<PubmedArticleSet><PubmedArticle><MedlineCitation><PMID>1</PMID><Article>');
  await assert.rejects(buildCorpus({ name: 'x', sources: [{ name: 'pubmed', dir: join(dir, 'pubmed') }], out: join(dir, 'out'), guard: null }),
    (e: unknown) => e instanceof UserError && /b\.xml/.test(e.message));
  assert.deepEqual(readdirSync(dir), ['pubmed']);
});

test('the default corpus is built once where asked and then only opened', async () => {
  const dir = join(mkdtempSync(join(tmpdir(), 'corpus-default-')), 'local-all');
  let builds = 0;
  const a = await defaultCorpus({ dir, guard, onBuild: () => builds++ });
  const b = await defaultCorpus({ dir, guard, onBuild: () => builds++ });
  assert.equal(builds, 1);
  assert.equal(a.manifest.name, 'pubmed+pmc+chemrxiv');
  assert.deepEqual(b.manifest.files, a.manifest.files);
  assert.ok(existsSync(a.validFile) && existsSync(a.testFile));
});
