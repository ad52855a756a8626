import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { UserError } from '@biore/runtime';
import { loadDataset, applyIndicator, checkIndicator, parseAimedFile, datasetInfo } from '../src/index.ts';
import { tmpRoot } from './helpers.ts';

const isUserErr = (re: RegExp) => (e: unknown) => e instanceof UserError && re.test(e.message);

test('GAD fold 1: 4,796 training and 534 test sentences, each with one @GENE$ and one @DISEASE$ token', () => {
  const train = loadDataset('gad', { split: 'train', fold: 1 });
  const testSplit = loadDataset('gad', { split: 'test', fold: 1 });
  assert.equal(train.length, 4796);
  assert.equal(testSplit.length, 534);
  for (const i of [...train, ...testSplit]) {
    assert.equal(i.tokens[i.e1.start], '@GENE$');
    assert.equal(i.tokens[i.e2.start], '@DISEASE$');
    assert.ok(i.label === '0' || i.label === '1');
  }
  // replacement leaves GAD's sentence as it is
  assert.deepEqual(applyIndicator(train[0], 'replacement'), train[0].tokens);
});

test('GAD with the tags indicator is a clear error', () => {
  assert.throws(() => checkIndicator('gad', 'tags'), isUserErr(/gad supports only the replacement indicator, not 'tags'/));
  const [inst] = loadDataset('gad', { split: 'test', fold: 2 });
  assert.throws(() => applyIndicator(inst, 'tags'), isUserErr(/only the 'replacement' indicator/));
  assert.equal(checkIndicator('chemprot', 'tags'), 'tags');
  assert.throws(() => checkIndicator('chemprot', 'markers'), isUserErr(/unknown entity indicator 'markers'/));
});

test('GAD bad input: missing fold, wrong column count, unknown label, missing placeholders, bad header', () => {
  assert.throws(() => loadDataset('gad', { split: 'train' }), isUserErr(/gad needs a fold/));
  assert.throws(() => loadDataset('gad', { split: 'train', fold: 11 }), isUserErr(/gad folds are 1\.\.10/));
  const root = tmpRoot({
    'gad/1/train.tsv': '@GENE$ causes @DISEASE$.\t1\nno tab here\n',
    'gad/2/train.tsv': '@GENE$ causes @DISEASE$.\tyes\n',
    'gad/3/train.tsv': 'BRCA1 causes @DISEASE$.\t1\n',
    'gad/4/test.tsv': 'id\ttext\tlabel\n0\t@GENE$ and @DISEASE$\t0\n',
  });
  const load = (fold: number, split = 'train') => () => loadDataset('gad', { split, fold, dataFlag: root });
  assert.throws(load(1), isUserErr(/gad\/1\/train\.tsv, record line 2: expected 2 tab-separated columns, found 1/));
  assert.throws(load(2), isUserErr(/gad\/2\/train\.tsv, record line 1: unknown label "yes"/));
  assert.throws(load(3), isUserErr(/record line 1: expected exactly one @GENE\$ and one @DISEASE\$, found 0 and 1/));
  assert.throws(load(4, 'test'), isUserErr(/gad\/4\/test\.tsv, record line 1: expected the header/));
  assert.throws(load(5), isUserErr(/gad fold 5 folder not found/));
});

test('AIMed: folds 1..10 (as GAD), 220 documents, 22 a fold, 1,000 positive and 4,834 negative pairs; training is the other nine folds', () => {
  const info = datasetInfo('aimed');
  const all = info.folds!.map((k) => loadDataset('aimed', { split: 'test', fold: k }));
  const docs = all.map((f) => new Set(f.map((i) => i.docId)));
  assert.deepEqual(docs.map((d) => d.size), Array(10).fill(22));
  assert.equal(new Set(docs.flatMap((d) => [...d])).size, 220);
  const flat = all.flat();
  assert.equal(flat.filter((i) => i.label === 'positive').length, 1000);
  assert.equal(flat.filter((i) => i.label === 'negative').length, 4834);
  const train3 = loadDataset('aimed', { split: 'train', fold: 3 });
  assert.equal(train3.length, flat.length - all[2].length, 'folds are numbered 1..10: fold 3 is the third');
  assert.ok(train3.every((i) => !docs[2].has(i.docId)), 'fold 3 training shares no document with its test');
  for (const i of flat) for (const e of [i.e1, i.e2]) assert.equal(i.tokens.slice(e.start, e.end).join(''), e.text.replace(/\s+/g, ''), i.id);
});

test('AIMed bad input: malformed JSON line, ranges outside the text, unknown label', () => {
  const rec = (o: object) => JSON.stringify({ id: 'AIMed.d1.s1_AIMed.d1.s1.p0', text: 'Id3 binds ITF-2b.', ...o });
  const rel = { relation_type: 'positive', entity_1: 'Id3', entity_1_idx: [[0, 3]], entity_2: 'ITF-2b', entity_2_idx: [[10, 16]] };
  const root = tmpRoot({
    'a/ok.json': rec({ relation: [rel] }) + '\n',
    'a/json.json': rec({ relation: [rel] }) + '\n{"id": \n',
    'a/range.json': rec({ relation: [{ ...rel, entity_2_idx: [[10, 60]] }] }) + '\n',
    'a/label.json': rec({ relation: [{ ...rel, relation_type: 'maybe' }] }) + '\n',
  });
  const [ok] = parseAimedFile(join(root, 'a/ok.json'));
  assert.deepEqual(applyIndicator(ok, 'tags'), ['<prot>', 'Id3', '</prot>', 'binds', '<prot>', 'ITF-2b', '</prot>', '.']);
  assert.deepEqual(applyIndicator(ok, 'replacement'), ['@PROTEIN$', 'binds', '@PROTEIN$', '.']);
  assert.equal(ok.docId, 'AIMed.d1');
  assert.throws(() => parseAimedFile(join(root, 'a/json.json')), isUserErr(/json\.json, record line 2: malformed JSON/));
  assert.throws(() => parseAimedFile(join(root, 'a/range.json')), isUserErr(/range\.json, record line 1: entity_2_idx range \[10,60\] lies outside the sentence text/));
  assert.throws(() => parseAimedFile(join(root, 'a/label.json')), isUserErr(/label\.json, record line 1: unknown label "maybe"/));
  assert.throws(() => loadDataset('aimed', { split: 'test', fold: 1, dataFlag: tmpRoot({ 'x.txt': '' }) }), isUserErr(/dataset folder 'aimed' not found/));
});
