import { UserError } from '@biore/runtime';
import { DATASET_NAMES, datasetInfo, loadDataset, type RelationInstance } from '@biore/re-data';

/**
 * The key under which two sentences count as the same: NFKC, lower case, all whitespace removed. Removing
 * whitespace makes the key independent of tokenization, so a dataset's tokens joined and a corpus sentence
 * give the same key.
 */
export function sentenceKey(s: string): string {
  return s.normalize('NFKC').toLowerCase().replace(/\s+/g, '');
}

const PLACEHOLDER = /@(?:GENE|DISEASE|CHEMICAL|DRUG|PROTEIN)\$/g;
const HAS_PLACEHOLDER = /@(?:GENE|DISEASE|CHEMICAL|DRUG|PROTEIN)\$/;
const MIN_ANCHOR = 12;
const MAX_GAP = 120;

/**
 * A sentence with its entities replaced by placeholders (GAD ships only this form): it matches a corpus
 * sentence with the same text around the placeholders and a short entity mention in each gap.
 */
interface Template {
  parts: string[];
}

export interface GuardStats {
  datasets: string[];
  pmids: number;
  sentences: number;
  templates: number;
}

/**
 * The contamination guard: documents whose PMID belongs to an evaluation test set, and sentences equal
 * (by `sentenceKey`) to an evaluation test sentence, are kept out of pre-training corpora.
 */
export class ContaminationGuard {
  readonly pmids = new Set<string>();
  private readonly sentences = new Set<string>();
  private readonly byPrefix = new Map<string, Template[]>();
  private readonly bySuffix = new Map<string, Template[]>();
  private readonly loose: Template[] = [];
  private nTemplates = 0;
  readonly datasets: string[] = [];

  addPmid(pmid: string): void {
    this.pmids.add(pmid);
  }

  /** Adds a test sentence (raw text, or tokens joined); one with placeholders becomes a template. */
  addSentence(text: string): void {
    if (HAS_PLACEHOLDER.test(text)) {
      const parts = text.split(PLACEHOLDER).map(sentenceKey);
      this.addTemplate({ parts });
      return;
    }
    const k = sentenceKey(text);
    if (k) this.sentences.add(k);
  }

  private addTemplate(t: Template): void {
    this.nTemplates++;
    const first = t.parts[0];
    const last = t.parts[t.parts.length - 1];
    if (first.length >= MIN_ANCHOR) push(this.byPrefix, first.slice(0, MIN_ANCHOR), t);
    else if (last.length >= MIN_ANCHOR) push(this.bySuffix, last.slice(-MIN_ANCHOR), t);
    else this.loose.push(t);
  }

  hasPmid(pmid: string | undefined): boolean {
    return pmid !== undefined && this.pmids.has(pmid);
  }

  /** Whether a corpus sentence is (the key of) an evaluation test sentence. */
  matchesSentence(sentence: string): boolean {
    const k = sentenceKey(sentence);
    if (this.sentences.has(k)) return true;
    if (this.nTemplates === 0 || k.length < MIN_ANCHOR) return this.loose.some((t) => fits(t, k));
    const a = this.byPrefix.get(k.slice(0, MIN_ANCHOR));
    if (a?.some((t) => fits(t, k))) return true;
    const b = this.bySuffix.get(k.slice(-MIN_ANCHOR));
    if (b?.some((t) => fits(t, k))) return true;
    return this.loose.some((t) => fits(t, k));
  }

  stats(): GuardStats {
    return { datasets: [...this.datasets], pmids: this.pmids.size, sentences: this.sentences.size, templates: this.nTemplates };
  }
}

function push(m: Map<string, Template[]>, k: string, t: Template): void {
  const l = m.get(k);
  if (l) l.push(t);
  else m.set(k, [t]);
}

/** Whether key `k` is the template's parts in order with a non-empty gap of at most MAX_GAP between each. */
function fits(t: Template, k: string): boolean {
  const { parts } = t;
  if (!k.startsWith(parts[0]) || !k.endsWith(parts[parts.length - 1])) return false;
  let pos = parts[0].length;
  const end = k.length - parts[parts.length - 1].length;
  for (let i = 1; i < parts.length - 1; i++) {
    const at = k.indexOf(parts[i], pos + 1);
    if (at < 0 || at - pos > MAX_GAP || at > end) return false;
    pos = at + parts[i].length;
  }
  const gap = end - pos;
  return gap >= 1 && gap <= MAX_GAP;
}

/** The test sentences of instances (many instances share a sentence). */
function addInstances(g: ContaminationGuard, instances: RelationInstance[], pmids: boolean): void {
  const seen = new Set<string>();
  for (const inst of instances) {
    if (pmids && /^\d+$/.test(inst.docId)) g.addPmid(inst.docId);
    const text = inst.tokens.join(' ');
    if (seen.has(text)) continue;
    seen.add(text);
    g.addSentence(text);
  }
}

/**
 * Builds the guard from the RE evaluation sets through @biore/re-data: ChemProt test (PMIDs and sentences),
 * DDI test sentences, and for the cross-validated sets (AIMed, GAD) the test sentences of every fold, since
 * each of their sentences is a test sentence in some fold. `dataFlag` is the --data root of the datasets.
 */
export function loadEvaluationGuard(opts: { datasets?: readonly string[]; dataFlag?: string } = {}): ContaminationGuard {
  const g = new ContaminationGuard();
  for (const name of opts.datasets ?? DATASET_NAMES) {
    const info = datasetInfo(name);
    try {
      if (info.folds) {
        for (const fold of info.folds) addInstances(g, loadDataset(name, { split: 'test', fold, dataFlag: opts.dataFlag }), name === 'chemprot');
      } else {
        addInstances(g, loadDataset(name, { split: 'test', dataFlag: opts.dataFlag }), name === 'chemprot');
      }
    } catch (e) {
      if (!(e instanceof UserError)) throw e;
      throw new UserError(`${e.message} — the contamination guard reads the ${name} test set; pass --no-guard to build without it`);
    }
    g.datasets.push(name);
  }
  return g;
}
