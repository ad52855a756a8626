// A study is a matrix of cells; a cell is one spec (a corpus build, a pre-training, an RE experiment, an
// attention analysis) whose key is a hash of everything that determines its result: its kind, its params,
// its dependencies' keys and the source code it runs. Equal specs in two tables are one cell.
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { UserError } from '@biore/runtime';

export type CellKind = 'corpus' | 'corpus-sample' | 'glove' | 'cse' | 'elmo' | 'bert-pretrain' | 're' | 'attention';

export type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

/** A reference inside params to a file or folder of a dependency's output: resolved only when the cell runs, so keys hold no paths. */
export interface DepRef {
  $dep: string;
  path?: string;
}

export interface CellDef {
  /** readable and unique within a matrix: 'pretrain/glove', 'hiai/chemprot/tags/glove+cse', … */
  id: string;
  kind: CellKind;
  params: { [k: string]: Json };
  /** dependency name (as used by DepRef) → cell id */
  deps: Record<string, string>;
}

export interface Matrix {
  cells: Map<string, CellDef>;
}

export function depRef(name: string, path?: string): Json {
  return path === undefined ? { $dep: name } : { $dep: name, path };
}

/** JSON with sorted keys: the text that is hashed. */
export function canonical(v: unknown): string {
  if (v === null || typeof v !== 'object') return JSON.stringify(v);
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  const o = v as Record<string, unknown>;
  return `{${Object.keys(o).filter((k) => o[k] !== undefined).sort().map((k) => `${JSON.stringify(k)}:${canonical(o[k])}`).join(',')}}`;
}

export const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

/** The workspace projects (their src folders) each cell kind runs, beside the studies app itself. */
const KIND_PROJECTS: Record<CellKind, string[]> = {
  corpus: ['apps/corpus'],
  'corpus-sample': ['libs/corpus'],
  glove: ['apps/glove'],
  cse: ['apps/cse-lm'],
  elmo: ['apps/elmo-lm'],
  'bert-pretrain': ['apps/re-bert'],
  re: ['libs/re-model'],
  attention: ['libs/re-model'],
};

/** The files of the studies app a kind's results depend on (the report and CLI do not change results). */
const KIND_STUDY_FILES: Record<CellKind, string[]> = {
  corpus: ['executors.ts'], 'corpus-sample': ['executors.ts'], glove: ['executors.ts'], cse: ['executors.ts'], elmo: ['executors.ts'],
  'bert-pretrain': ['executors.ts'], re: ['executors.ts', 're-cell.ts'], attention: ['executors.ts', 'attention.ts', 're-cell.ts'],
};

/**
 * Hashes the sources a cell kind runs: the src folders of its projects and of every workspace package they
 * depend on (their package.json `@biore/*` dependencies, transitively), so a changed library recomputes the
 * cells that use it and nothing else.
 */
export class CodeFingerprints {
  private readonly byKind = new Map<CellKind, string>();
  private readonly byPackage = new Map<string, string>();
  private readonly dirOf = new Map<string, string>();
  constructor(readonly root: string) {
    for (const group of ['libs', 'apps']) {
      const d = join(root, group);
      if (!existsSync(d)) continue;
      for (const p of readdirSync(d)) {
        const pj = join(d, p, 'package.json');
        if (existsSync(pj)) this.dirOf.set(JSON.parse(readFileSync(pj, 'utf8')).name, join(group, p));
      }
    }
  }

  private closure(projectDirs: string[]): string[] {
    const byDir = new Map([...this.dirOf].map(([n, d]) => [d, n]));
    const seen = new Set<string>();
    const visit = (dir: string) => {
      if (seen.has(dir)) return;
      seen.add(dir);
      const pj = join(this.root, dir, 'package.json');
      const deps = existsSync(pj) ? Object.keys(JSON.parse(readFileSync(pj, 'utf8')).dependencies ?? {}) : [];
      for (const d of deps) { const sub = this.dirOf.get(d); if (sub) visit(sub); }
    };
    for (const d of projectDirs) {
      if (!byDir.has(d)) throw new Error(`no workspace package in ${d}`);
      visit(d);
    }
    return [...seen].sort();
  }

  private packageHash(dir: string): string {
    let h = this.byPackage.get(dir);
    if (h) return h;
    const hash = createHash('sha256');
    const src = join(this.root, dir, 'src');
    const files: string[] = [];
    (function walk(d: string) {
      if (!existsSync(d)) return;
      for (const e of readdirSync(d).sort()) {
        const p = join(d, e);
        if (statSync(p).isDirectory()) walk(p);
        else files.push(p);
      }
    })(src);
    for (const f of files) hash.update(`${relative(this.root, f)}\n`).update(readFileSync(f));
    h = hash.digest('hex');
    this.byPackage.set(dir, h);
    return h;
  }

  /**
   * With BIORE_STUDY_CODE_SNAPSHOT=FILE the fingerprints are computed once, written to FILE, and read back by
   * every later process: a test of several study runs on a checkout that others edit meanwhile sees one code.
   */
  private snapshot(): Record<string, string> | undefined {
    const f = process.env.BIORE_STUDY_CODE_SNAPSHOT;
    if (!f) return undefined;
    if (existsSync(f)) return JSON.parse(readFileSync(f, 'utf8'));
    const all = Object.fromEntries((Object.keys(KIND_PROJECTS) as CellKind[]).map((k) => [k, this.compute(k)]));
    writeFileSync(f, JSON.stringify(all));
    return all;
  }

  of(kind: CellKind): string {
    let h = this.byKind.get(kind);
    if (h) return h;
    const snap = this.snapshot();
    if (snap?.[kind]) { this.byKind.set(kind, snap[kind]); return snap[kind]; }
    return this.compute(kind);
  }

  private compute(kind: CellKind): string {
    let h = this.byKind.get(kind);
    if (h) return h;
    const hash = createHash('sha256');
    for (const dir of this.closure(KIND_PROJECTS[kind])) hash.update(`${dir} ${this.packageHash(dir)}\n`);
    for (const f of KIND_STUDY_FILES[kind]) hash.update(f).update(readFileSync(join(this.root, 'apps/studies/src', f)));
    h = hash.digest('hex');
    this.byKind.set(kind, h);
    return h;
  }
}

/** Keys of every cell (16 hex digits of the hash), computed depth first; a dependency cycle or a missing cell is an error. */
export function cellKeys(matrix: Matrix, code: (kind: CellKind) => string): Map<string, string> {
  const keys = new Map<string, string>();
  const visiting = new Set<string>();
  const key = (id: string): string => {
    const k = keys.get(id);
    if (k) return k;
    const c = matrix.cells.get(id);
    if (!c) throw new UserError(`cell '${id}' is named as a dependency but is not in the matrix`);
    if (visiting.has(id)) throw new UserError(`cell '${id}' depends on itself`);
    visiting.add(id);
    const deps = Object.fromEntries(Object.entries(c.deps).map(([n, d]) => [n, key(d)]));
    const h = sha256(canonical({ kind: c.kind, params: c.params, deps, code: code(c.kind) })).slice(0, 16);
    visiting.delete(id);
    keys.set(id, h);
    return h;
  };
  for (const id of matrix.cells.keys()) key(id);
  return keys;
}

/** The cells `ids` need, dependencies first (a stable order: by id within each depth). */
export function closureInOrder(matrix: Matrix, ids: Iterable<string>): string[] {
  const out: string[] = [];
  const seen = new Set<string>();
  const visit = (id: string) => {
    if (seen.has(id)) return;
    seen.add(id);
    const c = matrix.cells.get(id);
    if (!c) throw new UserError(`unknown cell '${id}'`);
    for (const d of Object.values(c.deps).sort()) visit(d);
    out.push(id);
  };
  for (const id of [...ids].sort()) visit(id);
  return out;
}

/**
 * The disjoint share of shard `index` (1-based) of `count`: a cell belongs to the shard its key's first 8 hex
 * digits select, so every machine that runs the same matrix agrees without talking to the others.
 */
export function inShard(key: string, index: number, count: number): boolean {
  return parseInt(key.slice(0, 8), 16) % count === index - 1;
}

export function parseShard(s: string | undefined): { index: number; count: number } {
  if (s === undefined) return { index: 1, count: 1 };
  const m = /^(\d+)\/(\d+)$/.exec(s);
  const index = m ? Number(m[1]) : NaN, count = m ? Number(m[2]) : NaN;
  if (!m || count < 1 || index < 1 || index > count) throw new UserError(`--shard expects i/n with 1 ≤ i ≤ n (e.g. 1/2), got '${s}'`);
  return { index, count };
}

/** A cell-id glob (`re/chemprot/*`: `*` matches any run of characters, the rest literally) as an anchored RegExp. */
export function cellGlob(glob: string): RegExp {
  return new RegExp(`^${glob.split('*').map((p) => p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`);
}

/** `--set 'ID-GLOB:path.to.key=value'`: overrides one param of every cell whose id matches (JSON values, else strings). */
export function applyOverride(matrix: Matrix, set: string): string[] {
  const m = /^([^:]+):([^=]+)=(.*)$/.exec(set);
  if (!m) throw new UserError(`--set expects CELL-ID-GLOB:param.path=value, got '${set}'`);
  const [, glob, path, raw] = m;
  const re = cellGlob(glob);
  let value: Json;
  try { value = JSON.parse(raw); } catch { value = raw; }
  const hit: string[] = [];
  for (const c of matrix.cells.values()) {
    if (!re.test(c.id)) continue;
    const parts = path.split('.');
    let o: { [k: string]: Json } = c.params;
    for (const p of parts.slice(0, -1)) {
      if (typeof o[p] !== 'object' || o[p] === null || Array.isArray(o[p])) throw new UserError(`--set: cell '${c.id}' has no object param '${p}' on the way to '${path}'`);
      o = o[p] as { [k: string]: Json };
    }
    o[parts[parts.length - 1]] = value;
    hit.push(c.id);
  }
  if (hit.length === 0) throw new UserError(`--set: no cell id matches '${glob}' (nx run studies:list shows them)`);
  return hit;
}
