import { join } from 'node:path';
import { UserError } from '@biore/runtime';
import type { RelationInstance } from './types.ts';
import { datasetInfo } from './types.ts';
import { readText, requireDir } from './tsv.ts';
import { tokenizeWithBoundaries, tokenSpan, type CharSpan } from './spans.ts';
import { checkFold } from './gad.ts';

/**
 * AIMed (unified PPI corpus, ten document-disjoint folds `test_{0..9}.json`, JSON lines) → instances.
 * Fold k: test = test_k.json, train = the other nine files. One instance per relation record; both
 * entities are PROTEIN; `entity_*_idx` are [start, end) character ranges (several ranges = a discontinuous
 * entity, spanned from first start to last end). Labels `negative`/`positive`. The document id is the
 * record id up to its sentence part (`AIMed.d193.s1641_…` → `AIMed.d193`).
 */
export const AIMED_FOLDS = 10;

function ranges(v: unknown, textLength: number, where: { file: string; record: string }, which: string): CharSpan[] {
  if (!Array.isArray(v) || v.length === 0) throw new UserError(`${which} must be a list of [start, end] ranges`, where);
  return v.map((r) => {
    if (!Array.isArray(r) || r.length !== 2 || !Number.isInteger(r[0]) || !Number.isInteger(r[1])) {
      throw new UserError(`${which} must be a list of [start, end] integer ranges, got ${JSON.stringify(v)}`, where);
    }
    if (!(r[0] >= 0 && r[0] < r[1] && r[1] <= textLength)) {
      throw new UserError(`${which} range ${JSON.stringify(r)} lies outside the sentence text (length ${textLength})`, where);
    }
    return { start: r[0], end: r[1] };
  });
}

export function parseAimedFile(path: string): RelationInstance[] {
  const info = datasetInfo('aimed');
  const lines = readText(path, 'aimed fold file').split('\n');
  const out: RelationInstance[] = [];
  for (let i = 0; i < lines.length; i++) {
    if (lines[i].trim() === '') continue;
    const where = { file: path, record: `line ${i + 1}` };
    let rec: { id?: unknown; text?: unknown; relation?: unknown };
    try {
      rec = JSON.parse(lines[i]);
    } catch (e) {
      throw new UserError(`malformed JSON (${(e as Error).message})`, where);
    }
    if (typeof rec.id !== 'string' || typeof rec.text !== 'string' || !Array.isArray(rec.relation)) {
      throw new UserError('expected a record with string id, string text and a relation list', where);
    }
    const text = rec.text;
    const docId = rec.id.split('_')[0].replace(/\.s\d+$/, '');
    for (const [j, r] of (rec.relation as Record<string, unknown>[]).entries()) {
      const f1 = ranges(r.entity_1_idx, text.length, where, 'entity_1_idx');
      const f2 = ranges(r.entity_2_idx, text.length, where, 'entity_2_idx');
      const label = String(r.relation_type);
      if (!info.labels.includes(label)) throw new UserError(`unknown label ${JSON.stringify(label)}; expected positive or negative`, where);
      const tok = tokenizeWithBoundaries(text, 0, text.length, [...f1, ...f2]);
      // the entity text is taken from the sentence: the records' entity_1/entity_2 strings sometimes carry
      // leftovers of the marker text ("lymphotoxinbeta[/E1]receptor")
      const mk = (f: CharSpan[]) => {
        const start = Math.min(...f.map((x) => x.start));
        const end = Math.max(...f.map((x) => x.end));
        return { type: 'PROTEIN' as const, ...tokenSpan(tok, start, end, where), text: f.map((x) => text.slice(x.start, x.end)).join(' ') };
      };
      out.push({ id: rec.relation.length > 1 ? `${rec.id}.${j}` : rec.id, docId, tokens: tok.tokens, e1: mk(f1), e2: mk(f2), label });
    }
  }
  return out;
}

export function loadAimed(aimedDir: string, split: string, fold: number | undefined): RelationInstance[] {
  // folds are numbered 1..10 as GAD's; fold k tests on the file test_{k-1}.json
  const n = checkFold(fold, AIMED_FOLDS, 'aimed');
  if (!Number.isInteger(n) || n < 1 || n > AIMED_FOLDS) throw new UserError(`aimed folds are 1..${AIMED_FOLDS}, got ${n}`);
  const k = n - 1;
  requireDir(aimedDir, 'aimed');
  const file = (i: number) => join(aimedDir, `test_${i}.json`);
  if (split === 'test') return parseAimedFile(file(k));
  if (split === 'train') return Array.from({ length: AIMED_FOLDS }, (_, i) => i).filter((i) => i !== k).flatMap((i) => parseAimedFile(file(i)));
  throw new UserError(`aimed has no split '${split}'; expected train or test`);
}
