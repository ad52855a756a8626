import type { SaxesTagPlain } from 'saxes';
import { UserError } from '@biore/runtime';
import { squeeze, streamXmlRecords, sourceName, type TextSource, type XmlHandler } from './xml.ts';

export interface AbstractSection {
  /** The section label, e.g. `METHODS` (absent in unstructured abstracts). */
  label?: string;
  /** NLM's category for the label: BACKGROUND, OBJECTIVE, METHODS, RESULTS, CONCLUSIONS, UNASSIGNED. */
  category?: string;
  text: string;
}

/** One PubMed/MEDLINE citation: what a corpus needs of it. */
export interface PubmedDocument {
  pmid: string;
  title: string;
  /** The abstract as one text (sections joined by a space). Empty when the citation has none. */
  abstract: string;
  sections: AbstractSection[];
  year?: number;
  journal?: string;
}

// Elements whose text belongs to the record; everything else (authors, MeSH, references…) is skipped.
const RECORD = new Set(['MedlineCitation', 'BookDocument']);

class PubmedHandler implements XmlHandler<PubmedDocument> {
  private done: PubmedDocument[] = [];
  private cur: (PubmedDocument & { hasPmid: boolean }) | undefined;
  private buf: string[] | undefined;
  private target: 'pmid' | 'title' | 'section' | 'journal' | 'year' | 'medlinedate' | undefined;
  private section: AbstractSection | undefined;
  private bufDepth = 0;
  private records = 0;
  private lastPmid: string | undefined;

  where(): string | undefined {
    if (this.records === 0) return undefined;
    const pmid = this.cur?.pmid || undefined;
    return pmid ? `${this.records} (PMID ${pmid})` : this.lastPmid ? `${this.records} (after PMID ${this.lastPmid})` : String(this.records);
  }

  drain(): PubmedDocument[] {
    const d = this.done;
    this.done = [];
    return d;
  }

  private start(target: NonNullable<PubmedHandler['target']>, depth: number): void {
    this.target = target;
    this.buf = [];
    this.bufDepth = depth;
  }

  open(tag: SaxesTagPlain, stack: readonly string[]): void {
    const name = tag.name;
    if (RECORD.has(name)) {
      this.records++;
      this.cur = { pmid: '', title: '', abstract: '', sections: [], hasPmid: false };
      return;
    }
    if (!this.cur || this.buf) return;
    const parent = stack[stack.length - 2];
    const depth = stack.length;
    if (name === 'PMID' && RECORD.has(parent)) this.start('pmid', depth);
    else if ((name === 'ArticleTitle' && (parent === 'Article' || parent === 'BookDocument')) || (name === 'BookTitle' && parent === 'Book' && !this.cur.title)) {
      this.start('title', depth);
    } else if (name === 'AbstractText' && parent === 'Abstract') {
      const a = tag.attributes as Record<string, string>;
      this.section = { label: a.Label || undefined, category: a.NlmCategory || undefined, text: '' };
      this.start('section', depth);
    } else if (name === 'Title' && parent === 'Journal') this.start('journal', depth);
    else if (name === 'Year' && parent === 'PubDate' && (stack[stack.length - 3] === 'JournalIssue' || stack[stack.length - 3] === 'Book')) this.start('year', depth);
    else if (name === 'MedlineDate' && parent === 'PubDate') this.start('medlinedate', depth);
  }

  text(t: string): void {
    if (this.buf) this.buf.push(t);
  }

  close(name: string, stack: readonly string[]): void {
    const cur = this.cur;
    if (!cur) return;
    if (this.buf && stack.length + 1 === this.bufDepth) {
      const text = squeeze(this.buf.join(''));
      switch (this.target) {
        case 'pmid':
          cur.pmid = text;
          cur.hasPmid = true;
          break;
        case 'title':
          cur.title = text;
          break;
        case 'section':
          if (text) this.section!.text = text, cur.sections.push(this.section!);
          break;
        case 'journal':
          cur.journal = text;
          break;
        case 'year':
        case 'medlinedate': {
          const m = /\b(1[89]\d\d|20\d\d)\b/.exec(text);
          if (m && cur.year === undefined) cur.year = Number(m[1]);
          break;
        }
      }
      this.buf = undefined;
      this.target = undefined;
      return;
    }
    if (RECORD.has(name)) {
      if (!cur.hasPmid || !/^\d+$/.test(cur.pmid)) {
        throw new UserError(cur.hasPmid ? `PMID '${cur.pmid}' is not a number` : `${name} without a PMID`, { record: this.where() });
      }
      cur.abstract = cur.sections.map((s) => s.text).join(' ');
      const { hasPmid: _h, ...doc } = cur;
      if (doc.journal === undefined) delete doc.journal;
      if (doc.year === undefined) delete doc.year;
      this.done.push(doc);
      this.lastPmid = cur.pmid;
      this.cur = undefined;
    }
  }
}

/**
 * Streams the citations of a PubMed XML file (an EFetch `PubmedArticleSet`, a MEDLINE `MedlineCitationSet`,
 * or a baseline/update `pubmed*.xml.gz`): PMID, title, abstract with its labelled sections, year, journal.
 * `DeleteCitation` lists and book chapters without a PMID are not documents. Memory stays flat.
 */
export async function* parsePubmed(src: TextSource, name?: string): AsyncGenerator<PubmedDocument> {
  const file = sourceName(src, name);
  const handler = new PubmedHandler();
  try {
    yield* streamXmlRecords(src, file, handler);
  } catch (e) {
    if (e instanceof UserError && !e.file) throw new UserError(e.message.replace(/^record [^:]*: /, ''), { file, record: e.record });
    throw e;
  }
}
