// One invocation's view of a study: the budget's matrix (with any --set overrides), the cell keys, the cache
// folder, and the cells the chosen tables need.
import { resolve } from 'node:path';
import { budget as budgetPreset } from './budgets.ts';
import { CellCache } from './cache.ts';
import { applyOverride, cellGlob, cellKeys, CodeFingerprints, parseShard } from './cells.ts';
import { REPO, executors } from './executors.ts';
import { UserError } from '@biore/runtime';
import { runCells, type RunSummary } from './runner.ts';
import { buildStudy, tableIds, type Study, type TableId } from './study.ts';

export interface SessionOptions {
  budget: string;
  /** comma-separated table ids, or 'all' */
  tables?: string;
  /** the cell cache; default artifacts/studies/<budget> */
  cache?: string;
  /** `ID-GLOB:param.path=value` overrides */
  set?: string[];
  /** comma-separated cell-id globs: only the chosen tables' cells that match one (and what they need) */
  cells?: string;
}

export interface Session {
  study: Study;
  keys: Map<string, string>;
  cache: CellCache;
  tables: TableId[];
  targets: string[];
  overridden: string[];
}

export function defaultCacheDir(budget: string): string {
  return resolve(REPO, 'artifacts', 'studies', budget);
}

export function openSession(o: SessionOptions): Session {
  const study = buildStudy(budgetPreset(o.budget));
  const overridden = (o.set ?? []).flatMap((s) => applyOverride(study.matrix, s));
  const code = new CodeFingerprints(REPO);
  const keys = cellKeys(study.matrix, (k) => code.of(k));
  const tables = tableIds(o.tables);
  let targets = [...new Set(study.tables.filter((t) => tables.includes(t.id)).flatMap((t) => t.cells))];
  if (o.cells) {
    const globs = o.cells.split(',').map((g) => cellGlob(g.trim()));
    targets = targets.filter((id) => globs.some((re) => re.test(id)));
    if (targets.length === 0) throw new UserError(`--cells: no cell of ${tables.join(', ')} matches '${o.cells}' (nx run studies:list shows them)`);
  }
  return { study, keys, cache: new CellCache(o.cache ? resolve(o.cache) : defaultCacheDir(o.budget)), tables, targets, overridden };
}

export async function runSession(s: Session, o: { shard?: string; maxCells?: number; log?: (l: Record<string, unknown>) => void }): Promise<RunSummary> {
  return runCells({
    matrix: s.study.matrix, keys: s.keys, cache: s.cache, targets: s.targets, shard: parseShard(o.shard), executors, log: o.log, maxCells: o.maxCells,
  });
}
