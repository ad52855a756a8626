import type { SaxesTagPlain } from 'saxes';
import { UserError } from '@biore/runtime';
import { squeeze, streamXmlRecords, sourceName, type TextSource, type XmlHandler } from './xml.ts';

/**
 * What of a JATS article beyond title, abstract and body paragraphs is kept. Each extra is returned in its
 * own field, never mixed into the body text.
 */
export interface JatsOptions {
  /** Figure (and supplementary material) captions → `captions`. Default false. */
  figures?: boolean;
  /** Table captions and cell text → `tables`. Default false. */
  tables?: boolean;
  /** Reference list entries → `references`. Default false. */
  references?: boolean;
  /** Formulas: dropped (default), or replaced by the placeholder `[formula]` so sentences keep their shape. */
  formulas?: 'drop' | 'placeholder';
}

export interface JatsSection {
  /** Section title path, e.g. `Methods / Cell culture` (empty for untitled text). */
  title: string;
  paragraphs: string[];
}

export interface PmcArticle {
  pmcid?: string;
  pmid?: string;
  doi?: string;
  articleType?: string;
  title: string;
  journal?: string;
  year?: number;
  abstract: JatsSection[];
  body: JatsSection[];
  captions?: string[];
  tables?: string[];
  references?: string[];
}

type Role = 'skip' | 'para' | 'title' | 'sectitle' | 'id' | 'journal' | 'year' | 'caption' | 'table' | 'ref' | 'pass';

interface Frame {
  name: string;
  role: Role;
  buf?: string[];
  attr?: string;
}

const SKIP_ALWAYS = new Set([
  'label', 'fn-group', 'ack', 'app-group', 'glossary', 'notes', 'sub-article', 'response', 'contrib-group', 'aff',
  'author-notes', 'permissions', 'funding-group', 'kwd-group', 'history', 'object-id', 'tex-math', 'mml:math', 'math',
  'table-wrap-foot', 'alternatives', 'graphic', 'media', 'inline-graphic', 'counts', 'custom-meta-group', 'trans-abstract',
]);
const FORMULA = new Set(['disp-formula', 'inline-formula', 'chem-struct-wrap']);
const FIGURE = new Set(['fig', 'fig-group', 'supplementary-material']);
const SKIP_ABSTRACT_TYPES = new Set(['graphical', 'teaser', 'toc', 'editor-summary']);
// block elements inside a paragraph or cell get a space so words do not run together
const SPACED = new Set(['td', 'th', 'tr', 'list-item', 'break', 'caption', 'title', 'p', 'mixed-citation', 'element-citation']);

class JatsHandler implements XmlHandler<PmcArticle> {
  private done: PmcArticle[] = [];
  private cur: PmcArticle | undefined;
  private frames: Frame[] = [];
  private zone: 'front' | 'abstract' | 'body' | 'back' | undefined;
  private secTitles: (string | undefined)[] = [];
  private records = 0;
  private currentSection: JatsSection | undefined;

  constructor(private readonly opts: JatsOptions) {}

  where(): string | undefined {
    if (this.records === 0) return undefined;
    const id = this.cur?.pmcid ? `PMC${this.cur.pmcid.replace(/^PMC/, '')}` : this.cur?.pmid ? `PMID ${this.cur.pmid}` : undefined;
    return id ? `article ${this.records} (${id})` : `article ${this.records}`;
  }

  drain(): PmcArticle[] {
    const d = this.done;
    this.done = [];
    return d;
  }

  private inherited(): Role | undefined {
    for (let i = this.frames.length - 1; i >= 0; i--) {
      const r = this.frames[i].role;
      if (r !== 'pass') return r;
    }
    return undefined;
  }

  open(tag: SaxesTagPlain, stack: readonly string[]): void {
    const name = tag.name;
    const a = tag.attributes as Record<string, string>;
    if (name === 'article' && !this.cur) {
      this.records++;
      this.cur = { title: '', abstract: [], body: [], articleType: a['article-type'] || undefined };
      if (this.opts.figures) this.cur.captions = [];
      if (this.opts.tables) this.cur.tables = [];
      if (this.opts.references) this.cur.references = [];
      this.frames = [{ name, role: 'pass' }];
      return;
    }
    const cur = this.cur;
    if (!cur) return;
    const up = this.inherited();
    const push = (role: Role, withBuf = false, attr?: string): void => {
      this.frames.push({ name, role, buf: withBuf ? [] : undefined, attr });
    };
    if (up === 'skip') return push('skip');
    // inside a text-collecting element: structure adds spaces, formulas/citations are filtered
    if (up && up !== 'pass') {
      if (SKIP_ALWAYS.has(name) || (name === 'xref' && a['ref-type'] === 'bibr') || name === 'fn') return push('skip');
      if (FORMULA.has(name)) {
        if (this.opts.formulas === 'placeholder') this.text(' [formula] ');
        return push('skip');
      }
      if ((FIGURE.has(name) || name === 'table-wrap') && up !== 'table' && up !== 'caption') return this.openFloat(name, push);
      if (SPACED.has(name)) this.text(' ');
      return push('pass');
    }
    if (name === 'front') this.zone = 'front';
    else if (name === 'body') {
      this.zone = 'body';
      this.secTitles = [];
      this.currentSection = undefined;
    } else if (name === 'back') this.zone = 'back';
    if (SKIP_ALWAYS.has(name) || (name === 'ref-list' && !this.opts.references)) return push('skip');
    if (name === 'abstract' || name === 'trans-abstract') {
      if (SKIP_ABSTRACT_TYPES.has(a['abstract-type'] ?? '') || this.zone !== 'front') return push('skip');
      this.zone = 'abstract';
      this.secTitles = [];
      this.currentSection = undefined;
      return push('pass');
    }
    if (this.zone === 'front') {
      const parent = stack[stack.length - 2];
      if (name === 'article-id') return push('id', true, a['pub-id-type']);
      if (name === 'article-title' && parent === 'title-group' && !cur.title) return push('title', true);
      if (name === 'journal-title' && !cur.journal) return push('journal', true);
      if (name === 'year' && parent === 'pub-date' && cur.year === undefined) return push('year', true);
      return push('pass');
    }
    if (this.zone === 'abstract' || this.zone === 'body') {
      if (FORMULA.has(name)) return push('skip');
      if (FIGURE.has(name) || name === 'table-wrap') return this.openFloat(name, push);
      if (name === 'sec') {
        this.secTitles.push(undefined);
        this.currentSection = undefined;
        return push('pass');
      }
      if (name === 'title' && stack[stack.length - 2] === 'sec') return push('sectitle', true);
      if (name === 'p') return push('para', true);
      return push('pass');
    }
    if (this.zone === 'back' && this.opts.references && name === 'ref') return push('ref', true);
    return push('pass');
  }

  private openFloat(name: string, push: (role: Role, withBuf?: boolean) => void): void {
    if (FIGURE.has(name)) {
      if (!this.opts.figures) return push('skip');
      return push('caption', true);
    }
    if (!this.opts.tables) return push('skip');
    return push('table', true);
  }

  text(t: string): void {
    for (let i = this.frames.length - 1; i >= 0; i--) {
      const f = this.frames[i];
      if (f.role === 'skip') return;
      if (f.buf) {
        f.buf.push(t);
        return;
      }
    }
  }

  private section(kind: 'abstract' | 'body'): JatsSection {
    const title = this.secTitles.filter((t): t is string => Boolean(t)).join(' / ');
    if (!this.currentSection || this.currentSection.title !== title) {
      this.currentSection = { title, paragraphs: [] };
      this.cur![kind].push(this.currentSection);
    }
    return this.currentSection;
  }

  close(name: string): void {
    const cur = this.cur;
    if (!cur) return;
    if (name === 'article' && this.frames.length === 1) {
      this.frames = [];
      this.zone = undefined;
      cur.abstract = cur.abstract.filter((s) => s.paragraphs.length);
      cur.body = cur.body.filter((s) => s.paragraphs.length);
      for (const k of ['pmcid', 'pmid', 'doi', 'journal', 'year', 'articleType'] as const) if (cur[k] === undefined) delete cur[k];
      this.done.push(cur);
      this.cur = undefined;
      return;
    }
    const f = this.frames.pop();
    if (!f) return;
    if (name === 'abstract' && this.zone === 'abstract' && f.role === 'pass') {
      this.zone = 'front';
      this.currentSection = undefined;
    }
    if (name === 'sec' && f.role === 'pass' && (this.zone === 'body' || this.zone === 'abstract')) {
      this.secTitles.pop();
      this.currentSection = undefined;
    }
    if (!f.buf) return;
    const text = tidy(f.buf.join(''));
    switch (f.role) {
      case 'id':
        if (f.attr === 'pmc' || f.attr === 'pmcid') cur.pmcid = text.replace(/^PMC/i, '');
        else if (f.attr === 'pmid') cur.pmid = text;
        else if (f.attr === 'doi') cur.doi = text;
        break;
      case 'title':
        cur.title = text;
        break;
      case 'journal':
        cur.journal = text;
        break;
      case 'year':
        if (/^\d{4}$/.test(text)) cur.year = Number(text);
        break;
      case 'sectitle':
        this.secTitles[this.secTitles.length - 1] = text;
        this.currentSection = undefined;
        break;
      case 'para':
        if (text) this.section(this.zone === 'abstract' ? 'abstract' : 'body').paragraphs.push(text);
        break;
      case 'caption':
        if (text) cur.captions?.push(text);
        break;
      case 'table':
        if (text) cur.tables?.push(text);
        break;
      case 'ref':
        if (text) cur.references?.push(text);
        break;
    }
  }
}

/** Whitespace collapsed; the gaps left by removed citations and formulas closed up. */
export function tidy(s: string): string {
  return squeeze(s)
    .replace(/[[(]\s*(?:[,;–-]\s*)*[\])]/g, '') // "[ , ]" left by citation markers
    .replace(/\s+([,.;:)\]])/g, '$1')
    .replace(/([([])\s+/g, '$1')
    .replace(/\s{2,}/g, ' ')
    .trim();
}

/**
 * Streams the articles of a JATS file: a single `<article>` (`.nxml`) or every article of a `pmc-articleset`
 * (EFetch `db=pmc`). Title, abstract and body come back as sections of paragraphs; figures, tables,
 * references and formulas follow `opts`.
 */
export async function* parseJats(src: TextSource, opts: JatsOptions = {}, name?: string): AsyncGenerator<PmcArticle> {
  const file = sourceName(src, name);
  try {
    yield* streamXmlRecords(src, file, new JatsHandler(opts));
  } catch (e) {
    if (e instanceof UserError && !e.file) throw new UserError(e.message, { file, record: e.record });
    throw e;
  }
}

/** The article as text blocks for a corpus: title, abstract paragraphs, body paragraphs (and chosen extras). */
export function articleBlocks(a: PmcArticle): string[] {
  const out: string[] = [];
  if (a.title) out.push(a.title);
  for (const s of a.abstract) out.push(...s.paragraphs);
  for (const s of a.body) out.push(...s.paragraphs);
  if (a.captions) out.push(...a.captions);
  if (a.tables) out.push(...a.tables);
  if (a.references) out.push(...a.references);
  return out;
}
