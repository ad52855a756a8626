import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { Rng, UserError, backendChoice, findData, initBackend, type BackendReport } from '@biore/runtime';
import { DEFAULT_PRESET, corpusDir, openCorpus } from '@biore/corpus';
import { datasetInfo, loadDataset, type RelationInstance } from '@biore/re-data';

/** Starts the tfjs backend and prints it, with the data root a dataset is read from when one is given. */
export async function startBackend(flag?: string, dataset?: { name: string; dataFlag?: string }): Promise<BackendReport> {
  const report = await initBackend(backendChoice(flag));
  const root = dataset ? findData(dataset.name === 'ddi' ? 'ddi' : dataset.name, dataset.dataFlag).root : undefined;
  process.stderr.write(`backend: ${report.backend} (${report.package}${report.simd !== undefined ? `, simd ${report.simd}, threads ${report.threads}` : ''})` +
    (root ? `; data root: ${root.root} (${root.source})` : '') + '\n');
  return report;
}

/**
 * The pre-training text: a corpus folder or manifest from corpus:build (its train files), a plain text file
 * (one sentence or document a line); by default the corpus `nx run corpus:build` writes
 * (artifacts/corpus/local-all) when it exists, else the PubMed sample of the data root.
 */
export function corpusLines(corpus: string | undefined, dataFlag?: string, maxLines = 0): { lines: string[]; source: string } {
  let files: string[];
  let source: string;
  if (!corpus && existsSync(join(corpusDir(DEFAULT_PRESET), 'manifest.json'))) corpus = corpusDir(DEFAULT_PRESET);
  if (!corpus) {
    const found = findData('text/pubmed/PubMedAbstract_1MB.txt', dataFlag);
    files = [found.path];
    source = `${found.path} (data root ${found.root.root}, ${found.root.source})`;
  } else if (!existsSync(corpus)) {
    throw new UserError('corpus not found (expected a corpus:build folder, its manifest.json, or a text file)', { file: corpus });
  } else if (statSync(corpus).isDirectory() || corpus.endsWith('manifest.json')) {
    files = openCorpus(corpus).trainFiles;
    source = `${corpus} (${files.length} train files)`;
  } else {
    files = [corpus];
    source = corpus;
  }
  const lines: string[] = [];
  for (const f of files) {
    for (const l of readFileSync(f, 'utf8').split('\n')) {
      if (l.trim()) lines.push(l);
      if (maxLines > 0 && lines.length >= maxLines) return { lines, source };
    }
  }
  if (lines.length === 0) throw new UserError('the corpus has no text', { file: files[0] });
  return { lines, source };
}

export function requireDataset(name: string): string {
  if (!['chemprot', 'ddi', 'gad', 'aimed'].includes(name)) throw new UserError(`unknown dataset '${name}': expected chemprot, ddi, gad or aimed`);
  return name;
}

/** Training, dev and test instances; for the cross-validated datasets (gad, aimed) dev is 10% of the fold's training documents. */
export function splits(dataset: string, opts: { fold?: number; data?: string; seed: number }) {
  const info = datasetInfo(dataset as any);
  const load = (split: string) => loadDataset(dataset as any, { split, fold: opts.fold, dataFlag: opts.data });
  let train: RelationInstance[], dev: RelationInstance[];
  if (dataset === 'gad' || dataset === 'aimed') {
    const all = load('train');
    const docs = [...new Set(all.map((i) => i.docId))];
    new Rng(opts.seed).shuffle(docs);
    const devDocs = new Set(docs.slice(0, Math.max(1, Math.round(docs.length / 10))));
    train = all.filter((i) => !devDocs.has(i.docId));
    dev = all.filter((i) => devDocs.has(i.docId));
  } else {
    train = load('train');
    dev = load('dev');
  }
  return { info, train, dev, test: () => load('test') };
}

export function subset<T>(xs: T[], n: number | undefined, seed: number): T[] {
  if (!n || n >= xs.length) return xs;
  return new Rng(seed + 17).shuffle(xs.slice()).slice(0, n);
}

export function numFlag(v: string | boolean | undefined, name: string, dflt: number): number {
  if (v === undefined || typeof v === 'boolean') return dflt;
  const n = Number(v);
  if (!Number.isFinite(n)) throw new UserError(`--${name} expects a number, got '${v}'`);
  return n;
}
