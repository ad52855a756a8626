import { join } from 'node:path';
import { UserError } from '@biore/runtime';
import { splitSentences } from '@biore/text';
import type { EntityType, RelationInstance } from './types.ts';
import { datasetInfo } from './types.ts';
import { intField, readTsv, requireDir } from './tsv.ts';
import { tokenizeWithBoundaries, tokenSpan } from './spans.ts';

/**
 * ChemProt (BioCreative VI) → relation instances, the BLUE construction:
 * - the text of a document is `title + " " + abstract` (the entity offsets index it), sentence-split as one
 *   text by @biore/text's splitSentences in its BLUE-compatible mode (a title without a final period runs
 *   into the first abstract sentence, as in BLUE);
 * - every CHEMICAL × GENE-Y/GENE-N pair whose two entities both lie inside one sentence is an instance,
 *   e1 = the chemical, e2 = the gene; entities that straddle a sentence boundary take part in no pair;
 * - its label is the CPR group from `*_gold_standard.tsv`, else `false` (BLUE's negative label);
 *   a pair listed with two CPR groups gives two instances (as BLUE does), ids suffixed with `:CPR:n`;
 * - overlapping or nested entities (a chemical inside a gene name) still pair; their boundaries are all
 *   token boundaries, so both map onto whole tokens (see applyIndicator for how markers treat overlap).
 */

const SPLIT_FILES: Record<string, { dir: string; abstracts: string; entities: string; gold: string }> = {
  train: { dir: 'chemprot_training', abstracts: 'chemprot_training_abstracts.tsv', entities: 'chemprot_training_entities.tsv', gold: 'chemprot_training_gold_standard.tsv' },
  dev: { dir: 'chemprot_development', abstracts: 'chemprot_development_abstracts.tsv', entities: 'chemprot_development_entities.tsv', gold: 'chemprot_development_gold_standard.tsv' },
  test: { dir: 'chemprot_test_gs', abstracts: 'chemprot_test_abstracts_gs.tsv', entities: 'chemprot_test_entities_gs.tsv', gold: 'chemprot_test_gold_standard.tsv' },
};

interface Entity {
  id: string;
  type: EntityType;
  start: number;
  end: number;
  text: string;
}

export interface ChemProtLoad {
  instances: RelationInstance[];
  /** Gold-standard rows by label (the file as it is). */
  goldByLabel: Record<string, number>;
  goldRows: number;
  /** Gold rows whose chemical and gene share a sentence (each became a labelled instance). */
  goldInSentence: number;
  /** Gold rows `pmid.Tchem.Tgene` whose entities are not inside one sentence (lost, as in BLUE). */
  goldCrossSentence: string[];
  /** Entities straddling a sentence boundary. */
  entitiesAcrossSentences: number;
}

export function loadChemProt(root: string, split: string): ChemProtLoad {
  const f = SPLIT_FILES[split];
  if (!f) throw new UserError(`chemprot has no split '${split}'; expected train, dev or test`);
  const dir = join(root, f.dir);
  requireDir(dir, `chemprot ${split}`);
  const info = datasetInfo('chemprot');

  const absPath = join(dir, f.abstracts);
  const docs = new Map<string, { title: string; text: string; line: number }>();
  for (const r of readTsv(absPath, 3, 'chemprot abstracts file')) {
    const [pmid, title, abs] = r.cols;
    if (docs.has(pmid)) throw new UserError(`duplicate PMID ${pmid}`, { file: absPath, record: `line ${r.line}` });
    docs.set(pmid, { title, text: title + ' ' + abs, line: r.line });
  }

  const entPath = join(dir, f.entities);
  const entities = new Map<string, Entity[]>();
  const entityById = new Map<string, Entity>();
  for (const r of readTsv(entPath, 6, 'chemprot entities file')) {
    const [pmid, id, rawType, s, e, text] = r.cols;
    const where = { file: entPath, record: `line ${r.line}` };
    const doc = docs.get(pmid);
    if (!doc) throw new UserError(`entity ${id} names PMID ${pmid}, which is not in ${f.abstracts}`, where);
    const type: EntityType | undefined = rawType === 'CHEMICAL' ? 'CHEMICAL' : rawType === 'GENE-Y' || rawType === 'GENE-N' ? 'GENE' : undefined;
    if (!type) throw new UserError(`unknown entity type ${JSON.stringify(rawType)}; expected CHEMICAL, GENE-Y or GENE-N`, where);
    const start = intField(s, entPath, r.line, 'start offset');
    const end = intField(e, entPath, r.line, 'end offset');
    if (!(start < end && end <= doc.text.length)) {
      throw new UserError(`entity ${id} offsets ${start}-${end} lie outside the document text (length ${doc.text.length})`, where);
    }
    if (doc.text.slice(start, end) !== text) {
      throw new UserError(`entity ${id} text ${JSON.stringify(text)} differs from the document's characters ${start}-${end} ${JSON.stringify(doc.text.slice(start, end))}`, where);
    }
    const ent: Entity = { id, type, start, end, text };
    const list = entities.get(pmid) ?? [];
    list.push(ent);
    entities.set(pmid, list);
    entityById.set(`${pmid}\t${id}`, ent);
  }

  const goldPath = join(dir, f.gold);
  const gold = new Map<string, string[]>();
  const goldByLabel: Record<string, number> = Object.fromEntries(info.positiveLabels.map((l) => [l, 0]));
  const goldRows = readTsv(goldPath, 4, 'chemprot gold standard file');
  for (const r of goldRows) {
    const [pmid, label, a1, a2] = r.cols;
    const where = { file: goldPath, record: `line ${r.line}` };
    if (!info.positiveLabels.includes(label)) throw new UserError(`unknown label ${JSON.stringify(label)}; expected one of ${info.positiveLabels.join(', ')}`, where);
    if (!a1.startsWith('Arg1:') || !a2.startsWith('Arg2:')) throw new UserError(`expected 'Arg1:T..' and 'Arg2:T..', got ${JSON.stringify(a1)} ${JSON.stringify(a2)}`, where);
    const chem = entityById.get(`${pmid}\t${a1.slice(5)}`);
    const gene = entityById.get(`${pmid}\t${a2.slice(5)}`);
    if (!chem || !gene) throw new UserError(`relation names an entity not in ${f.entities} (${pmid} ${a1} ${a2})`, where);
    if (chem.type !== 'CHEMICAL' || gene.type !== 'GENE') throw new UserError(`Arg1 must be a CHEMICAL and Arg2 a GENE (${pmid} ${a1} ${a2})`, where);
    const key = `${pmid}.${chem.id}.${gene.id}`;
    const labels = gold.get(key) ?? [];
    if (!labels.includes(label)) labels.push(label);
    gold.set(key, labels);
    goldByLabel[label]++;
  }

  const instances: RelationInstance[] = [];
  const usedGold = new Set<string>();
  let entitiesAcrossSentences = 0;
  for (const [pmid, doc] of docs) {
    const ents = entities.get(pmid) ?? [];
    if (ents.length === 0) continue;
    const sentences = splitSentences(doc.text, { compat: 'blue' });
    const inSentence = new Set<Entity>();
    for (const s of sentences) {
      const here = ents.filter((e) => e.start >= s.start && e.end <= s.end);
      for (const e of here) inSentence.add(e);
      const chems = here.filter((e) => e.type === 'CHEMICAL');
      const genes = here.filter((e) => e.type === 'GENE');
      if (chems.length === 0 || genes.length === 0) continue;
      const tok = tokenizeWithBoundaries(doc.text, s.start, s.end, here);
      const spanOf = new Map<Entity, { start: number; end: number }>();
      for (const e of here) spanOf.set(e, tokenSpan(tok, e.start, e.end, { file: entPath, record: `entity ${pmid} ${e.id}` }));
      for (const c of chems) {
        for (const g of genes) {
          const key = `${pmid}.${c.id}.${g.id}`;
          const labels = gold.get(key);
          const e1 = { type: c.type, ...spanOf.get(c)!, text: c.text, id: c.id };
          const e2 = { type: g.type, ...spanOf.get(g)!, text: g.text, id: g.id };
          if (!labels) {
            instances.push({ id: key, docId: pmid, tokens: tok.tokens, e1, e2, label: info.negativeLabel });
            continue;
          }
          usedGold.add(key);
          for (const label of labels) {
            instances.push({ id: labels.length > 1 ? `${key}:${label}` : key, docId: pmid, tokens: tok.tokens, e1, e2, label });
          }
        }
      }
    }
    entitiesAcrossSentences += ents.length - inSentence.size;
  }
  let goldInSentence = 0;
  const goldCrossSentence: string[] = [];
  for (const [key, labels] of gold) {
    if (usedGold.has(key)) goldInSentence += labels.length;
    else for (const l of labels) goldCrossSentence.push(`${key} ${l}`);
  }
  return { instances, goldByLabel, goldRows: goldRows.length, goldInSentence, goldCrossSentence, entitiesAcrossSentences };
}
