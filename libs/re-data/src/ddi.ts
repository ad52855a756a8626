import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { unzipSync, strFromU8 } from 'fflate';
import { SaxesParser } from 'saxes';
import { Rng, UserError } from '@biore/runtime';
import type { RelationInstance } from './types.ts';
import { datasetInfo } from './types.ts';
import { tokenizeWithBoundaries, tokenSpan, type CharSpan } from './spans.ts';

/**
 * DDI Extraction 2013 → relation instances, read in memory from the original zip.
 * - train-full = DDICorpus/Train/{DrugBank,MedLine}; test = DDICorpus/Test/Test for DDI Extraction task.
 * - One instance per <pair>; label = its `type` (effect, mechanism, advise, int) when ddi="true",
 *   else `negative`. e1/e2 as given by the pair, both of type DRUG (drug, brand, group, drug_n alike).
 * - The one training pair with ddi="true" and no type (DDI-DrugBank.d236.s29.p0) is labelled `int`:
 *   the annotators asserted an interaction without saying which, which is the guideline's meaning of `int`.
 * - charOffset is inclusive ("4-19"); a discontinuous entity ("59-65;75-78") spans from its first start to
 *   its last end in tokens (the gap words are inside the span), and each fragment edge is a token boundary.
 * - dev: DDI has no official dev set, so 10% of the training documents (DrugBank and MedLine pooled, sorted
 *   by id, shuffled with Rng(DDI_DEV_SEED)) form 'dev' and 'train' is the rest; 'train-full' is all of it.
 */

export const DDI_DEV_SEED = 2013;
export const DDI_DEV_FRACTION = 0.1;
const ZIP = 'DDICorpus-2013.zip';
const TRAIN_DIRS = ['DDICorpus/Train/DrugBank/', 'DDICorpus/Train/MedLine/'];
const TEST_DIR = 'DDICorpus/Test/Test for DDI Extraction task/';
const UNTYPED_TRUE_LABEL = 'int';

interface XmlEntity extends CharSpan {
  id: string;
  text: string;
  fragments: CharSpan[];
}

/** Parses one DDI document's XML into instances. `file` names the zip member for errors. */
export function parseDdiDocument(xml: string, file: string): { docId: string; instances: RelationInstance[] } {
  const info = datasetInfo('ddi');
  const parser = new SaxesParser({ position: true });
  let docId = '';
  let sentence: { id: string; text: string; entities: XmlEntity[]; pairs: Record<string, string>[] } | undefined;
  const instances: RelationInstance[] = [];
  const where = (rec: string) => ({ file, record: rec });

  const finishSentence = () => {
    if (!sentence || sentence.pairs.length === 0) return;
    const s = sentence;
    const bounds: CharSpan[] = s.entities.flatMap((e) => e.fragments);
    const tok = tokenizeWithBoundaries(s.text, 0, s.text.length, bounds);
    const byId = new Map(s.entities.map((e) => [e.id, e]));
    const span = (e: XmlEntity) => ({ type: 'DRUG' as const, ...tokenSpan(tok, e.start, e.end, where(e.id)), text: e.text, id: e.id });
    for (const p of s.pairs) {
      const e1 = byId.get(p.e1);
      const e2 = byId.get(p.e2);
      if (!e1 || !e2) throw new UserError(`pair names entity ${!e1 ? p.e1 : p.e2}, which is not in its sentence`, where(p.id));
      let label: string;
      if (p.ddi === 'true') label = p.type ?? UNTYPED_TRUE_LABEL;
      else if (p.ddi === 'false') label = info.negativeLabel;
      else throw new UserError(`pair attribute ddi must be "true" or "false", got ${JSON.stringify(p.ddi)}`, where(p.id));
      if (!info.labels.includes(label)) throw new UserError(`unknown label ${JSON.stringify(label)}; expected one of ${info.positiveLabels.join(', ')}`, where(p.id));
      instances.push({ id: p.id, docId, tokens: tok.tokens, e1: span(e1), e2: span(e2), label });
    }
  };

  parser.on('opentag', (tag) => {
    const a = tag.attributes as Record<string, string>;
    if (tag.name === 'document') docId = a.id ?? '';
    else if (tag.name === 'sentence') {
      if (a.text === undefined || !a.id) throw new UserError('sentence without id or text attribute', where(a.id ?? `line ${parser.line}`));
      sentence = { id: a.id, text: a.text, entities: [], pairs: [] };
    } else if (tag.name === 'entity') {
      if (!sentence) throw new UserError('entity outside a sentence', where(a.id ?? `line ${parser.line}`));
      const id = a.id ?? `line ${parser.line}`;
      const fragments: CharSpan[] = [];
      for (const frag of (a.charOffset ?? '').split(';')) {
        const m = /^(\d+)-(\d+)$/.exec(frag.trim());
        if (!m) throw new UserError(`charOffset must be 'start-end' or 'a-b;c-d', got ${JSON.stringify(a.charOffset)}`, where(id));
        const start = Number(m[1]);
        const end = Number(m[2]) + 1; // inclusive in the corpus
        if (!(start < end && end <= sentence.text.length)) {
          throw new UserError(`charOffset ${frag} lies outside the sentence text (length ${sentence.text.length})`, where(id));
        }
        fragments.push({ start, end });
      }
      fragments.sort((x, y) => x.start - y.start);
      // the corpus's own discontinuous offsets are sometimes off by one, so only contiguous ones are checked
      const surface = sentence.text.slice(fragments[0].start, fragments[0].end);
      if (fragments.length === 1 && a.text !== undefined && surface !== a.text) {
        throw new UserError(`entity text ${JSON.stringify(a.text)} differs from the sentence's characters at ${a.charOffset} ${JSON.stringify(surface)}`, where(id));
      }
      sentence.entities.push({ id, text: a.text ?? '', start: fragments[0].start, end: fragments[fragments.length - 1].end, fragments });
    } else if (tag.name === 'pair') {
      if (!sentence) throw new UserError('pair outside a sentence', where(a.id ?? `line ${parser.line}`));
      if (!a.id || !a.e1 || !a.e2) throw new UserError('pair needs id, e1 and e2 attributes', where(a.id ?? `line ${parser.line}`));
      sentence.pairs.push(a);
    }
  });
  parser.on('closetag', (tag) => {
    if (tag.name === 'sentence') { finishSentence(); sentence = undefined; }
  });
  try {
    parser.write(xml).close();
  } catch (e) {
    if (e instanceof UserError) throw e;
    throw new UserError(`malformed XML (${(e as Error).message})`, { file });
  }
  if (!docId) throw new UserError('no <document id="..."> element', { file });
  return { docId, instances };
}

export interface DdiCorpus {
  train: { docId: string; instances: RelationInstance[] }[];
  test: { docId: string; instances: RelationInstance[] }[];
  /** one line per zip member skipped (a '..' or absolute path, or a name the zip holds twice) */
  warnings: string[];
}

/** A member name that could point outside the corpus folder: absolute, a drive letter, backslashes or a '..' step. */
function unsafeMemberName(name: string): boolean {
  return name.startsWith('/') || /^[A-Za-z]:/.test(name) || name.includes('\\') || name.split('/').includes('..');
}

// in-process memo of the parsed zip (path, size and mtime), so train/dev/test loads parse it once
let memo: { key: string; corpus: DdiCorpus } | undefined;

/**
 * Reads both official parts of the corpus from `<ddiDir>/DDICorpus-2013.zip`. Members with a '..' or absolute
 * path, and names the zip holds more than once, are skipped with a one-line warning each (stderr, unless
 * `onWarning` is given) instead of becoming documents.
 */
export function readDdiZip(ddiDir: string, onWarning: (line: string) => void = (l) => process.stderr.write(`${l}\n`)): DdiCorpus {
  const zipPath = join(ddiDir, ZIP);
  if (!existsSync(zipPath)) throw new UserError(`DDI zip ${ZIP} not found`, { file: zipPath });
  const st = statSync(zipPath);
  const key = `${zipPath}\t${st.size}\t${st.mtimeMs}`;
  if (memo?.key === key) return memo.corpus;
  let files: Record<string, Uint8Array>;
  const seen = new Map<string, number>();
  const warnings: string[] = [];
  try {
    files = unzipSync(readFileSync(zipPath), {
      filter: (f) => {
        if (unsafeMemberName(f.name)) {
          warnings.push(`warning: ${zipPath}: member ${JSON.stringify(f.name)} has a '..' or absolute path; skipped`);
          return false;
        }
        seen.set(f.name, (seen.get(f.name) ?? 0) + 1);
        return f.name.endsWith('.xml') && (f.name.startsWith(TEST_DIR) || TRAIN_DIRS.some((d) => f.name.startsWith(d)));
      },
    });
  } catch (e) {
    throw new UserError(`not a readable zip (${(e as Error).message})`, { file: zipPath });
  }
  const out: DdiCorpus = { train: [], test: [], warnings };
  for (const name of Object.keys(files).sort()) {
    if (name.split('/').pop()!.startsWith('.')) continue;
    if ((seen.get(name) ?? 0) > 1) {
      warnings.push(`warning: ${zipPath}: member ${JSON.stringify(name)} appears ${seen.get(name)} times; all copies skipped`);
      continue;
    }
    const doc = parseDdiDocument(strFromU8(files[name]), `${zipPath}:${name}`);
    (name.startsWith(TEST_DIR) ? out.test : out.train).push(doc);
  }
  for (const w of warnings) onWarning(w);
  if (out.train.length === 0 || out.test.length === 0) throw new UserError(`expected ${TRAIN_DIRS.join(', ')} and '${TEST_DIR}' inside the zip`, { file: zipPath });
  memo = { key, corpus: out };
  return out;
}

/** The document ids of the DDI dev split: a seeded 10% of the training documents. */
export function ddiDevDocuments(trainDocIds: string[], seed = DDI_DEV_SEED, fraction = DDI_DEV_FRACTION): Set<string> {
  const ids = [...new Set(trainDocIds)].sort();
  new Rng(seed).shuffle(ids);
  return new Set(ids.slice(0, Math.round(ids.length * fraction)));
}

export function loadDdi(ddiDir: string, split: string): RelationInstance[] {
  const c = readDdiZip(ddiDir);
  const flat = (docs: DdiCorpus['train']) => docs.flatMap((d) => d.instances);
  switch (split) {
    case 'test': return flat(c.test);
    case 'train-full': return flat(c.train);
    case 'train':
    case 'dev': {
      const dev = ddiDevDocuments(c.train.map((d) => d.docId));
      return flat(c.train.filter((d) => dev.has(d.docId) === (split === 'dev')));
    }
    default: throw new UserError(`ddi has no split '${split}'; expected train, dev, test or train-full`);
  }
}
