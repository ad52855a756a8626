import { createReadStream, existsSync, readdirSync, statSync } from 'node:fs';
import { join, basename } from 'node:path';
import { createGunzip } from 'node:zlib';
import { createInterface } from 'node:readline';
import { SaxesParser } from 'saxes';
import { UserError, findData } from '@biore/runtime';

/**
 * A corpus is something that can be read from the start any number of times (vocab counting and co-occurrence
 * counting each read it once), as a stream of lines: one document, paragraph or sentence per line.
 * Co-occurrence windows never cross a line.
 */
export interface TextSource {
  /** what was read, for config.json and the stage hashes: file paths with sizes and mtimes */
  readonly description: string;
  readonly files: readonly string[];
  lines(): AsyncGenerator<string>;
}

function fingerprint(files: readonly string[]): string {
  return files.map((f) => { const s = statSync(f); return `${f}:${s.size}:${Math.round(s.mtimeMs)}`; }).join('\n');
}

async function* textFileLines(path: string): AsyncGenerator<string> {
  const rl = createInterface({ input: createReadStream(path, { encoding: 'utf8', highWaterMark: 1 << 20 }), crlfDelay: Infinity });
  for await (const line of rl) if (line.trim()) yield line;
}

/**
 * Text of selected XML elements, one line per outermost element, with everything nested inside them
 * (e.g. <italic>, <xref>) kept as text. `gz` streams through zlib.
 */
async function* xmlElementTexts(path: string, elements: ReadonlySet<string>, gz: boolean): AsyncGenerator<string> {
  const parser = new SaxesParser({ xmlns: false });
  const out: string[] = [];
  let depth = 0;
  let buf = '';
  parser.on('opentag', (t) => { if (elements.has(t.name) || depth > 0) { depth++; if (depth > 1) buf += ' '; } });
  parser.on('closetag', (t) => {
    if (depth === 0) return;
    depth--;
    if (depth === 0) {
      const s = buf.replace(/\s+/g, ' ').trim();
      if (s) out.push(s);
      buf = '';
    } else if (t.name) buf += ' ';
  });
  parser.on('text', (s) => { if (depth > 0) buf += s; });
  parser.on('cdata', (s) => { if (depth > 0) buf += s; });
  let stream: NodeJS.ReadableStream = createReadStream(path);
  if (gz) stream = stream.pipe(createGunzip());
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      parser.write(chunk.toString('utf8'));
      while (out.length) yield out.shift()!;
    }
    parser.close();
  } catch (e) {
    if (e instanceof UserError) throw e;
    throw new UserError(`cannot read XML (${(e as Error).message.split('\n')[0]})`, { file: path });
  }
  while (out.length) yield out.shift()!;
}

const PMC_ELEMENTS = new Set(['p', 'title', 'article-title']);
const MEDLINE_ELEMENTS = new Set(['ArticleTitle', 'AbstractText']);

function linesOf(path: string): AsyncGenerator<string> {
  const name = basename(path);
  if (name.endsWith('.nxml')) return xmlElementTexts(path, PMC_ELEMENTS, false);
  if (name.endsWith('.xml.gz')) return xmlElementTexts(path, MEDLINE_ELEMENTS, true);
  if (name.endsWith('.xml')) return xmlElementTexts(path, MEDLINE_ELEMENTS, false);
  return textFileLines(path);
}

function sourceOf(files: string[], what: string): TextSource {
  return {
    description: `${what}\n${fingerprint(files)}`,
    files,
    async *lines() {
      for (const f of files) yield* linesOf(f);
    },
  };
}

/**
 * The development text under the data root's `text/` folder: PubMed abstracts (one a line), the MEDLINE
 * baseline file's titles and abstracts, the ChemRxiv full texts, and the PMC articles' <p> and <title> text.
 */
export function localTextSource(dataFlag?: string): TextSource {
  const { path: root } = findData('text', dataFlag);
  const files: string[] = [];
  const pub = join(root, 'pubmed');
  if (existsSync(pub)) for (const f of readdirSync(pub).sort()) if (f.endsWith('.txt') || f.endsWith('.xml.gz')) files.push(join(pub, f));
  const chem = join(root, 'chemrxiv', 'full-text');
  if (existsSync(chem)) for (const f of readdirSync(chem).sort()) if (f.endsWith('.txt')) files.push(join(chem, f));
  const pmc = join(root, 'pmc');
  if (existsSync(pmc)) for (const f of readdirSync(pmc).sort()) if (f.endsWith('.nxml')) files.push(join(pmc, f));
  if (files.length === 0) throw new UserError('no .txt, .xml.gz or .nxml files under the text folder', { file: root });
  return sourceOf(files, `local text ${root}`);
}

/** `--corpus PATH`: a text file, or a folder of `.txt` files (recursively), one document or sentence per line. */
export function corpusSource(path: string): TextSource {
  if (!existsSync(path)) throw new UserError('corpus not found (expected a text file or a folder of .txt files)', { file: path });
  const files: string[] = [];
  if (statSync(path).isDirectory()) {
    (function walk(d: string) {
      for (const e of readdirSync(d).sort()) {
        const p = join(d, e);
        if (statSync(p).isDirectory()) walk(p);
        else if (e.endsWith('.txt')) files.push(p);
      }
    })(path);
    if (files.length === 0) throw new UserError('corpus folder holds no .txt files', { file: path });
  } else files.push(path);
  return sourceOf(files, `corpus ${path}`);
}

/** A source over in-memory lines (tests, small tools). */
export function linesSource(lines: readonly string[], name = 'inline'): TextSource {
  return {
    description: `${name}\n${lines.length}:${lines.join('\n').length}:${simpleHash(lines.join('\n'))}`,
    files: [],
    async *lines() { yield* lines; },
  };
}

/** FNV-1a over UTF-16 code units, as unsigned 32 bits. */
export function simpleHash(s: string, seed = 0x811c9dc5): number {
  let h = seed >>> 0;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return h >>> 0;
}
