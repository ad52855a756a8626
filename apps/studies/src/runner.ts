// Runs a shard of a study's cells through the cell cache: a cell whose result.json exists is skipped, the
// dependencies of a cell are ensured first (computed here, or awaited if another process holds their lock),
// and a cell's result is committed only when it finished. Killing the process loses at most the cell it was in.
import { hostname } from 'node:os';
import type { CellCache, CellRecord } from './cache.ts';
import { closureInOrder, inShard, type CellDef, type DepRef, type Json, type Matrix } from './cells.ts';
import type { CellContext, Executor } from './executors.ts';
import { join } from 'node:path';

export interface RunOptions {
  matrix: Matrix;
  keys: Map<string, string>;
  cache: CellCache;
  /** the cells wanted (their dependencies come along) */
  targets: Iterable<string>;
  shard: { index: number; count: number };
  executors: Record<string, Executor>;
  log?: (line: Record<string, unknown>) => void;
  /** stop after this many computed cells (tests of resumption); 0: no limit */
  maxCells?: number;
}

export interface RunSummary {
  /** the cells this shard owns */
  owned: string[];
  /** cells computed by this process (owned ones and dependencies it needed first) */
  computed: string[];
  /** owned cells whose result was already in the cache */
  cached: string[];
  /** cells that failed (their error) or could not run because a dependency failed */
  failed: Record<string, string>;
  seconds: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function resolveRefs(v: Json, dep: (name: string) => string): Json {
  if (v === null || typeof v !== 'object') return v;
  if (Array.isArray(v)) return v.map((x) => resolveRefs(x, dep));
  if (typeof (v as unknown as DepRef).$dep === 'string') {
    const r = v as unknown as DepRef;
    return r.path ? join(dep(r.$dep), r.path) : dep(r.$dep);
  }
  return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, resolveRefs(x, dep)]));
}

/** The cells shard `index` of `count` owns among those `targets` need. */
export function shardCells(matrix: Matrix, keys: Map<string, string>, targets: Iterable<string>, shard: { index: number; count: number }): string[] {
  return closureInOrder(matrix, targets).filter((id) => inShard(keys.get(id)!, shard.index, shard.count));
}

export async function runCells(o: RunOptions): Promise<RunSummary> {
  const t0 = performance.now();
  const log = o.log ?? (() => {});
  const owned = shardCells(o.matrix, o.keys, o.targets, o.shard);
  const computed: string[] = [], cached: string[] = [];
  const failed = new Map<string, string>();
  const shardName = `${o.shard.index}/${o.shard.count}`;
  const key = (id: string) => o.keys.get(id)!;

  /**
   * Computes the cell if it and its dependencies can be had now: 'busy' when one of them is being computed by
   * another process (the caller moves on to other cells and comes back), so shards never idle on a lock
   * while they own other work.
   */
  const attempt = async (id: string): Promise<'cached' | 'computed' | 'busy' | 'failed'> => {
    const k = key(id);
    if (o.cache.has(k)) return 'cached';
    if (failed.has(id)) return 'failed';
    const cell = o.matrix.cells.get(id)!;
    for (const d of Object.values(cell.deps)) {
      const r = await attempt(d);
      if (r === 'busy' || r === 'failed') return r;
    }
    if (!o.cache.tryLock(k)) return o.cache.has(k) ? 'cached' : 'busy';
    const beat = setInterval(() => o.cache.touch(k), 5000);
    beat.unref();
    try {
      if (o.cache.has(k)) return 'cached';
      if (o.maxCells && computed.length >= o.maxCells) throw new StopRun();
      const depKeys = Object.fromEntries(Object.entries(cell.deps).map(([n, d]) => [n, key(d)]));
      o.cache.prepare(k, cell, depKeys);
      const depRecord = (name: string): CellRecord => {
        const r = o.cache.record(depKeys[name]);
        if (!r) throw new Error(`cell '${id}': dependency '${name}' has no result`);
        return r;
      };
      const ctx: CellContext = {
        out: o.cache.out(k), dir: o.cache.dir(k),
        params: resolveRefs(cell.params, (n) => o.cache.out(depKeys[n] ?? (() => { throw new Error(`cell '${id}' refers to dependency '${n}' it does not declare`); })())) as CellDef['params'],
        dep: (name) => { const r = depRecord(name); return { out: o.cache.out(depKeys[name]), result: r.result, params: r.params }; },
      };
      const exec = o.executors[cell.kind];
      if (!exec) throw new Error(`no executor for cells of kind '${cell.kind}'`);
      log({ event: 'start', cell: id, key: k, kind: cell.kind, shard: shardName });
      const c0 = performance.now();
      let result: Record<string, unknown>;
      try {
        result = await exec(cell, ctx);
      } catch (e) {
        // one broken cell must not cost the rest of the study: it and the cells needing it are reported at the end
        failed.set(id, (e as Error).message);
        log({ event: 'failed', cell: id, key: k, error: (e as Error).message, shard: shardName });
        return 'failed';
      }
      const seconds = (performance.now() - c0) / 1000;
      o.cache.commit({ id, key: k, kind: cell.kind, params: cell.params, deps: depKeys, result, seconds, computedBy: { host: hostname(), pid: process.pid, shard: shardName }, finishedAt: new Date().toISOString() });
      computed.push(id);
      log({ event: 'done', cell: id, key: k, seconds: Number(seconds.toFixed(2)), shard: shardName });
      return 'computed';
    } finally {
      clearInterval(beat);
      o.cache.unlock(k);
    }
  };

  let pending = owned.slice();
  const fresh = new Set(owned.filter((id) => !o.cache.has(key(id))));
  for (const id of owned) if (!fresh.has(id)) cached.push(id);
  pending = pending.filter((id) => fresh.has(id));
  let waitingSince = 0;
  try {
    while (pending.length) {
      const busy: string[] = [];
      for (const id of pending) {
        const r = await attempt(id);
        if (r === 'busy') busy.push(id);
        else if (r === 'failed' && !failed.has(id)) failed.set(id, 'a dependency failed');
      }
      if (busy.length === pending.length) {
        if (!waitingSince) { waitingSince = performance.now(); log({ event: 'wait', cells: busy.length, shard: shardName }); }
        await sleep(500);
      } else waitingSince = 0;
      pending = busy;
    }
  } catch (e) {
    if (!(e instanceof StopRun)) throw e;
    log({ event: 'stopped', reason: 'max-cells', computed: computed.length });
  }
  return { owned, computed, cached, failed: Object.fromEntries(failed), seconds: (performance.now() - t0) / 1000 };
}

class StopRun extends Error {}
