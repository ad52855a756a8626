import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { UserError, openAtomicWriter, readJson, writeJsonAtomic, type AtomicWriter } from '@biore/runtime';

export interface ShardRecord {
  file: string;
  bytes: number;
  sha256: string;
  finishedAt: string;
  /** Whatever the producer reports (records, skipped records…). */
  info?: Record<string, unknown>;
}

export interface JobState {
  kind: string;
  params: Record<string, unknown>;
  createdAt: string;
  updatedAt: string;
  finished: boolean;
  shards: Record<string, ShardRecord>;
  /** Job-level facts a resumed run can reuse (e.g. the search count). */
  meta: Record<string, unknown>;
}

/** A writer for one shard that also hashes and counts what goes through it. */
export interface ShardWriter {
  write(chunk: string | Uint8Array): Promise<void>;
}

const STATE = 'job.json';

/**
 * A resumable download job: a folder holding one file per finished shard and `job.json`, the state file
 * listing them. A shard is written under a temporary name and renamed into place before it is recorded,
 * so a killed job leaves no partial file that looks finished; a restarted job skips recorded shards whose
 * file is intact, and removes temporary files left by a killed run.
 */
export class ShardJob {
  readonly state: JobState;
  readonly statePath: string;

  private constructor(readonly dir: string, state: JobState) {
    this.state = state;
    this.statePath = join(dir, STATE);
  }

  /**
   * Opens (or creates) the job in `dir`. A job folder made with other parameters is an error unless
   * `restart` is set, in which case its state is discarded.
   */
  static open(dir: string, kind: string, params: Record<string, unknown>, opts: { restart?: boolean } = {}): ShardJob {
    mkdirSync(dir, { recursive: true });
    removeTemporaries(dir);
    const path = join(dir, STATE);
    const now = new Date().toISOString();
    if (existsSync(path) && !opts.restart) {
      const st = readJson<JobState>(path, 'job state');
      if (st.kind !== kind || stableJson(st.params) !== stableJson(params)) {
        throw new UserError(
          `this folder holds a ${st.kind} job with other parameters (${stableJson(st.params)}); use another --out or pass --restart`,
          { file: path },
        );
      }
      const job = new ShardJob(dir, st);
      job.dropDamagedShards();
      return job;
    }
    const st: JobState = { kind, params, createdAt: now, updatedAt: now, finished: false, shards: {}, meta: {} };
    const job = new ShardJob(dir, st);
    job.save();
    return job;
  }

  isDone(name: string): boolean {
    return name in this.state.shards;
  }

  get doneCount(): number {
    return Object.keys(this.state.shards).length;
  }

  shardPath(name: string): string {
    return join(this.dir, name);
  }

  /**
   * Produces shard `name` unless it is already done. `produce` writes the shard's content through the writer
   * and may return info to record. Nothing is recorded, and no file is left, if it throws.
   * Returns false when the shard was skipped.
   */
  async shard(name: string, produce: (w: ShardWriter) => Promise<Record<string, unknown> | void>): Promise<boolean> {
    if (this.isDone(name)) return false;
    if (name.includes('/') || name.includes('\\') || name === STATE || name.startsWith('.')) {
      throw new Error(`bad shard name '${name}'`);
    }
    const path = this.shardPath(name);
    const aw: AtomicWriter = openAtomicWriter(path);
    const sha = createHash('sha256');
    let bytes = 0;
    try {
      const info = await produce({
        write: (chunk) => {
          const b = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
          sha.update(b);
          bytes += b.length;
          return aw.write(b);
        },
      });
      await aw.commit();
      this.record(name, { file: name, bytes, sha256: sha.digest('hex'), finishedAt: new Date().toISOString(), info: info ?? undefined });
      return true;
    } catch (e) {
      aw.abort();
      throw e;
    }
  }

  /**
   * Records a shard whose file another writer already put in place atomically (e.g. HttpClient.download).
   */
  record(name: string, rec: ShardRecord): void {
    this.state.shards[name] = rec;
    this.save();
  }

  setMeta(key: string, value: unknown): void {
    this.state.meta[key] = value;
    this.save();
  }

  finish(): void {
    this.state.finished = true;
    this.save();
  }

  private save(): void {
    this.state.updatedAt = new Date().toISOString();
    writeJsonAtomic(this.statePath, this.state);
  }

  /** A recorded shard whose file is missing or has another size is redone. */
  private dropDamagedShards(): void {
    let changed = false;
    for (const [name, rec] of Object.entries(this.state.shards)) {
      const p = join(this.dir, rec.file);
      if (!existsSync(p) || statSync(p).size !== rec.bytes) {
        delete this.state.shards[name];
        changed = true;
      }
    }
    if (changed) {
      this.state.finished = false;
      this.save();
    }
  }
}

/** Removes temporary files (`.name.tmp-…`) that a killed writer left, anywhere under `dir`. */
export function removeTemporaries(dir: string): number {
  let n = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.name.startsWith('.') && e.name.includes('.tmp-')) {
      rmSync(p, { recursive: true, force: true });
      n++;
    } else if (e.isDirectory()) n += removeTemporaries(p);
  }
  return n;
}

/** JSON with sorted keys, for comparing parameter sets. */
export function stableJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(stableJson).join(',')}]`;
  if (v && typeof v === 'object') {
    return `{${Object.keys(v as object).sort().filter((k) => (v as any)[k] !== undefined).map((k) => `${JSON.stringify(k)}:${stableJson((v as any)[k])}`).join(',')}}`;
  }
  return JSON.stringify(v);
}
