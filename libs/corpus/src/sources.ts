import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, join, relative } from 'node:path';
import { UserError } from '@biore/runtime';
import { parsePubmed } from './pubmed.ts';
import { articleBlocks, parseJats, type JatsOptions } from './pmc.ts';
import { fullTextBlocks, readLocalChemrxiv, type ChemrxivItem } from './chemrxiv.ts';
import { openText } from './xml.ts';

export type SourceName = 'pubmed' | 'pmc' | 'chemrxiv';
export const SOURCE_NAMES: readonly SourceName[] = ['pubmed', 'pmc', 'chemrxiv'];

/** A document as the corpus builder sees it: text blocks (title, paragraphs) that sentences never cross. */
export interface CorpusDocument {
  source: SourceName;
  /** Unique within the source: a PMID, `PMC123`, a ChemRxiv id, or `file:line`. */
  id: string;
  pmid?: string;
  blocks: string[];
}

export interface SourceSpec {
  name: SourceName;
  /** The folder read: `text/<name>` under a data root, or a download job's folder. */
  dir: string;
}

export interface SourceFile {
  path: string;
  bytes: number;
}

export function checkSourceName(name: string): SourceName {
  if (!(SOURCE_NAMES as readonly string[]).includes(name)) {
    throw new UserError(`unknown source '${name}'; expected ${SOURCE_NAMES.join(', ')}`);
  }
  return name as SourceName;
}

function walk(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name, 'en', { numeric: true }))) {
    if (e.name.startsWith('.')) continue; // temporaries of killed writers, hidden files
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...walk(p));
    else out.push(p);
  }
  return out;
}

const isPubmedXml = (f: string) => /\.xml(\.gz)?$/.test(f);
const isJats = (f: string) => /\.(nxml|xml)(\.gz)?$/.test(f);

/** The files a source folder contributes, in reading order. */
export function sourceFiles(spec: SourceSpec): SourceFile[] {
  if (!existsSync(spec.dir) || !statSync(spec.dir).isDirectory()) throw new UserError(`${spec.name} source folder not found`, { file: spec.dir });
  const all = walk(spec.dir);
  let files: string[];
  if (spec.name === 'pubmed') files = all.filter((f) => f.endsWith('.txt') || isPubmedXml(f));
  else if (spec.name === 'pmc') files = all.filter(isJats);
  else {
    // local layout: sources.tsv + full-text/<doc_id>.txt; downloaded layout: items-*.jsonl + fulltext-<id>.txt
    files = all.filter((f) => basename(f) === 'sources.tsv' || /items-\d+\.jsonl$/.test(f) || /(^|[\\/])full-text[\\/][^\\/]+\.txt$/.test(f) || /fulltext-[^\\/]+\.txt$/.test(f));
  }
  if (files.length === 0) throw new UserError(`no ${spec.name} input files in this folder`, { file: spec.dir });
  return files.map((p) => ({ path: p, bytes: statSync(p).size }));
}

/** Streams the documents of one source folder. */
export async function* sourceDocuments(spec: SourceSpec, opts: { jats?: JatsOptions } = {}): AsyncGenerator<CorpusDocument> {
  const files = sourceFiles(spec).map((f) => f.path);
  if (spec.name === 'pubmed') {
    for (const f of files) {
      if (f.endsWith('.txt')) yield* linesAsDocuments(f, spec.dir);
      else {
        for await (const d of parsePubmed(f)) {
          const blocks = [d.title, ...d.sections.map((s) => s.text)].filter(Boolean);
          if (blocks.length) yield { source: 'pubmed', id: d.pmid, pmid: d.pmid, blocks };
        }
      }
    }
  } else if (spec.name === 'pmc') {
    for (const f of files) {
      for await (const a of parseJats(f, opts.jats ?? {})) {
        const id = a.pmcid ? `PMC${a.pmcid}` : a.doi ?? `${relative(spec.dir, f)}`;
        yield { source: 'pmc', id, ...(a.pmid ? { pmid: a.pmid } : {}), blocks: articleBlocks(a) };
      }
    }
  } else {
    for (const f of files) {
      if (basename(f) === 'sources.tsv') {
        for (const r of readLocalChemrxiv(dirname(f))) {
          const blocks = r.fullText ? fullTextBlocks(r.fullText) : [r.title, r.abstract].filter(Boolean);
          yield { source: 'chemrxiv', id: r.doi ?? r.id, blocks };
        }
      } else if (f.endsWith('.jsonl')) {
        yield* chemrxivItemsFile(f);
      }
    }
  }
}

/** One abstract a line (`PubMedAbstract_1MB.txt`): each non-empty line a document. */
async function* linesAsDocuments(file: string, root: string): AsyncGenerator<CorpusDocument> {
  let rest = '';
  let line = 0;
  const name = relative(root, file) || basename(file);
  for await (const chunk of openText(file)) {
    rest += chunk as string;
    let i: number;
    while ((i = rest.indexOf('\n')) >= 0) {
      line++;
      const text = rest.slice(0, i).trim();
      rest = rest.slice(i + 1);
      if (text) yield { source: 'pubmed', id: `${name}:${line}`, blocks: [text] };
    }
  }
  line++;
  if (rest.trim()) yield { source: 'pubmed', id: `${name}:${line}`, blocks: [rest.trim()] };
}

/** A downloaded ChemRxiv page (`items-N.jsonl`), with the full text of each item when it was extracted. */
function* chemrxivItemsFile(file: string): Generator<CorpusDocument> {
  const lines = readFileSync(file, 'utf8').split('\n');
  for (let i = 0; i < lines.length; i++) {
    if (!lines[i].trim()) continue;
    let it: ChemrxivItem;
    try {
      it = JSON.parse(lines[i]) as ChemrxivItem;
    } catch (e) {
      throw new UserError(`malformed JSON (${(e as Error).message})`, { file, record: `line ${i + 1}` });
    }
    const ft = join(dirname(file), `fulltext-${safeId(it.id)}.txt`);
    const blocks = existsSync(ft) ? [it.title, ...fullTextBlocks(readFileSync(ft, 'utf8'))] : [it.title, it.abstract].filter(Boolean);
    yield { source: 'chemrxiv', id: it.doi ?? it.id, blocks };
  }
}

/** An id made safe for a file name. */
export function safeId(id: string): string {
  return id.replace(/[^A-Za-z0-9._-]/g, '_');
}
