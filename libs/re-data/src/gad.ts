import { join } from 'node:path';
import { UserError } from '@biore/runtime';
import { tokenize } from '@biore/text';
import type { EntitySpan, RelationInstance } from './types.ts';
import { datasetInfo } from './types.ts';
import { readTsv, requireDir } from './tsv.ts';

/**
 * GAD (BioBERT's ten CV folds) → relation instances. Entities are already replaced in the text by
 * `@GENE$` and `@DISEASE$`; each placeholder is kept as one token and is the entity span (e1 = gene,
 * e2 = disease). `train.tsv` is `sentence<TAB>label` without a header; `test.tsv` has the header
 * `index sentence label`. Labels are `0`/`1`. Only the replacement indicator exists for GAD.
 */
export const GAD_FOLDS = 10;
const PLACEHOLDER = /@GENE\$|@DISEASE\$/g;

/** Tokens of a GAD sentence, with each `@GENE$` / `@DISEASE$` placeholder as a single token. */
export function tokenizeWithPlaceholders(sentence: string): { tokens: string[]; gene: number[]; disease: number[] } {
  const tokens: string[] = [];
  const gene: number[] = [];
  const disease: number[] = [];
  let last = 0;
  for (const m of sentence.matchAll(PLACEHOLDER)) {
    for (const t of tokenize(sentence.slice(last, m.index))) tokens.push(t.text);
    (m[0] === '@GENE$' ? gene : disease).push(tokens.length);
    tokens.push(m[0]);
    last = m.index! + m[0].length;
  }
  for (const t of tokenize(sentence.slice(last))) tokens.push(t.text);
  return { tokens, gene, disease };
}

export function checkFold(fold: number | undefined, folds: number, name: string): number {
  if (fold === undefined) throw new UserError(`${name} needs a fold (1..${folds}): pass --fold`);
  return fold;
}

export function loadGad(gadDir: string, split: string, fold: number | undefined): RelationInstance[] {
  const k = checkFold(fold, GAD_FOLDS, 'gad');
  if (!Number.isInteger(k) || k < 1 || k > GAD_FOLDS) throw new UserError(`gad folds are 1..${GAD_FOLDS}, got ${k}`);
  if (split !== 'train' && split !== 'test') throw new UserError(`gad has no split '${split}'; expected train or test (its dev.tsv files are empty)`);
  const dir = join(gadDir, String(k));
  requireDir(dir, `gad fold ${k}`);
  const path = join(dir, `${split}.tsv`);
  const info = datasetInfo('gad');
  const rows = split === 'train' ? readTsv(path, 2, 'gad train file') : readTsv(path, 3, 'gad test file');
  if (split === 'test') {
    const header = rows.shift();
    if (!header || header.line !== 1 || header.cols.join('\t') !== 'index\tsentence\tlabel') {
      throw new UserError("expected the header 'index<TAB>sentence<TAB>label' on line 1", { file: path, record: 'line 1' });
    }
  }
  return rows.map((r) => {
    const [sentence, label] = split === 'train' ? r.cols : r.cols.slice(1);
    const where = { file: path, record: `line ${r.line}` };
    if (!info.labels.includes(label)) throw new UserError(`unknown label ${JSON.stringify(label)}; expected 0 or 1`, where);
    const t = tokenizeWithPlaceholders(sentence);
    if (t.gene.length !== 1 || t.disease.length !== 1) {
      throw new UserError(`expected exactly one @GENE$ and one @DISEASE$, found ${t.gene.length} and ${t.disease.length}`, where);
    }
    const e1: EntitySpan = { type: 'GENE', start: t.gene[0], end: t.gene[0] + 1, text: '@GENE$' };
    const e2: EntitySpan = { type: 'DISEASE', start: t.disease[0], end: t.disease[0] + 1, text: '@DISEASE$' };
    const id = `gad${k}.${split}.${split === 'train' ? r.line : r.cols[0]}`;
    return { id, docId: id, tokens: t.tokens, e1, e2, label };
  });
}
