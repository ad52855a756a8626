// The cell cache: <root>/cells/<key>/ holds a cell's outputs (out/), its log and, written last and atomically,
// result.json. A cell is done exactly when result.json exists, so a killed study redoes only the cell it was in.
// Several processes (shards on one machine, or machines sharing the folder) claim a cell with a lock folder.
import { existsSync, mkdirSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { writeJsonAtomic } from '@biore/runtime';
import type { CellDef } from './cells.ts';

export interface CellRecord {
  id: string;
  key: string;
  kind: string;
  params: unknown;
  deps: Record<string, string>;
  result: Record<string, unknown>;
  /** wall seconds the cell took where it was computed */
  seconds: number;
  computedBy: { host: string; pid: number; shard: string };
  finishedAt: string;
}

/** A lock whose holder has not touched it for this long is taken over (another machine died in the cell). */
const STALE_MS = 10 * 60 * 1000;

export class CellCache {
  constructor(readonly root: string) {
    mkdirSync(join(root, 'cells'), { recursive: true });
    mkdirSync(join(root, 'locks'), { recursive: true });
  }

  dir(key: string): string {
    return join(this.root, 'cells', key);
  }

  out(key: string): string {
    return join(this.dir(key), 'out');
  }

  record(key: string): CellRecord | undefined {
    const f = join(this.dir(key), 'result.json');
    if (!existsSync(f)) return undefined;
    return JSON.parse(readFileSync(f, 'utf8')) as CellRecord;
  }

  has(key: string): boolean {
    return existsSync(join(this.dir(key), 'result.json'));
  }

  /** Starts the cell afresh: any partial output of an interrupted attempt is removed. */
  prepare(key: string, cell: CellDef, depKeys: Record<string, string>): void {
    rmSync(this.dir(key), { recursive: true, force: true });
    mkdirSync(this.out(key), { recursive: true });
    writeFileSync(join(this.dir(key), 'cell.json'), JSON.stringify({ id: cell.id, key, kind: cell.kind, params: cell.params, deps: depKeys }, null, 2) + '\n');
  }

  commit(rec: CellRecord): void {
    writeJsonAtomic(join(this.dir(rec.key), 'result.json'), rec);
  }

  private lockDir(key: string): string {
    return join(this.root, 'locks', key);
  }

  /** Claims the cell; false when a live holder has it. A stale lock (dead pid on this host, or untouched for 10 min) is taken over. */
  tryLock(key: string): boolean {
    const d = this.lockDir(key);
    try {
      mkdirSync(d);
    } catch {
      if (!this.isStale(d)) return false;
      rmSync(d, { recursive: true, force: true });
      try { mkdirSync(d); } catch { return false; }
    }
    writeFileSync(join(d, 'owner.json'), JSON.stringify({ host: hostname(), pid: process.pid, at: new Date().toISOString() }) + '\n');
    return true;
  }

  touch(key: string): void {
    const d = this.lockDir(key);
    const now = new Date();
    try { utimesSync(d, now, now); } catch { /* released meanwhile */ }
  }

  unlock(key: string): void {
    rmSync(this.lockDir(key), { recursive: true, force: true });
  }

  private isStale(d: string): boolean {
    try {
      const owner = JSON.parse(readFileSync(join(d, 'owner.json'), 'utf8')) as { host: string; pid: number };
      if (owner.host === hostname()) {
        try { process.kill(owner.pid, 0); return false; } catch { return true; }
      }
    } catch {
      // owner.json not written yet: judge by age
    }
    try { return Date.now() - statSync(d).mtimeMs > STALE_MS; } catch { return false; }
  }
}
