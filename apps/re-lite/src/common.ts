import { Rng, UserError, backendChoice, findData, initBackend, type BackendReport } from '@biore/runtime';
import { datasetInfo, loadDataset, type RelationInstance } from '@biore/re-data';

export async function startup(flags: { backend?: string; data?: string }, dataset: string): Promise<BackendReport> {
  const report = await initBackend(backendChoice(flags.backend));
  const root = findData(dataset === 'chemprot' ? 'chemprot' : dataset === 'ddi' ? 'ddi' : dataset, flags.data).root;
  process.stderr.write(`backend: ${report.backend} (${report.package}${report.simd !== undefined ? `, simd ${report.simd}` : ''}); data root: ${root.root} (${root.source})\n`);
  return report;
}

/** Training, dev and test instances of a dataset; for the cross-validated ones (gad, aimed) dev is 10% of the fold's training documents. */
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

export function requireDataset(name: string): string {
  if (!['chemprot', 'ddi', 'gad', 'aimed'].includes(name)) throw new UserError(`unknown dataset '${name}': expected chemprot, ddi, gad or aimed`);
  return name;
}
