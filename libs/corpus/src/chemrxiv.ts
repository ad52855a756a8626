import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { UserError } from '@biore/runtime';

export const CHEMRXIV_API = 'https://chemrxiv.org/engage/chemrxiv/public-api/v1';

/** A ChemRxiv preprint as biore keeps it (from the public API's `item`, or from a local `sources.tsv`). */
export interface ChemrxivItem {
  id: string;
  doi?: string;
  title: string;
  abstract: string;
  license?: string;
  publishedDate?: string;
  pdfUrl?: string;
  categories?: string[];
}

/**
 * Turns one API `itemHits[].item` into a ChemrxivItem. An item without an id or a title is malformed: the
 * reason is returned instead, so the caller can skip and count it.
 */
export function normaliseApiItem(raw: unknown): ChemrxivItem | { malformed: string } {
  if (!raw || typeof raw !== 'object') return { malformed: 'item is not an object' };
  const it = raw as Record<string, any>;
  if (typeof it.id !== 'string' || !it.id) return { malformed: 'item without an id' };
  if (typeof it.title !== 'string' || !it.title.trim()) return { malformed: `item ${it.id} without a title` };
  const out: ChemrxivItem = { id: it.id, title: it.title.trim(), abstract: typeof it.abstract === 'string' ? it.abstract.trim() : '' };
  if (typeof it.doi === 'string') out.doi = it.doi;
  const lic = it.license?.name ?? it.license?.id ?? (typeof it.license === 'string' ? it.license : undefined);
  if (typeof lic === 'string') out.license = lic;
  if (typeof it.publishedDate === 'string') out.publishedDate = it.publishedDate;
  const pdf = it.asset?.original?.url;
  if (typeof pdf === 'string' && (it.asset?.mimeType === undefined || /pdf/i.test(it.asset.mimeType))) out.pdfUrl = pdf;
  if (Array.isArray(it.categories)) out.categories = it.categories.map((c: any) => c?.name).filter((n: unknown) => typeof n === 'string');
  return out;
}

/**
 * Whether a licence allows redistributing derived text (full text is only extracted for these):
 * CC BY, CC BY-SA, CC0 and their NC variants for research corpora (ND forbids derivatives).
 */
export function licenceAllowsText(license: string | undefined, allowNonCommercial = true): boolean {
  if (!license) return false;
  const l = license.toUpperCase().replace(/[\s_]+/g, ' ');
  if (/\bND\b|NO ?DERIV/.test(l)) return false;
  if (/\bNC\b|NON ?COMMERCIAL/.test(l) && !allowNonCommercial) return false;
  return /CC ?0|CC[- ]?BY|CREATIVE COMMONS|PUBLIC DOMAIN/.test(l);
}

export interface LocalChemrxivRecord extends ChemrxivItem {
  /** Full text from `full-text/<doc_id>.txt` when present. */
  fullText?: string;
}

/**
 * Reads a local ChemRxiv folder laid out as `../shared/data/text/chemrxiv`: `sources.tsv` (comment lines
 * starting with `#`, a header `doc_id title authors abstract fields_of_study doi_or_url license`) and
 * `full-text/<doc_id>.txt`. A row with the wrong number of fields is a UserError naming the line.
 */
export function* readLocalChemrxiv(dir: string): Generator<LocalChemrxivRecord> {
  const tsv = join(dir, 'sources.tsv');
  if (!existsSync(tsv)) throw new UserError('ChemRxiv sources.tsv not found', { file: tsv });
  const lines = readFileSync(tsv, 'utf8').split('\n');
  let header: string[] | undefined;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i].replace(/\r$/, '');
    if (!line.trim() || line.startsWith('#')) continue;
    const cols = line.split('\t');
    if (!header) {
      header = cols;
      for (const need of ['doc_id', 'title', 'abstract']) {
        if (!header.includes(need)) throw new UserError(`header lacks column '${need}' (has ${header.join(', ')})`, { file: tsv, record: `line ${i + 1}` });
      }
      continue;
    }
    if (cols.length !== header.length) {
      throw new UserError(`expected ${header.length} tab-separated fields, found ${cols.length}`, { file: tsv, record: `line ${i + 1}` });
    }
    const row = Object.fromEntries(header.map((h, k) => [h, cols[k]]));
    const id = row.doc_id;
    const ftPath = join(dir, 'full-text', `${id}.txt`);
    const rec: LocalChemrxivRecord = { id, title: row.title ?? '', abstract: row.abstract ?? '' };
    if (row.doi_or_url) rec.doi = row.doi_or_url;
    if (row.license) rec.license = row.license;
    if (existsSync(ftPath)) rec.fullText = readFileSync(ftPath, 'utf8');
    yield rec;
  }
  if (!header) throw new UserError('no header row', { file: tsv });
}

/**
 * Text blocks of a paper's extracted full text (one paragraph a line, as pdf extraction or the local files
 * give): the reference list and everything after it is cut, table rows and short non-sentence lines
 * (affiliations, headings, e-mail lines) are dropped.
 */
export function fullTextBlocks(text: string): string[] {
  const lines = text.split(/\r?\n/);
  let end = lines.length;
  for (let i = Math.floor(lines.length * 0.3); i < lines.length; i++) {
    if (/^\s*(#+\s*)?(\d+\.?\s*)?(references|bibliography|literature cited|references and notes)\s*:?\s*$/i.test(lines[i])) {
      end = i;
      break;
    }
  }
  const out: string[] = [];
  for (const raw of lines.slice(0, end)) {
    const line = raw.trim();
    if (!line || line.startsWith('|') || /@|https?:\/\//.test(line)) continue;
    const nWords = (line.match(/\p{L}{2,}/gu) ?? []).length;
    if (nWords < 6 && !/[.?!]$/.test(line)) continue;
    out.push(line);
  }
  return out;
}
