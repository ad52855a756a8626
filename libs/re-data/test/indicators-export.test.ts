import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '@biore/runtime';
import { applyIndicator, toBlueTsv, loadDataset, datasetStats, type RelationInstance } from '../src/index.ts';
import { tmpRoot } from './helpers.ts';

const inst = (e1: [number, number], e2: [number, number], tokens = ['Aspirin', 'inhibits', 'COX', '-', '2', 'strongly']): RelationInstance => ({
  id: 'x', docId: 'd', tokens, label: 'CPR:4',
  e1: { type: 'CHEMICAL', start: e1[0], end: e1[1], text: tokens.slice(...e1).join(' ') },
  e2: { type: 'GENE', start: e2[0], end: e2[1], text: tokens.slice(...e2).join(' ') },
});

test('tags wrap the entity words with Hiai et al.\'s tag names; replacement puts in the BLUE placeholders', () => {
  const i = inst([0, 1], [2, 5]);
  assert.deepEqual(applyIndicator(i, 'tags'), ['<chem>', 'Aspirin', '</chem>', 'inhibits', '<gene>', 'COX', '-', '2', '</gene>', 'strongly']);
  assert.deepEqual(applyIndicator(i, 'replacement'), ['@CHEMICAL$', 'inhibits', '@GENE$', 'strongly']);
  // order in the sentence, not e1/e2 order, decides where each placeholder goes
  const rev = inst([2, 5], [0, 1]);
  assert.deepEqual(applyIndicator(rev, 'replacement'), ['@GENE$', 'inhibits', '@CHEMICAL$', 'strongly']);
  assert.deepEqual(i.tokens, ['Aspirin', 'inhibits', 'COX', '-', '2', 'strongly'], 'the instance is not modified');
});

test('overlapping entities: tags nest at their own edges; replacement writes one combined placeholder', () => {
  const nested = inst([2, 3], [2, 5]); // chemical "COX" inside gene "COX - 2"
  assert.deepEqual(applyIndicator(nested, 'tags'), ['Aspirin', 'inhibits', '<gene>', '<chem>', 'COX', '</chem>', '-', '2', '</gene>', 'strongly']);
  assert.deepEqual(applyIndicator(nested, 'replacement'), ['Aspirin', 'inhibits', '@CHEM-GENE$', 'strongly']);
  const same = inst([2, 5], [2, 5]);
  assert.deepEqual(applyIndicator(same, 'tags'), ['Aspirin', 'inhibits', '<chem>', '<gene>', 'COX', '-', '2', '</gene>', '</chem>', 'strongly']);
  const drugs: RelationInstance = { ...inst([0, 1], [2, 3]), e1: { type: 'DRUG', start: 0, end: 2, text: '' }, e2: { type: 'DRUG', start: 1, end: 3, text: '' } };
  assert.deepEqual(applyIndicator(drugs, 'replacement'), ['@DRUG-DRUG$', '-', '2', 'strongly']);
  assert.deepEqual(applyIndicator(drugs, 'tags'), ['<drug>', 'Aspirin', '<drug>', 'inhibits', '</drug>', 'COX', '</drug>', '-', '2', 'strongly']);
});

test('a real ChemProt instance with tags keeps every word and adds exactly four markers', () => {
  const [first] = loadDataset('chemprot', { split: 'dev' });
  const tagged = applyIndicator(first, 'tags');
  assert.equal(tagged.length, first.tokens.length + 4);
  assert.deepEqual(tagged.filter((t) => !/^<\/?(chem|gene)>$/.test(t)), first.tokens);
  const replaced = applyIndicator(first, 'replacement');
  assert.equal(replaced.filter((t) => t === '@CHEMICAL$' || t === '@GENE$' || t === '@CHEM-GENE$').length >= 1, true);
});

test('BLUE TSV: header then id, marked sentence, label', () => {
  const tsv = toBlueTsv([inst([0, 1], [2, 5])], 'replacement');
  assert.equal(tsv, 'index\tsentence\tlabel\nx\t@CHEMICAL$ inhibits @GENE$ strongly\tCPR:4\n');
});

test('nx re-data:export CLI writes the TSV atomically; bad flags end in one error line', () => {
  const out = join(tmpRoot({}), 'gad-test.tsv');
  const cli = join(repoRoot, 'libs/re-data/src/cli/export.ts');
  const run = (args: string[]) => spawnSync(process.execPath, ['--import', 'tsx', cli, ...args], { cwd: repoRoot, encoding: 'utf8' });
  const ok = run(['--dataset', 'gad', '--split', 'test', '--fold', '1', '--indicator', 'replacement', '--out', out]);
  assert.equal(ok.status, 0, ok.stderr);
  const lines = readFileSync(out, 'utf8').trimEnd().split('\n');
  assert.equal(lines[0], 'index\tsentence\tlabel');
  assert.equal(lines.length, 1 + 534);
  assert.ok(lines.slice(1).every((l) => l.split('\t').length === 3));
  assert.deepEqual(readdirSync(join(out, '..')), ['gad-test.tsv'], 'no temporary file left behind');
  const bad = run(['--dataset', 'gad', '--split', 'test', '--fold', '1', '--indicator', 'tags', '--out', out]);
  assert.equal(bad.status, 1);
  assert.match(bad.stderr.trim(), /^error: gad supports only the replacement indicator/);
  assert.equal(bad.stderr.trim().split('\n').length, 1);
});

test('stats count instances, documents and labels per fold, and name the data root used', () => {
  const files: Record<string, string> = {};
  for (let k = 1; k <= 10; k++) {
    files[`gad/${k}/train.tsv`] = '@GENE$ causes @DISEASE$.\t1\n@GENE$ is unrelated to @DISEASE$.\t0\n@DISEASE$ and @GENE$.\t0\n';
    files[`gad/${k}/test.tsv`] = `index\tsentence\tlabel\n0\t@GENE$ in @DISEASE$ (fold ${k}).\t1\n`;
  }
  const root = tmpRoot(files);
  const s = datasetStats('gad', root);
  assert.equal(s.dataRootSource, 'flag');
  assert.equal(s.dataRoot, root);
  assert.deepEqual(Object.keys(s.folds!), ['1', '2', '3', '4', '5', '6', '7', '8', '9', '10']);
  assert.deepEqual(s.folds!['7'].train, { instances: 3, documents: 3, labels: { '0': 2, '1': 1 } });
  assert.deepEqual(s.folds!['7'].test, { instances: 1, documents: 1, labels: { '0': 0, '1': 1 } });
});
