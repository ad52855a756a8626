import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { findData, UserError } from '@biore/runtime';
import { splitSentences } from '@biore/text';
import { loadChemProt, loadDataset, datasetInfo } from '../src/index.ts';
import { chemprotRoot, CP_ENTITIES } from './helpers.ts';

// ../shared/data/README.md: gold CPR:3/4/5/6/9 per split
const GOLD = {
  train: { 'CPR:3': 768, 'CPR:4': 2254, 'CPR:5': 173, 'CPR:6': 235, 'CPR:9': 727 },
  dev: { 'CPR:3': 550, 'CPR:4': 1094, 'CPR:5': 116, 'CPR:6': 199, 'CPR:9': 457 },
  test: { 'CPR:3': 665, 'CPR:4': 1661, 'CPR:5': 195, 'CPR:6': 293, 'CPR:9': 644 },
};
// BLUE's published instance counts (Peng et al. 2019)
const BLUE = { train: 19460, dev: 11820, test: 16943 };
const FILES = {
  train: ['chemprot_training', 'chemprot_training_abstracts.tsv', 'chemprot_training_entities.tsv', 'chemprot_training_gold_standard.tsv'],
  dev: ['chemprot_development', 'chemprot_development_abstracts.tsv', 'chemprot_development_entities.tsv', 'chemprot_development_gold_standard.tsv'],
  test: ['chemprot_test_gs', 'chemprot_test_abstracts_gs.tsv', 'chemprot_test_entities_gs.tsv', 'chemprot_test_gold_standard.tsv'],
};

const dir = findData('chemprot').path;
const loads = Object.fromEntries((['train', 'dev', 'test'] as const).map((s) => [s, loadChemProt(dir, s)])) as Record<keyof typeof GOLD, ReturnType<typeof loadChemProt>>;

/** Gold rows whose chemical and gene lie inside one sentence, recounted here straight from the files. */
function goldInOneSentence(split: keyof typeof FILES): number {
  const [sub, a, e, g] = FILES[split];
  const lines = (f: string) => readFileSync(join(dir, sub, f), 'utf8').split('\n').filter((l) => l.trim() !== '').map((l) => l.split('\t'));
  const sentences = new Map<string, { start: number; end: number }[]>();
  for (const [pmid, title, abs] of lines(a)) sentences.set(pmid, splitSentences(title + ' ' + abs, { compat: 'blue' }));
  const ents = new Map<string, [number, number]>();
  for (const [pmid, id, , s, en] of lines(e)) ents.set(`${pmid} ${id}`, [Number(s), Number(en)]);
  let n = 0;
  for (const [pmid, , a1, a2] of lines(g)) {
    const x = ents.get(`${pmid} ${a1.slice(5)}`)!;
    const y = ents.get(`${pmid} ${a2.slice(5)}`)!;
    if (sentences.get(pmid)!.some((s) => s.start <= Math.min(x[0], y[0]) && Math.max(x[1], y[1]) <= s.end)) n++;
  }
  return n;
}

for (const split of ['train', 'dev', 'test'] as const) {
  test(`ChemProt ${split}: the gold standard has exactly the README's label counts`, () => {
    assert.deepEqual(loads[split].goldByLabel, GOLD[split]);
  });

  test(`ChemProt ${split}: every gold pair inside one sentence becomes a labelled instance`, () => {
    const r = loads[split];
    const labelled = r.instances.filter((i) => i.label !== 'false');
    assert.equal(labelled.length, goldInOneSentence(split));
    assert.equal(labelled.length, r.goldInSentence);
    assert.equal(r.goldInSentence + r.goldCrossSentence.length, r.goldRows);
    // per label: gold rows minus those lost across sentences
    const lost: Record<string, number> = {};
    for (const c of r.goldCrossSentence) lost[c.split(' ')[1]] = (lost[c.split(' ')[1]] ?? 0) + 1;
    for (const [label, n] of Object.entries(GOLD[split])) {
      assert.equal(labelled.filter((i) => i.label === label).length, n - (lost[label] ?? 0), label);
    }
  });

  test(`ChemProt ${split}: entity spans cover exactly the entity words`, () => {
    for (const i of loads[split].instances) {
      for (const e of [i.e1, i.e2]) assert.equal(i.tokens.slice(e.start, e.end).join(''), e.text.replace(/\s+/g, ''), i.id);
      assert.equal(i.e1.type, 'CHEMICAL');
      assert.equal(i.e2.type, 'GENE');
    }
  });
}

for (const split of ['train', 'dev', 'test'] as const) {
  test(`ChemProt ${split}: instance count within 2% of BLUE's ${BLUE[split]}`, () => {
    const n = loads[split].instances.length;
    assert.ok(Math.abs(n / BLUE[split] - 1) <= 0.02, `${n} vs ${BLUE[split]}`);
  });
}

test('ChemProt: hardly any gold pair crosses a sentence boundary (the splitter keeps related mentions together)', (t) => {
  for (const split of ['train', 'dev', 'test'] as const) {
    const r = loads[split];
    t.diagnostic(`${split}: ${r.goldCrossSentence.length} of ${r.goldRows} gold pairs cross sentences`);
    assert.ok(r.goldCrossSentence.length <= r.goldRows * 0.001, `${split}: ${r.goldCrossSentence.join(', ')}`);
  }
});

test('ChemProt: every chemical-gene pair in a sentence, labelled from the gold standard, else false', () => {
  const root = chemprotRoot();
  const r = loadChemProt(join(root, 'chemprot'), 'train');
  assert.deepEqual(r.instances.map((i) => [i.id, i.label]), [['1.T1.T2', 'CPR:4'], ['1.T3.T4', 'false'], ['1.T5.T6', 'CPR:3']]);
  // Ibuprofen (T3) and COX-2 (T6) are in different sentences: a gold pair lost, and reported
  assert.deepEqual(r.goldCrossSentence, ['1.T3.T6 CPR:9']);
  const inst = r.instances[2];
  assert.deepEqual(inst.tokens.slice(inst.e1.start, inst.e1.end), ['Aspirin']);
  assert.equal(inst.tokens[0], 'It'); // "i.v." does not end the sentence
  assert.deepEqual(loadDataset('chemprot', { split: 'train', dataFlag: root }).length, 3);
  assert.equal(datasetInfo('chemprot').negativeLabel, 'false');
});

test('ChemProt: an entity inside a word becomes its own token; nested entities both pair', () => {
  const abs = 'We studied IL-2-induced signalling by glucose transporter inhibitors.';
  const title = 'T.';
  const text = title + ' ' + abs;
  const at = (s: string) => text.indexOf(s);
  const entities = [
    `1\tT1\tGENE-Y\t${at('IL-2')}\t${at('IL-2') + 4}\tIL-2`,
    `1\tT2\tCHEMICAL\t${at('glucose')}\t${at('glucose') + 7}\tglucose`,
    `1\tT3\tGENE-N\t${at('glucose')}\t${at('transporter') + 11}\tglucose transporter`,
  ].join('\n');
  const r = loadChemProt(join(chemprotRoot({ abstracts: `1\t${title}\t${abs}\n`, entities, gold: '' }), 'chemprot'), 'train');
  const il2 = r.instances.find((i) => i.e2.id === 'T1')!;
  assert.deepEqual(il2.tokens.slice(il2.e2.start, il2.e2.end + 2), ['IL-2', '-', 'induced']);
  const nested = r.instances.find((i) => i.e2.id === 'T3')!;
  assert.deepEqual(nested.tokens.slice(nested.e1.start, nested.e1.end), ['glucose']);
  assert.deepEqual(nested.tokens.slice(nested.e2.start, nested.e2.end), ['glucose', 'transporter']);
});

test('ChemProt bad input: missing folder, wrong column count, non-numeric offset, offsets outside the text, unknown label', () => {
  const isUserErr = (re: RegExp) => (e: unknown) => e instanceof UserError && re.test(e.message);
  assert.throws(() => loadChemProt('/nonexistent/chemprot', 'train'), isUserErr(/chemprot train folder not found/));
  const root = chemprotRoot();
  assert.throws(() => loadDataset('ddi', { split: 'test', dataFlag: root }), isUserErr(/dataset folder 'ddi' not found/));
  const bad = (over: Parameters<typeof chemprotRoot>[0], re: RegExp) =>
    assert.throws(() => loadChemProt(join(chemprotRoot(over), 'chemprot'), 'train'), isUserErr(re));
  bad({ entities: CP_ENTITIES.slice(0, 2).join('\n') + '\n1\tT3\tCHEMICAL\t24\n' }, /entities\.tsv, record line 3: expected 6 tab-separated columns, found 4/);
  bad({ entities: CP_ENTITIES[0].replace('\t0\t', '\tzero\t') + '\n' }, /entities\.tsv, record line 1: start offset must be a non-negative integer, got "zero"/);
  bad({ entities: '1\tT1\tCHEMICAL\t500\t507\tAspirin\n' }, /entities\.tsv, record line 1: entity T1 offsets 500-507 lie outside the document text/);
  bad({ gold: '1\tCPR:4\tArg1:T1\tArg2:T2\n1\tCPR:2\tArg1:T1\tArg2:T2\n' }, /gold_standard\.tsv, record line 2: unknown label "CPR:2"/);
  bad({ gold: '1\tCPR:4\tArg1:T1\tArg2:T99\n' }, /gold_standard\.tsv, record line 1: relation names an entity not in/);
  bad({ abstracts: '1\tonly a title\n' }, /abstracts\.tsv, record line 1: expected 3 tab-separated columns, found 2/);
  assert.throws(() => loadDataset('chemprot', { split: 'validation', dataFlag: root }), isUserErr(/no split 'validation'/));
});
