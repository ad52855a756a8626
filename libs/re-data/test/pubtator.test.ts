import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { findData } from '@biore/runtime';
import {
  candidateInstances, candidatePairs, chemProtAsPubTator, datasetOfLabels, loadChemProt, readPubTator, toPubTator,
  type PubTatorRecord,
} from '../src/index.ts';
import { tmpRoot } from './helpers.ts';

async function all(path: string, offset?: number): Promise<PubTatorRecord[]> {
  const out: PubTatorRecord[] = [];
  for await (const r of readPubTator(path, { offset })) out.push(r);
  return out;
}

const chemprotDir = findData('chemprot').path;

test('ChemProt test abstracts written as PubTator give back, plain and gzipped, exactly the instances of the ChemProt loader', async () => {
  const text = [...chemProtAsPubTator(chemprotDir, 'test')].map(toPubTator).join('');
  const root = tmpRoot({ 'test.pubtator': text });
  writeFileSync(join(root, 'test.pubtator.gz'), gzipSync(text));
  const key = (i: { docId: string; e1: { id?: string }; e2: { id?: string } }) => `${i.docId}.${i.e1.id}.${i.e2.id}`;
  const expected = new Map<string, string>();
  for (const i of loadChemProt(chemprotDir, 'test').instances) {
    expected.set(key(i), JSON.stringify([i.tokens, i.e1.start, i.e1.end, i.e1.type, i.e2.start, i.e2.end, i.e2.type]));
  }
  for (const file of ['test.pubtator', 'test.pubtator.gz']) {
    const recs = await all(join(root, file));
    assert.equal(recs.filter((r) => r.error).length, 0, recs.find((r) => r.error)?.error);
    assert.equal(recs.length, 800); // ChemProt test: 800 abstracts
    const got = new Map<string, string>();
    for (const r of recs) {
      for (const c of candidateInstances(r.doc!, candidatePairs('chemprot')).candidates) {
        const i = c.instance;
        got.set(key(i), JSON.stringify([i.tokens, i.e1.start, i.e1.end, i.e1.type, i.e2.start, i.e2.end, i.e2.type]));
        assert.equal(r.doc!.text.slice(c.e1.start, c.e1.end), c.e1.mention);
        assert.ok(c.sentence.start <= Math.min(c.e1.start, c.e2.start) && Math.max(c.e1.end, c.e2.end) <= c.sentence.end);
      }
    }
    assert.equal(got.size, expected.size, file);
    for (const [k, v] of expected) assert.equal(got.get(k), v, `${file} ${k}`);
  }
});

/** An annotation of the n-th occurrence of `mention` in `title + " " + abstract`. */
function mark(text: string, mention: string, type: string, id: string, nth = 0) {
  let at = -1;
  for (let k = 0; k <= nth; k++) at = text.indexOf(mention, at + 1);
  assert.ok(at >= 0, mention);
  return { start: at, end: at + mention.length, mention, type, id };
}
const T1 = 'β-Adrenergic agonists activate PKA.';
const A1 = 'Isoproterenol binds ADRB2 in mice. Nothing else here.';
const X1 = T1 + ' ' + A1;
const DOC1 = toPubTator({
  pmid: '101', title: T1, abstract: A1,
  entities: [mark(X1, 'PKA', 'Gene', '5566'), mark(X1, 'Isoproterenol', 'Chemical', 'MESH:D007545'), mark(X1, 'ADRB2', 'Gene', '154'), mark(X1, 'mice', 'Species', '10090')],
});
const DOC2 = '102|t|Aspirin and warfarin.\n102|a|Aspirin inhibits COX-1.\n102\t0\t7\tAspirin\tChemical\tD001241\n102\t22\t29\tAspirin\tChemical\tD001241\n102\t39\t44\tCOX-1\tGene\t5742\n102\tCID\tD001241\tD014859\n\n';

test('each document carries the byte offsets it starts and ends at, in UTF-8 bytes; reading from an offset resumes there, plain or gzipped', async () => {
  const bad = '103|t|Broken.\n103|a|Text.\n103\tx\t5\tText.\tChemical\t-\n\n';
  const text = DOC1 + DOC2 + bad + DOC1.replaceAll('101', '104');
  const root = tmpRoot({ 'in.txt': text });
  writeFileSync(join(root, 'in.gz'), gzipSync(text));
  const bytes = Buffer.from(text);
  for (const f of ['in.txt', 'in.gz']) {
    const recs = await all(join(root, f));
    assert.deepEqual(recs.map((r) => r.pmid), ['101', '102', '103', '104']);
    assert.equal(recs[0].offset, 0);
    // β is two bytes: offsets are bytes, not characters
    assert.equal(recs[1].offset, Buffer.byteLength(DOC1));
    assert.ok(recs[1].offset > DOC1.length);
    for (const r of recs) assert.ok(bytes.subarray(r.offset).toString().startsWith(`${r.pmid}|t|`));
    for (let k = 0; k < recs.length; k++) {
      const rest = await all(join(root, f), recs[k].nextOffset);
      assert.deepEqual(rest.map((r) => r.pmid), recs.slice(k + 1).map((r) => r.pmid), `${f} from document ${k}`);
      if (k + 1 < recs.length) assert.deepEqual(rest[0], recs[k + 1]);
    }
  }
});

test('a malformed document comes back as one error naming it, and the documents after it are read', async () => {
  const cases: [string, RegExp][] = [
    ['201|t|T.\n201|a|Aspirin.\n201\tx\t7\tAspirin\tChemical\t-\n\n', /offsets must be integers/],
    ['201|t|T.\n201|a|Aspirin.\n201\t4\t11\tAspirin\tChemical\t-\n\n', /differs from the text/],
    ['201|t|T.\n201|a|Aspirin.\n999\t3\t10\tAspirin\tChemical\t-\n\n', /annotation of PMID 999/],
    ['201|t|T.\n201|a|Aspirin.\nthis is no annotation\n\n', /expected 'PMID\|t\|title'/],
    ['201|a|Aspirin.\n\n', /no 'PMID\|t\|title' line/],
  ];
  for (const [bad, why] of cases) {
    const root = tmpRoot({ 'in.txt': DOC2 + bad + DOC1 });
    const recs = await all(join(root, 'in.txt'));
    assert.deepEqual(recs.map((r) => [r.pmid, Boolean(r.doc)]), [['102', true], ['201', false], ['101', true]], bad);
    assert.match(recs[1].error!, why);
  }
});

test('documents run together without a blank line, CRLF line ends and a missing final line break still read', async () => {
  const text = (DOC2.replace(/\n\n$/, '\n') + DOC1).replaceAll('\n', '\r\n').replace(/\r\n\r\n$/, '');
  const root = tmpRoot({ 'in.txt': text });
  const recs = await all(join(root, 'in.txt'));
  assert.deepEqual(recs.map((r) => [r.pmid, r.doc?.entities.length]), [['102', 3], ['101', 4]]);
  assert.equal(recs[1].doc!.abstract, 'Isoproterenol binds ADRB2 in mice. Nothing else here.');
});

test('PubTator Central offsets count code points: after an astral character they are mapped to string positions', async () => {
  const title = 'The 𝛽 receptor.';
  const abstract = 'Aspirin binds COX-1.';
  const text = title + ' ' + abstract;
  const cpStart = (s: string) => [...text.slice(0, text.indexOf(s))].length;
  assert.equal(text.indexOf('Aspirin') - cpStart('Aspirin'), 1); // one astral character before it
  const root = tmpRoot({
    'in.txt': `1|t|${title}\n1|a|${abstract}\n1\t${cpStart('Aspirin')}\t${cpStart('Aspirin') + 7}\tAspirin\tChemical\t-\n1\t${cpStart('COX-1')}\t${cpStart('COX-1') + 5}\tCOX-1\tGene\t-\n\n`,
  });
  const [r] = await all(join(root, 'in.txt'));
  assert.equal(r.error, undefined);
  assert.deepEqual(r.doc!.entities.map((e) => text.slice(e.start, e.end)), ['Aspirin', 'COX-1']);
});

test('candidates: chemical × gene pairs inside one sentence for a ChemProt model; species and cross-sentence pairs take no part', async () => {
  const root = tmpRoot({ 'in.txt': DOC1 });
  const [r] = await all(join(root, 'in.txt'));
  const { sentences, candidates } = candidateInstances(r.doc!, candidatePairs(datasetOfLabels(['false', 'CPR:3', 'CPR:4', 'CPR:5', 'CPR:6', 'CPR:9'])));
  assert.equal(sentences, 3);
  // "β-Adrenergic agonists activate PKA." has a gene and no chemical; Isoproterenol × ADRB2 share the second sentence
  assert.deepEqual(candidates.map((c) => [c.e1.mention, c.e2.mention, c.instance.e1.type, c.instance.e2.type]), [['Isoproterenol', 'ADRB2', 'CHEMICAL', 'GENE']]);
  const inst = candidates[0].instance;
  assert.deepEqual(inst.tokens, ['Isoproterenol', 'binds', 'ADRB2', 'in', 'mice', '.']);
  assert.deepEqual([inst.e1.start, inst.e1.end, inst.e2.start, inst.e2.end], [0, 1, 2, 3]);
});

test('candidates: a DDI model pairs every two drug mentions once, the earlier one first, and reads Chemical as a drug', async () => {
  const doc = { pmid: '7', title: 'Aspirin, warfarin and heparin interact.', abstract: '', text: 'Aspirin, warfarin and heparin interact. ', entities: [
    { start: 22, end: 29, mention: 'heparin', type: 'Chemical', id: 'a' },
    { start: 0, end: 7, mention: 'Aspirin', type: 'Chemical', id: 'b' },
    { start: 0, end: 7, mention: 'Aspirin', type: 'Drug', id: 'b2' },
    { start: 9, end: 17, mention: 'warfarin', type: 'Chemical', id: 'c' },
  ] };
  const pairs = candidatePairs(datasetOfLabels(['negative', 'effect', 'mechanism', 'advise', 'int']));
  const got = candidateInstances(doc, pairs).candidates.map((c) => `${c.e1.mention}-${c.e2.mention}:${c.instance.e1.type}`);
  assert.deepEqual(got, ['Aspirin-warfarin:DRUG', 'Aspirin-heparin:DRUG', 'warfarin-heparin:DRUG']);
  assert.throws(() => datasetOfLabels(['no', 'yes']), /labels \(no, yes\) are those of none/);
});

test('toPubTator writes the layout it reads: title, abstract, annotations by offset, a blank line', async () => {
  const [r] = await all(join(tmpRoot({ x: DOC2 }), 'x'));
  assert.equal(toPubTator(r.doc!), DOC2.replace('102\tCID\tD001241\tD014859\n', ''));
  const out = toPubTator({ pmid: '5', title: 'A b.', abstract: 'C.', entities: [{ start: 5, end: 7, mention: 'C.', type: 'Chemical', id: '' }, { start: 0, end: 1, mention: 'A', type: 'Gene', id: '9' }] });
  assert.equal(out, '5|t|A b.\n5|a|C.\n5\t0\t1\tA\tGene\t9\n5\t5\t7\tC.\tChemical\t\n\n');
  assert.throws(() => toPubTator({ pmid: '5', title: 'A\nb', abstract: '', entities: [] }), /line break/);
});

test('a gzip file of several members (cat a.gz b.gz) reads as one input, offsets counting the decompressed bytes', async () => {
  const root = tmpRoot({});
  writeFileSync(join(root, 'two.gz'), Buffer.concat([gzipSync(DOC1), gzipSync(DOC2)]));
  const recs = await all(join(root, 'two.gz'));
  assert.deepEqual(recs.map((r) => [r.pmid, r.offset]), [['101', 0], ['102', Buffer.byteLength(DOC1)]]);
  assert.deepEqual((await all(join(root, 'two.gz'), recs[0].nextOffset)).map((r) => r.pmid), ['102']);
});
