import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { findData, UserError } from '@biore/runtime';
import { minimalPdf } from './helpers.ts';
import {
  parsePubmed, parseJats, readLocalChemrxiv, sourceDocuments, fullTextBlocks, documentSentences, pdfToText,
  licenceAllowsText, normaliseApiItem,
} from '@biore/corpus';

const text = findData('text').path;
const eutils = findData('fixtures/eutils').path;

async function all<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

test('the MEDLINE baseline file gives its 604 citations, 526 with an abstract, streamed from .gz', async () => {
  const docs = await all(parsePubmed(join(text, 'pubmed', 'medline16n0902.xml.gz')));
  assert.equal(docs.length, 604);
  assert.equal(docs.filter((d) => d.abstract).length, 526);
  assert.equal(new Set(docs.map((d) => d.pmid)).size, 604);
  assert.ok(docs.every((d) => /^\d+$/.test(d.pmid) && d.title.length > 0 && d.journal && d.year! >= 1900));
  const first = docs[0];
  assert.equal(first.pmid, '17942999');
  assert.deepEqual(first.sections.map((s) => s.label), ['PURPOSE', 'METHODS', 'RESULTS', 'CONCLUSIONS']);
  assert.equal(first.sections[1].category, 'METHODS');
  assert.equal(first.abstract, first.sections.map((s) => s.text).join(' '));
});

test('every EFetch PubmedArticleSet fixture parses with its counts of articles and abstracts', async () => {
  const expected: Record<string, [number, number]> = {
    'pubmed-29768149.xml': [1, 1], 'pubmed1.xml': [2, 1], 'pubmed2.xml': [2, 2], 'pubmed4.xml': [1, 1], 'pubmed5.xml': [1, 1],
  };
  const files = readdirSync(eutils).filter((f) => /^pubmed.*\.xml$/.test(f)).sort();
  assert.deepEqual(files, Object.keys(expected).sort());
  for (const f of files) {
    const docs = await all(parsePubmed(join(eutils, f)));
    assert.deepEqual([docs.length, docs.filter((d) => d.abstract).length], expected[f], f);
  }
  const [nejm] = await all(parsePubmed(join(eutils, 'pubmed-29768149.xml')));
  assert.equal(nejm.pmid, '29768149');
  assert.deepEqual(nejm.sections.map((s) => s.label), ['BACKGROUND', 'METHODS', 'RESULTS', 'CONCLUSIONS']);
  assert.equal(nejm.year, 2018);
});

test('every PMC .nxml file and the pmc-articleset give one article with title, abstract and body', async () => {
  const files = readdirSync(join(text, 'pmc')).filter((f) => f.endsWith('.nxml'));
  assert.equal(files.length, 8);
  let abstracts = 0;
  for (const f of files) {
    const arts = await all(parseJats(join(text, 'pmc', f)));
    assert.equal(arts.length, 1, f);
    const a = arts[0];
    assert.ok(a.title && a.pmcid && a.pmid, f);
    assert.ok(a.abstract.length >= 1, `${f} abstract`);
    assert.ok(a.body.reduce((n, s) => n + s.paragraphs.length, 0) >= 10, `${f} body`);
    assert.equal(a.captions, undefined);
    abstracts += a.abstract.reduce((n, s) => n + s.paragraphs.length, 0) > 0 ? 1 : 0;
  }
  assert.equal(abstracts, 8);
  const set = await all(parseJats(join(eutils, 'efetch_pmc.xml')));
  assert.equal(set.length, 1);
  assert.equal(set[0].pmcid, '8435807');
  assert.equal(set[0].pmid, '34527728');
  assert.equal(set[0].articleType, 'correction');
  assert.equal(set[0].abstract.length, 0, 'an author correction has no abstract');
});

test('JATS figures, tables and references are returned apart when asked, never mixed into the body', async () => {
  const f = join(text, 'pmc', '1471-2180-11-174.nxml');
  const [plain] = await all(parseJats(f));
  const [rich] = await all(parseJats(f, { figures: true, tables: true, references: true }));
  assert.deepEqual(rich.body, plain.body);
  assert.equal(rich.captions!.length, 5);
  assert.equal(rich.tables!.length, 3);
  assert.equal(rich.references!.length, 64);
  const body = plain.body.flatMap((s) => s.paragraphs).join('\n');
  for (const c of rich.captions!) assert.ok(!body.includes(c.slice(0, 60)), 'a caption leaked into the body');
  // citation markers such as [12] are removed, not left as empty brackets
  assert.ok(!/\[\s*[,–-]?\s*\]/.test(body));
  assert.deepEqual(plain.body.map((s) => s.title).slice(0, 2), ['Background', 'Results']);
});

test('JATS formulas are dropped or replaced by a placeholder', async () => {
  const xml = `<article><front><article-meta><title-group><article-title>T</article-title></title-group></article-meta></front>
    <body><sec><title>S</title><p>The rate is <inline-formula><mml:math><mml:mi>k</mml:mi></mml:math></inline-formula> per second.</p></sec></body></article>`;
  const [drop] = await all(parseJats([xml]));
  const [ph] = await all(parseJats([xml], { formulas: 'placeholder' }));
  assert.equal(drop.body[0].paragraphs[0], 'The rate is per second.');
  assert.equal(ph.body[0].paragraphs[0], 'The rate is [formula] per second.');
});

test('the local ChemRxiv folder gives its 153 papers, each with full text and a CC BY licence', () => {
  const recs = [...readLocalChemrxiv(join(text, 'chemrxiv'))];
  assert.equal(recs.length, 153);
  assert.equal(recs.filter((r) => r.fullText).length, readdirSync(join(text, 'chemrxiv', 'full-text')).length);
  assert.ok(recs.every((r) => r.title && r.abstract && licenceAllowsText(r.license)));
  const blocks = fullTextBlocks(recs[0].fullText!);
  assert.ok(blocks.length > 10);
  assert.ok(!blocks.some((b) => b.includes('@')), 'e-mail lines are dropped');
});

test('the one-abstract-a-line file gives 725 documents (724 distinct abstracts)', async () => {
  const docs = (await all(sourceDocuments({ name: 'pubmed', dir: join(text, 'pubmed') }))).filter((d) => d.id.includes('.txt:'));
  assert.equal(docs.length, 725);
  assert.equal(new Set(docs.map((d) => d.blocks[0])).size, 724);
});

test('malformed XML names the file, the record and the line', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'corpus-bad-'));
  const good = readFileSync(join(eutils, 'pubmed2.xml'), 'utf8');
  // cut the file inside the second article
  const cut = good.slice(0, good.lastIndexOf('<AbstractText'));
  const f = join(dir, 'cut.xml.gz');
  writeFileSync(f, gzipSync(cut));
  await assert.rejects(all(parsePubmed(f)), (e: unknown) => e instanceof UserError && e.message.startsWith(f) && /record 2/.test(e.message) && /line \d+/.test(e.message));
  const broken = good.replace('</ArticleTitle>', '</ArticleTitl>');
  await assert.rejects(all(parsePubmed([broken], 'broken.xml')), (e: unknown) => e instanceof UserError && /broken\.xml, record 1 \(PMID \d+\)/.test(e.message));
  const noPmid = good.replace(/<PMID Version="1">\d+<\/PMID>/, '');
  await assert.rejects(all(parsePubmed([noPmid], 'nopmid.xml')), (e: unknown) => e instanceof UserError && /nopmid\.xml, record 1.*without a PMID/.test(e.message));
  // a truncated gzip is reported as such
  const gz = gzipSync(good);
  writeFileSync(join(dir, 'trunc.xml.gz'), gz.subarray(0, gz.length - 40));
  await assert.rejects(all(parsePubmed(join(dir, 'trunc.xml.gz'))), (e: unknown) => e instanceof UserError && /trunc\.xml\.gz/.test(e.message));
  await assert.rejects(all(parseJats(['<article><front><article-meta><article-id pub-id-type="pmc">1</article-id></article-meta></front><body><p>x</body></article>'], {}, 'bad.nxml')),
    (e: unknown) => e instanceof UserError && /bad\.nxml, record article 1 \(PMC1\)/.test(e.message));
});

test('a ChemRxiv sources.tsv row with a wrong field count names its line', () => {
  const dir = mkdtempSync(join(tmpdir(), 'corpus-tsv-'));
  writeFileSync(join(dir, 'sources.tsv'), '# c\ndoc_id\ttitle\tauthors\tabstract\tfields_of_study\tdoi_or_url\tlicense\n0\tT\tA\tAbs\tChem\tx\tCC BY 4.0\n1\tonly two\n');
  assert.throws(() => [...readLocalChemrxiv(dir)], (e: unknown) => e instanceof UserError && /sources\.tsv, record line 4: expected 7/.test(e.message));
});

test('ChemRxiv API items are normalised; one without an id is reported as malformed', () => {
  const ok = normaliseApiItem({ id: 'abc', doi: '10.26434/x', title: ' A title ', abstract: 'Abs.', license: { name: 'CC BY 4.0' }, asset: { mimeType: 'application/pdf', original: { url: 'http://h/x.pdf' } } });
  assert.deepEqual(ok, { id: 'abc', doi: '10.26434/x', title: 'A title', abstract: 'Abs.', license: 'CC BY 4.0', pdfUrl: 'http://h/x.pdf' });
  assert.deepEqual(normaliseApiItem({ title: 'x' }), { malformed: 'item without an id' });
  assert.equal(licenceAllowsText('CC BY NC ND 4.0'), false);
  assert.equal(licenceAllowsText('CC BY NC 4.0', false), false);
  assert.equal(licenceAllowsText(undefined), false);
});

test('sentences respect biomedical abbreviations and decimals, and short fragments are dropped', () => {
  const doc = { source: 'pubmed' as const, id: 'x', blocks: ['Rats were dosed i.v. with 1.5 mg/kg, e.g. as in Smith et al. (2001). See Fig. 2 for details.', '2.1 Methods'] };
  const { kept, dropped } = documentSentences(doc, 3, 2000);
  assert.deepEqual(kept, ['Rats were dosed i.v. with 1.5 mg/kg, e.g. as in Smith et al. (2001).', 'See Fig. 2 for details.']);
  assert.equal(dropped, 1);
});

test('pdf.js extracts the text line of a hand-written PDF; a non-PDF is a UserError', async () => {
  assert.equal(await pdfToText(minimalPdf('Aspirin irreversibly inhibits COX-1.')), 'Aspirin irreversibly inhibits COX-1.');
  await assert.rejects(pdfToText(Buffer.from('not a pdf at all'), 'x.pdf'), (e: unknown) => e instanceof UserError && /x\.pdf/.test(e.message));
});

