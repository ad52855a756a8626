import { closeSync, existsSync, mkdirSync, openSync, readFileSync, readdirSync, rmSync, writeSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { UserError } from './errors.ts';
import { readJson, writeJsonAtomic } from './io.ts';

/** JSON with object keys sorted at every level, so equal settings give equal text whatever their key order. */
export function canonicalJson(v: unknown): string {
  return JSON.stringify(v, (_k, x) => (x && typeof x === 'object' && !Array.isArray(x) ? Object.fromEntries(Object.entries(x).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) : x));
}

/** A short content hash of a spec's canonical JSON: the run id's suffix. */
export function specHash(spec: unknown, length = 10): string {
  return createHash('sha256').update(canonicalJson(spec)).digest('hex').slice(0, length);
}

/** The dotted paths at which two JSON values differ (`model.hidden`, `budget.batch`), sorted. */
export function diffKeys(a: unknown, b: unknown, prefix = ''): string[] {
  const isObj = (x: unknown): x is Record<string, unknown> => !!x && typeof x === 'object' && !Array.isArray(x);
  if (isObj(a) && isObj(b)) {
    const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
    return keys.flatMap((k) => diffKeys(a[k], b[k], prefix ? `${prefix}.${k}` : k));
  }
  return canonicalJson(a) === canonicalJson(b) ? [] : [prefix || '(root)'];
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export const LOCK_FILE = 'run.lock';

/**
 * Takes a run folder's lock: `run.lock` is created exclusively with this process's pid; a lock held by a live
 * process on this host is a one-line error naming its pid; a stale lock (its pid is gone) is taken over.
 * The lock is released when the process exits.
 */
export function lockRun(dir: string): () => void {
  mkdirSync(dir, { recursive: true });
  const path = join(dir, LOCK_FILE);
  const me = { pid: process.pid, host: hostname(), started: new Date().toISOString() };
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const fd = openSync(path, 'wx');
      writeSync(fd, JSON.stringify(me) + '\n');
      closeSync(fd);
      const release = () => {
        try {
          const held = JSON.parse(readFileSync(path, 'utf8'));
          if (held.pid === me.pid && held.host === me.host) rmSync(path, { force: true });
        } catch { /* already gone */ }
      };
      process.once('exit', release);
      return () => { process.off('exit', release); release(); };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      let held: { pid?: number; host?: string; started?: string } = {};
      try { held = JSON.parse(readFileSync(path, 'utf8')); } catch { /* a half-written lock: stale */ }
      if (typeof held.pid === 'number' && (held.host !== me.host || alive(held.pid)) && held.pid !== me.pid) {
        throw new UserError(`run folder is in use by pid ${held.pid}${held.host !== me.host ? ` on ${held.host}` : ''} (since ${held.started}); wait for it or stop it`, { file: dir });
      }
      rmSync(path, { force: true }); // stale: its process is gone
    }
  }
  throw new UserError('could not take the run lock', { file: path });
}

export const SPEC_FILE = 'spec.json';

export interface RunFolder {
  dir: string;
  runId: string;
  /** true when the folder held this spec's run before (its checkpoints may be resumed) */
  existed: boolean;
  release(): void;
}

/**
 * Opens the folder of a run whose identity is `spec` (its canonical JSON): writes `spec.json` into a new folder;
 * refuses a folder that holds another spec's run (one line naming the differing keys) unless `force`, which
 * clears it (and starts over); takes the folder's lock. `ignore` names keys that may change between a run and
 * its resume (time budgets, say): they are left out of the comparison.
 */
export function openRunFolder(dir: string, spec: Record<string, unknown>, o: { runId: string; force?: boolean; ignore?: (key: string) => boolean }): RunFolder {
  const release = lockRun(dir);
  try {
    const specPath = join(dir, SPEC_FILE);
    let existed = false;
    if (existsSync(specPath)) {
      const held = readJson<{ runId?: string; spec?: Record<string, unknown> }>(specPath, SPEC_FILE);
      const diff = diffKeys(held.spec, spec).filter((k) => !o.ignore?.(k));
      if (diff.length && !o.force) {
        throw new UserError(`holds another run (${held.runId ?? 'unknown id'}), whose spec differs in ${diff.join(', ')}; choose another --out, or --force to replace it`, { file: dir });
      }
      existed = diff.length === 0;
    } else if (readdirSync(dir).some((n) => n !== LOCK_FILE && !n.startsWith('.')) && !o.force) {
      throw new UserError('is not empty and holds no spec.json: not a run folder of this kind; choose another --out, or --force to use it', { file: dir });
    }
    if (o.force) {
      // --force starts the run over: nothing of an earlier run in this folder survives
      for (const n of readdirSync(dir)) if (n !== LOCK_FILE) rmSync(join(dir, n), { recursive: true, force: true });
      existed = false;
    }
    writeJsonAtomic(specPath, { runId: o.runId, spec });
    return { dir, runId: o.runId, existed, release };
  } catch (e) {
    release();
    throw e;
  }
}
