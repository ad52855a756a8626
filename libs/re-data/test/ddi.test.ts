import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Zip, ZipPassThrough, zipSync, strToU8 } from 'fflate';
import { findData, UserError } from '@biore/runtime';
import { loadDataset, readDdiZip, parseDdiDocument, ddiDevDocuments } from '../src/index.ts';
import { tmpRoot } from './helpers.ts';

const count = (labels: string[]) => labels.reduce<Record<string, number>>((a, l) => ((a[l] = (a[l] ?? 0) + 1), a), {});

test('DDI test split has exactly the README type counts', () => {
  const inst = loadDataset('ddi', { split: 'test' });
  assert.deepEqual(count(inst.map((i) => i.label)), { negative: 4737, effect: 360, mechanism: 302, advise: 221, int: 96 });
  assert.equal(inst.length, 5716);
});

test('DDI train-full has all 27,792 training pairs; dev is a seeded document-level 10% and train the rest', () => {
  const full = loadDataset('ddi', { split: 'train-full' });
  const train = loadDataset('ddi', { split: 'train' });
  const dev = loadDataset('ddi', { split: 'dev' });
  assert.equal(full.length, 27792);
  assert.equal(train.length + dev.length, full.length);
  const devDocs = new Set(dev.map((i) => i.docId));
  assert.ok(train.every((i) => !devDocs.has(i.docId)), 'no document is in both train and dev');
  const allDocs = readDdiZip(findData('ddi').path).train.map((d) => d.docId);
  assert.equal(devDocs.size <= Math.round(allDocs.length * 0.1), true);
  // deterministic: the same seed gives the same documents regardless of input order
  assert.deepEqual([...ddiDevDocuments([...allDocs].reverse())].sort(), [...ddiDevDocuments(allDocs)].sort());
  assert.notDeepEqual([...ddiDevDocuments(allDocs, 7)].sort(), [...ddiDevDocuments(allDocs)].sort());
});

test('DDI: the training pair marked ddi="true" without a type is labelled int', () => {
  const full = loadDataset('ddi', { split: 'train-full' });
  const p = full.find((i) => i.id === 'DDI-DrugBank.d236.s29.p0')!;
  assert.equal(p.label, 'int');
  assert.deepEqual(p.tokens.slice(p.e1.start, p.e1.end), ['Amphetamines']);
  assert.deepEqual(p.tokens.slice(p.e2.start, p.e2.end), ['corticosteroid']);
});

const doc = (sentence: string, entities: string, pairs: string) =>
  `<?xml version="1.0" encoding="UTF-8"?>\n<document id="D1"><sentence id="D1.s0" text="${sentence}">${entities}${pairs}</sentence></document>`;

test('DDI: inclusive offsets; a discontinuous entity spans its fragments and the gap', () => {
  // "loop and thiazide diuretics": "loop diuretics" = 0-3;18-26
  const xml = doc('loop and thiazide diuretics with lithium',
    '<entity id="e0" charOffset="0-3;18-26" type="group" text="loop diuretics"/><entity id="e1" charOffset="9-26" type="group" text="thiazide diuretics"/><entity id="e2" charOffset="33-39" type="drug" text="lithium"/>',
    '<pair id="p0" e1="e0" e2="e2" ddi="true" type="advise"/><pair id="p1" e1="e1" e2="e2" ddi="false"/>');
  const { instances } = parseDdiDocument(xml, 'mem.xml');
  const [a, b] = instances;
  assert.equal(a.label, 'advise');
  assert.equal(b.label, 'negative');
  assert.deepEqual(a.tokens.slice(a.e1.start, a.e1.end), ['loop', 'and', 'thiazide', 'diuretics']);
  assert.deepEqual(b.tokens.slice(b.e1.start, b.e1.end), ['thiazide', 'diuretics']);
  assert.deepEqual(a.tokens.slice(a.e2.start, a.e2.end), ['lithium']);
  assert.equal(a.e1.type, 'DRUG');
  assert.equal(a.docId, 'D1');
});

test('DDI bad input: offsets outside the sentence, malformed offsets, unknown label, missing zip, broken XML', () => {
  const isUserErr = (re: RegExp) => (e: unknown) => e instanceof UserError && re.test(e.message);
  const ents = '<entity id="e0" charOffset="0-3" type="drug" text="abcd"/><entity id="e1" charOffset="5-7" type="drug" text="efg"/>';
  assert.throws(() => parseDdiDocument(doc('abcd efg', '<entity id="e0" charOffset="0-30" type="drug" text="abcd"/>', ''), 'f.xml'),
    isUserErr(/f\.xml, record e0: charOffset 0-30 lies outside the sentence text/));
  assert.throws(() => parseDdiDocument(doc('abcd efg', '<entity id="e0" charOffset="a-b" type="drug" text="abcd"/>', ''), 'f.xml'),
    isUserErr(/record e0: charOffset must be/));
  assert.throws(() => parseDdiDocument(doc('abcd efg', ents, '<pair id="p0" e1="e0" e2="e1" ddi="true" type="synergy"/>'), 'f.xml'),
    isUserErr(/record p0: unknown label "synergy"/));
  assert.throws(() => parseDdiDocument(doc('abcd efg', ents, '<pair id="p0" e1="e0" e2="e9" ddi="false"/>'), 'f.xml'), isUserErr(/record p0: pair names entity e9/));
  assert.throws(() => parseDdiDocument('<document id="x"><sentence', 'f.xml'), isUserErr(/f\.xml: malformed XML/));
  const root = tmpRoot({ 'ddi/README': 'no zip here' });
  assert.throws(() => loadDataset('ddi', { split: 'test', dataFlag: root }), isUserErr(/DDICorpus-2013\.zip.*not found/));
  // a zip with a bad document names the member
  const zipRoot = tmpRoot({ 'ddi/README': '' });
  writeFileSync(join(zipRoot, 'ddi', 'DDICorpus-2013.zip'), zipSync({
    'DDICorpus/Train/DrugBank/a.xml': strToU8(doc('abcd efg', ents, '<pair id="p0" e1="e0" e2="e1" ddi="maybe"/>')),
    'DDICorpus/Test/Test for DDI Extraction task/DrugBank/b.xml': strToU8(doc('abcd efg', ents, '')),
  }));
  assert.throws(() => loadDataset('ddi', { split: 'test', dataFlag: zipRoot }), isUserErr(/DDICorpus-2013\.zip:DDICorpus\/Train\/DrugBank\/a\.xml, record p0: pair attribute ddi must be/));
});

test("DDI zip members with '..' or absolute paths, or a name held twice, are skipped with one warning line each, not read as training documents", () => {
  const ents = '<entity id="e0" charOffset="0-3" type="drug" text="abcd"/><entity id="e1" charOffset="5-7" type="drug" text="efg"/>';
  const member = (id: string) => strToU8(doc('abcd efg', ents, `<pair id="${id}.p0" e1="e0" e2="e1" ddi="true" type="effect"/>`).replace('id="D1"', `id="${id}"`));
  // fflate's streaming Zip writes what the object form cannot: the same name twice
  const chunks: Uint8Array[] = [];
  const z = new Zip((err, data) => { if (err) throw err; chunks.push(data); });
  const add = (name: string, data: Uint8Array) => { const f = new ZipPassThrough(name); z.add(f); f.push(data, true); };
  add('DDICorpus/Train/DrugBank/good.xml', member('good'));
  add('DDICorpus/Train/DrugBank/../../Train/MedLine/climb.xml', member('climb'));
  add('/DDICorpus/Train/DrugBank/abs.xml', member('abs'));
  add('DDICorpus/Train/MedLine/..\\..\\win.xml', member('win'));
  add('DDICorpus/Train/DrugBank/twice.xml', member('twice1'));
  add('DDICorpus/Train/DrugBank/twice.xml', member('twice2'));
  add('DDICorpus/Test/Test for DDI Extraction task/DrugBank/t.xml', member('test'));
  z.end();
  const root = tmpRoot({ 'ddi/README': '' });
  const zipPath = join(root, 'ddi', 'DDICorpus-2013.zip');
  writeFileSync(zipPath, Buffer.concat(chunks));
  const heard: string[] = [];
  const c = readDdiZip(join(root, 'ddi'), (l) => heard.push(l));
  assert.deepEqual(c.train.map((d) => d.docId), ['good']);
  assert.deepEqual(c.test.map((d) => d.docId), ['test']);
  assert.equal(heard.length, 4);
  assert.deepEqual(c.warnings, heard);
  assert.ok(heard.every((l) => l.startsWith(`warning: ${zipPath}: member `) && !l.includes('\n')));
  for (const name of ['climb.xml', '/DDICorpus/Train/DrugBank/abs.xml', 'win.xml']) assert.ok(heard.some((l) => l.includes(name) && /'\.\.' or absolute path; skipped/.test(l)), name);
  assert.ok(heard.some((l) => /"DDICorpus\/Train\/DrugBank\/twice\.xml" appears 2 times; all copies skipped/.test(l)));
  assert.deepEqual(loadDataset('ddi', { split: 'train-full', dataFlag: root }).map((i) => i.id), ['good.p0']);
});
