import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { UserError } from './errors.ts';

/** The monorepo root (the folder holding nx.json). */
export const repoRoot: string = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

export type DataRootSource = 'flag' | 'env' | 'corpora' | 'shared';

export interface DataRoot {
  root: string;
  source: DataRootSource;
}

/** Candidate data roots in priority order: --data, BIORE_DATA, the repo's corpora/, ../shared/data. */
export function dataRoots(flag?: string): DataRoot[] {
  const roots: DataRoot[] = [];
  if (flag) roots.push({ root: resolve(flag), source: 'flag' });
  if (process.env.BIORE_DATA) roots.push({ root: resolve(process.env.BIORE_DATA), source: 'env' });
  roots.push({ root: join(repoRoot, 'corpora'), source: 'corpora' });
  roots.push({ root: resolve(repoRoot, '..', 'shared', 'data'), source: 'shared' });
  return roots;
}

/**
 * Finds `rel` (e.g. 'chemprot') under the first data root that has it. An explicit --data or
 * BIORE_DATA is authoritative: when given and it lacks `rel`, that is an error, not a fall-through.
 */
export function findData(rel: string, flag?: string): { path: string; root: DataRoot } {
  const roots = dataRoots(flag);
  for (const r of roots) {
    const p = join(r.root, rel);
    if (existsSync(p)) return { path: p, root: r };
    if (r.source === 'flag' || r.source === 'env') {
      throw new UserError(`dataset folder '${rel}' not found under the data root given by ${r.source === 'flag' ? '--data' : 'BIORE_DATA'}`, { file: p });
    }
  }
  throw new UserError(`dataset folder '${rel}' not found; looked in ${roots.map((r) => r.root).join(', ')} (set --data or BIORE_DATA)`);
}

/** Where trained artifacts go by default: <repo>/artifacts/<name>, or under BIORE_ARTIFACTS when set. */
export function artifactDir(name: string): string {
  return join(process.env.BIORE_ARTIFACTS ? resolve(process.env.BIORE_ARTIFACTS) : join(repoRoot, 'artifacts'), name);
}
