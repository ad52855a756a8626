import { createReadStream, existsSync, openSync, readSync, closeSync, statSync, type ReadStream } from 'node:fs';
import { join } from 'node:path';
import { createGunzip, type Gunzip } from 'node:zlib';
import type { Readable } from 'node:stream';
import { UserError } from '@biore/runtime';
import { splitSentences, type Span } from '@biore/text';
import type { DatasetName, EntityType, RelationInstance } from './types.ts';
import { DATASET_NAMES, datasetInfo } from './types.ts';
import { readTsv, requireDir } from './tsv.ts';
import { tokenizeWithBoundaries, tokenSpan } from './spans.ts';

/**
 * PubTator, the layout PubTator Central publishes all of PubMed in: per document `PMID|t|title`, `PMID|a|abstract`,
 * then one `PMID<TAB>start<TAB>end<TAB>mention<TAB>type<TAB>id` line per entity mention (offsets index
 * `title + " " + abstract`, end exclusive), and a blank line after each document. Four-column relation lines
 * (`PMID<TAB>CID<TAB>id1<TAB>id2`, BioCreative CDR) are read past.
 */

export interface PubTatorEntity {
  start: number;
  end: number;
  mention: string;
  /** the type as the file writes it: Chemical, Gene, Disease, Species, … */
  type: string;
  /** the concept id column (MeSH, NCBI Gene, …; ChemProt written out here puts its term id T1, T2, … there) */
  id: string;
}

export interface PubTatorDocument {
  pmid: string;
  title: string;
  abstract: string;
  /** `title + " " + abstract`: the text the entity offsets index */
  text: string;
  entities: PubTatorEntity[];
}

/** A document as read, with where it lies in the (decompressed) input. */
export interface PubTatorRecord {
  /** byte offset of the document's first line */
  offset: number;
  /** byte offset just after its last line: where reading resumes once this document is done */
  nextOffset: number;
  pmid: string;
  /** the parsed document, or why the record is malformed (then `doc` is absent) */
  doc?: PubTatorDocument;
  error?: string;
}

/** PubTator Central's entity types (and ChemProt's own) → the project's entity types; others (Species, Mutation, …) take part in no pair. */
export const PUBTATOR_TYPES: Readonly<Record<string, EntityType>> = {
  Chemical: 'CHEMICAL', CHEMICAL: 'CHEMICAL',
  Gene: 'GENE', GENE: 'GENE', 'GENE-Y': 'GENE', 'GENE-N': 'GENE',
  Disease: 'DISEASE', DISEASE: 'DISEASE',
  Drug: 'DRUG', DRUG: 'DRUG',
  Protein: 'PROTEIN', PROTEIN: 'PROTEIN',
};

/** A document of more than this many bytes is malformed (a lost blank line runs documents together); keeps memory bounded. */
export const MAX_DOCUMENT_BYTES = 8 * 2 ** 20;
const MAX_LINE_BYTES = 16 * 2 ** 20;
const CHUNK = 256 * 1024;

export interface PubTatorReadOptions {
  /** byte offset (of the decompressed text) of a document's first line, from a previous read's `nextOffset` */
  offset?: number;
}

/** Whether a file starts with the gzip magic bytes (the name does not decide). */
export function isGzipFile(path: string): boolean {
  const fd = openSync(path, 'r');
  try {
    const b = Buffer.alloc(2);
    return readSync(fd, b, 0, 2, 0) === 2 && b[0] === 0x1f && b[1] === 0x8b;
  } finally {
    closeSync(fd);
  }
}

/**
 * A streaming reader of a PubTator file, plain or gzip: one document in memory at a time. Resuming at an offset
 * seeks a plain file; a gzip file is decompressed from its start and read past up to the offset.
 */
export class PubTatorReader {
  readonly gzip: boolean;
  /** size of the file on disk (compressed size for gzip) */
  readonly size: number;
  private raw?: ReadStream;
  private gunzip?: Gunzip;

  constructor(readonly path: string, private readonly opts: PubTatorReadOptions = {}) {
    if (!existsSync(path) || !statSync(path).isFile()) throw new UserError('PubTator input file not found', { file: path });
    this.size = statSync(path).size;
    this.gzip = isGzipFile(path);
    const offset = opts.offset ?? 0;
    if (!Number.isInteger(offset) || offset < 0 || (!this.gzip && offset > this.size)) {
      throw new UserError(`resume offset ${offset} lies outside the ${this.size}-byte input`, { file: path });
    }
  }

  /** bytes of the file on disk consumed so far (gzip: taken in by the decompressor), for progress against `size` */
  get bytesRead(): number {
    if (this.gunzip) return this.gunzip.bytesWritten;
    return this.raw ? this.raw.bytesRead + (this.opts.offset ?? 0) : 0;
  }

  /** Documents in file order, each with its byte offsets; a malformed document comes back with `error` set. */
  async *documents(): AsyncGenerator<PubTatorRecord> {
    const offset = this.opts.offset ?? 0;
    this.raw = createReadStream(this.path, { start: this.gzip ? 0 : offset, highWaterMark: CHUNK });
    let stream: Readable = this.raw;
    if (this.gzip) {
      const gunzip = (this.gunzip = createGunzip({ chunkSize: CHUNK }));
      this.raw.on('error', (e) => gunzip.destroy(e));
      stream = this.raw.pipe(gunzip);
    }
    const parser = new DocumentAssembler();
    try {
      // a gzip file resumes by decompressing from its start; lines before the offset are read past undecoded
      for await (const line of lines(stream, this.gzip ? 0 : offset, offset, this.path)) {
        const done = parser.push(line.text, line.start, line.start + line.bytes);
        if (done) yield done;
      }
    } catch (e) {
      if (e instanceof UserError) throw e;
      throw new UserError(`cannot read the input (${(e as Error).message})`, { file: this.path });
    } finally {
      this.raw.destroy();
      stream.destroy();
    }
    const last = parser.finish();
    if (last) yield last;
  }
}

interface Line {
  text: string;
  /** byte offset of the line's first byte */
  start: number;
  /** bytes of the line including its line break */
  bytes: number;
}

/** Splits a byte stream into lines, keeping each line's exact byte offset (UTF-8 lengths, not string lengths). */
async function* lines(stream: Readable, base: number, skipBefore: number, file: string): AsyncGenerator<Line> {
  let carry: Buffer[] = [];
  let carryBytes = 0;
  let at = base;
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    let pos = 0;
    for (let nl = chunk.indexOf(10, pos); nl >= 0; nl = chunk.indexOf(10, pos)) {
      let buf = chunk.subarray(pos, nl);
      if (carryBytes > 0) { carry.push(buf); buf = Buffer.concat(carry); carry = []; carryBytes = 0; }
      const bytes = buf.length + 1;
      const end = buf.length > 0 && buf[buf.length - 1] === 13 ? buf.length - 1 : buf.length;
      if (at >= skipBefore) yield { text: buf.toString('utf8', 0, end), start: at, bytes };
      at += bytes;
      pos = nl + 1;
    }
    if (pos < chunk.length) {
      carry.push(chunk.subarray(pos));
      carryBytes += chunk.length - pos;
      if (carryBytes > MAX_LINE_BYTES) throw new UserError(`a line of more than ${MAX_LINE_BYTES} bytes at byte ${at}: not a PubTator file`, { file });
    }
  }
  if (carryBytes > 0) {
    const buf = Buffer.concat(carry);
    const end = buf[buf.length - 1] === 13 ? buf.length - 1 : buf.length;
    if (at >= skipBefore) yield { text: buf.toString('utf8', 0, end), start: at, bytes: buf.length };
  }
}

interface Pending {
  pmid: string;
  offset: number;
  nextOffset: number;
  title?: string;
  abstract?: string;
  entityLines: string[][];
  bytes: number;
  error?: string;
}

const HEADER = /^([^|\t]*)\|([ta])\|(.*)$/s;

/** Builds documents from lines: a blank line, or the next title line, ends one. */
class DocumentAssembler {
  private cur?: Pending;

  push(text: string, start: number, end: number): PubTatorRecord | undefined {
    if (text.trim() === '') {
      const done = this.finish();
      return done;
    }
    const h = HEADER.exec(text);
    let out: PubTatorRecord | undefined;
    if (h && h[2] === 't') out = this.finish();
    const pmid = h ? h[1] : text.slice(0, Math.max(0, text.indexOf('\t')));
    if (!this.cur) this.cur = { pmid: pmid || '?', offset: start, nextOffset: end, entityLines: [], bytes: 0 };
    const d = this.cur;
    d.nextOffset = end;
    d.bytes += end - start;
    if (d.error) return out; // read past the rest of a malformed document
    if (d.bytes > MAX_DOCUMENT_BYTES) { this.fail(d, `document longer than ${MAX_DOCUMENT_BYTES} bytes (a missing blank line between documents?)`); return out; }
    if (h) {
      if (h[1] !== d.pmid) { this.fail(d, `byte ${start}: PMID ${h[1]} inside the document of PMID ${d.pmid}`); return out; }
      if (h[2] === 't') d.title = h[3];
      else if (d.abstract !== undefined) this.fail(d, `byte ${start}: a second abstract line`);
      else d.abstract = h[3];
      return out;
    }
    const cols = text.split('\t');
    if (cols.length < 4) { this.fail(d, `byte ${start}: expected 'PMID|t|title', 'PMID|a|abstract' or a tab-separated annotation, got ${JSON.stringify(text.slice(0, 60))}`); return out; }
    if (cols[0] !== d.pmid) { this.fail(d, `byte ${start}: annotation of PMID ${cols[0]} inside the document of PMID ${d.pmid}`); return out; }
    if (cols.length === 4) return out; // a relation line (PMID, type, id1, id2)
    d.entityLines.push(cols);
    return out;
  }

  private fail(d: Pending, error: string): void {
    d.error = error;
    d.entityLines = [];
    d.title = d.abstract = undefined;
  }

  finish(): PubTatorRecord | undefined {
    const d = this.cur;
    this.cur = undefined;
    if (!d) return undefined;
    const rec: PubTatorRecord = { offset: d.offset, nextOffset: d.nextOffset, pmid: d.pmid };
    if (d.error) return { ...rec, error: d.error };
    if (d.title === undefined) return { ...rec, error: "no 'PMID|t|title' line" };
    const title = d.title;
    const abstract = d.abstract ?? '';
    const text = title + ' ' + abstract;
    const entities: PubTatorEntity[] = [];
    let cp: number[] | undefined;
    for (const cols of d.entityLines) {
      const [, s, e, mention, type, id = ''] = cols;
      if (!/^\d+$/.test(s) || !/^\d+$/.test(e)) return { ...rec, error: `annotation offsets must be integers, got ${JSON.stringify(s)} ${JSON.stringify(e)}` };
      let start = Number(s), end = Number(e);
      if (text.slice(start, end) !== mention) {
        // PubTator Central counts code points; JavaScript strings count UTF-16 units (they differ after an astral character)
        cp ??= codePointIndex(text);
        if (cp && end < cp.length && text.slice(cp[start], cp[end]) === mention) { start = cp[start]; end = cp[end]; }
        else return { ...rec, error: `annotation ${s}-${e} ${JSON.stringify(mention)} differs from the text there ${JSON.stringify(text.slice(start, end))}` };
      }
      if (!(start < end)) return { ...rec, error: `annotation ${s}-${e} is empty` };
      entities.push({ start, end, mention, type, id });
    }
    return { ...rec, doc: { pmid: d.pmid, title, abstract, text, entities } };
  }
}

/** UTF-16 index of each code point (and of the end), or undefined when the text has no astral character. */
function codePointIndex(text: string): number[] | undefined {
  if (!/[\uD800-\uDBFF]/.test(text)) return undefined;
  const idx: number[] = [];
  let i = 0;
  for (const ch of text) { idx.push(i); i += ch.length; }
  idx.push(i);
  return idx;
}

/** Convenience: the documents of a PubTator file (plain or gzip) from `offset` on. */
export function readPubTator(path: string, opts: PubTatorReadOptions = {}): AsyncGenerator<PubTatorRecord> {
  return new PubTatorReader(path, opts).documents();
}

/** One document in PubTator layout, with its closing blank line; entity lines in offset order. */
export function toPubTator(doc: Omit<PubTatorDocument, 'text'>): string {
  for (const s of [doc.title, doc.abstract]) {
    if (/[\n\r]/.test(s)) throw new UserError(`PMID ${doc.pmid}: a title or abstract with a line break cannot be written as PubTator`);
  }
  const ents = [...doc.entities].sort((a, b) => a.start - b.start || a.end - b.end);
  const lines = [`${doc.pmid}|t|${doc.title}`, `${doc.pmid}|a|${doc.abstract}`];
  for (const e of ents) lines.push([doc.pmid, e.start, e.end, e.mention, e.type, e.id].join('\t'));
  return lines.join('\n') + '\n\n';
}

const CHEMPROT_FILES: Record<string, [string, string, string]> = {
  train: ['chemprot_training', 'chemprot_training_abstracts.tsv', 'chemprot_training_entities.tsv'],
  dev: ['chemprot_development', 'chemprot_development_abstracts.tsv', 'chemprot_development_entities.tsv'],
  test: ['chemprot_test_gs', 'chemprot_test_abstracts_gs.tsv', 'chemprot_test_entities_gs.tsv'],
};
const CHEMPROT_TO_PUBTATOR: Record<string, string> = { CHEMICAL: 'Chemical', 'GENE-Y': 'Gene', 'GENE-N': 'Gene' };

/**
 * ChemProt's abstracts and entities of one split as PubTator documents, in the abstracts file's order:
 * CHEMICAL → Chemical, GENE-Y/GENE-N → Gene, the term id (T1, …) in the id column so extractions join the gold standard.
 */
export function* chemProtAsPubTator(chemprotDir: string, split: string): Generator<Omit<PubTatorDocument, 'text'>> {
  const f = CHEMPROT_FILES[split];
  if (!f) throw new UserError(`chemprot has no split '${split}'; expected train, dev or test`);
  const dir = join(chemprotDir, f[0]);
  requireDir(dir, `chemprot ${split}`);
  const ents = new Map<string, PubTatorEntity[]>();
  const entPath = join(dir, f[2]);
  for (const r of readTsv(entPath, 6, 'chemprot entities file')) {
    const [pmid, id, type, s, e, mention] = r.cols;
    const t = CHEMPROT_TO_PUBTATOR[type];
    if (!t) throw new UserError(`unknown entity type ${JSON.stringify(type)}; expected CHEMICAL, GENE-Y or GENE-N`, { file: entPath, record: `line ${r.line}` });
    const list = ents.get(pmid) ?? [];
    list.push({ start: Number(s), end: Number(e), mention, type: t, id });
    ents.set(pmid, list);
  }
  for (const r of readTsv(join(dir, f[1]), 3, 'chemprot abstracts file')) {
    const [pmid, title, abstract] = r.cols;
    yield { pmid, title, abstract, entities: ents.get(pmid) ?? [] };
  }
}

/**
 * Which entity pairs of a sentence are candidates for a model of each dataset, as its loader builds them:
 * ChemProt every chemical × gene (e1 the chemical), DDI every two drugs, GAD gene × disease, AIMed every two
 * proteins; same-type pairs once each, e1 the earlier in the text. `from` lists the entity types (after
 * PUBTATOR_TYPES) a role takes: PubTator Central has no Drug or Protein type, so its Chemical stands for drugs
 * and its Gene for proteins.
 */
export interface CandidatePairs {
  dataset: DatasetName;
  e1: { type: EntityType; from: readonly EntityType[] };
  e2: { type: EntityType; from: readonly EntityType[] };
  symmetric: boolean;
  /** the sentences of `title + " " + abstract` as the dataset's loader splits them (a test holds ChemProt's to its loader's) */
  sentences: (title: string, text: string) => Span[];
}

const CANDIDATES: Record<DatasetName, CandidatePairs> = {
  chemprot: { dataset: 'chemprot', e1: { type: 'CHEMICAL', from: ['CHEMICAL'] }, e2: { type: 'GENE', from: ['GENE', 'PROTEIN'] }, symmetric: false, sentences: (_title, text) => splitSentences(text, { compat: 'blue' }) },
  ddi: { dataset: 'ddi', e1: { type: 'DRUG', from: ['DRUG', 'CHEMICAL'] }, e2: { type: 'DRUG', from: ['DRUG', 'CHEMICAL'] }, symmetric: true, sentences: (_title, text) => splitSentences(text) },
  gad: { dataset: 'gad', e1: { type: 'GENE', from: ['GENE', 'PROTEIN'] }, e2: { type: 'DISEASE', from: ['DISEASE'] }, symmetric: false, sentences: (_title, text) => splitSentences(text) },
  aimed: { dataset: 'aimed', e1: { type: 'PROTEIN', from: ['PROTEIN', 'GENE'] }, e2: { type: 'PROTEIN', from: ['PROTEIN', 'GENE'] }, symmetric: true, sentences: (_title, text) => splitSentences(text) },
};

export function candidatePairs(dataset: DatasetName): CandidatePairs {
  return CANDIDATES[dataset];
}

/** The dataset a model was trained on, recognised by its label set (the four datasets' label sets differ). */
export function datasetOfLabels(labels: readonly string[]): DatasetName {
  const key = labels.join('\t');
  const hit = DATASET_NAMES.find((n) => datasetInfo(n).labels.join('\t') === key);
  if (!hit) throw new UserError(`the model's labels (${labels.join(', ')}) are those of none of ${DATASET_NAMES.join(', ')}, so its candidate entity pairs are unknown`);
  return hit;
}

export interface Candidate {
  /** the sentence's character span in the document text */
  sentence: Span;
  instance: RelationInstance;
  e1: PubTatorEntity;
  e2: PubTatorEntity;
}

/**
 * The candidate relation instances of a document: its text sentence-split and tokenized as the dataset's loader
 * does (entity boundaries forced to token boundaries), every candidate pair whose two entities lie inside one
 * sentence. Returns how many sentences the document has and the candidates in text order.
 */
export function candidateInstances(doc: PubTatorDocument, pairs: CandidatePairs): { sentences: number; candidates: Candidate[] } {
  const roleTypes = new Set([...pairs.e1.from, ...pairs.e2.from]);
  const typed = doc.entities
    .map((e) => ({ e, t: PUBTATOR_TYPES[e.type] }))
    .filter((x) => x.t !== undefined && roleTypes.has(x.t))
    .sort((a, b) => a.e.start - b.e.start || a.e.end - b.e.end);
  const sentences = pairs.sentences(doc.title, doc.text);
  const candidates: Candidate[] = [];
  if (typed.length < 2) return { sentences: sentences.length, candidates };
  for (const s of sentences) {
    const here = typed.filter((x) => x.e.start >= s.start && x.e.end <= s.end);
    const ones = here.filter((x) => pairs.e1.from.includes(x.t));
    const twos = here.filter((x) => pairs.e2.from.includes(x.t));
    if (ones.length === 0 || twos.length === 0) continue;
    const tok = tokenizeWithBoundaries(doc.text, s.start, s.end, here.map((x) => x.e));
    const where = (e: PubTatorEntity) => ({ file: `PMID ${doc.pmid}`, record: `annotation ${e.start}-${e.end}` });
    const span = (e: PubTatorEntity, type: EntityType) => ({ type, ...tokenSpan(tok, e.start, e.end, where(e)), text: e.mention, ...(e.id ? { id: e.id } : {}) });
    const push = (a: PubTatorEntity, b: PubTatorEntity) => {
      const instance: RelationInstance = {
        id: `${doc.pmid}:${a.start}-${a.end}:${b.start}-${b.end}`, docId: doc.pmid, tokens: tok.tokens,
        e1: span(a, pairs.e1.type), e2: span(b, pairs.e2.type), label: '',
      };
      candidates.push({ sentence: { start: s.start, end: s.end }, instance, e1: a, e2: b });
    };
    if (pairs.symmetric) {
      // one pair per two distinct mentions; a mention annotated twice (Chemical and Drug) counts once
      const seen = new Set<string>();
      const ms = ones.filter((x) => { const k = `${x.e.start}-${x.e.end}`; return seen.has(k) ? false : (seen.add(k), true); });
      for (let i = 0; i < ms.length; i++) for (let j = i + 1; j < ms.length; j++) push(ms[i].e, ms[j].e);
    } else {
      for (const a of ones) for (const b of twos) if (a.e !== b.e) push(a.e, b.e);
    }
  }
  return { sentences: sentences.length, candidates };
}
