import { createWriteStream, existsSync, promises as fsp, readFileSync, renameSync, rmSync, writeFileSync, mkdirSync, type WriteStream } from 'node:fs';
import { dirname, basename, join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { UserError } from './errors.ts';

function tmpName(path: string): string {
  return join(dirname(path), `.${basename(path)}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`);
}

/** Writes a file under a temporary name and renames it into place, so readers never see half a file. */
export function writeFileAtomic(path: string, data: string | Uint8Array): void {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = tmpName(path);
  try {
    writeFileSync(tmp, data);
    renameSync(tmp, path);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  }
}

export function writeJsonAtomic(path: string, value: unknown): void {
  writeFileAtomic(path, JSON.stringify(value, null, 2) + '\n');
}

/**
 * A write stream to a temporary file; `commit()` renames it into place, `abort()` removes it.
 * For artifacts too large to build in memory.
 */
export interface AtomicWriter {
  readonly stream: WriteStream;
  readonly path: string;
  write(chunk: string | Uint8Array): Promise<void>;
  commit(): Promise<void>;
  abort(): void;
}

export function openAtomicWriter(path: string): AtomicWriter {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = tmpName(path);
  const stream = createWriteStream(tmp);
  let failed: Error | undefined;
  stream.on('error', (e) => { failed = e; });
  return {
    stream,
    path,
    write(chunk) {
      if (failed) return Promise.reject(failed);
      return new Promise((resolve, reject) => {
        if (stream.write(chunk)) resolve();
        else stream.once('drain', resolve).once('error', reject);
      });
    },
    async commit() {
      await new Promise<void>((resolve, reject) => stream.end((e?: Error | null) => (e ? reject(e) : resolve())));
      if (failed) throw failed;
      await fsp.rename(tmp, path);
    },
    abort() {
      stream.destroy();
      rmSync(tmp, { force: true });
    },
  };
}

/**
 * Replaces a whole directory atomically: `fill` writes into a fresh temporary directory,
 * which then takes the place of `dir` (the old one is removed only after the new one is complete).
 */
export function writeDirAtomic(dir: string, fill: (tmpDir: string) => void): void {
  mkdirSync(dirname(dir), { recursive: true });
  const tmp = tmpName(dir);
  mkdirSync(tmp, { recursive: true });
  try {
    fill(tmp);
  } catch (e) {
    rmSync(tmp, { recursive: true, force: true });
    throw e;
  }
  const old = existsSync(dir) ? tmpName(dir) + '-old' : undefined;
  if (old) renameSync(dir, old);
  renameSync(tmp, dir);
  if (old) rmSync(old, { recursive: true, force: true });
}

/** Reads and parses a JSON file; a missing file or bad JSON is a UserError naming the file. */
export function readJson<T = unknown>(path: string, what = 'JSON file'): T {
  if (!existsSync(path)) throw new UserError(`${what} not found`, { file: path });
  const text = readFileSync(path, 'utf8');
  try {
    return JSON.parse(text) as T;
  } catch (e) {
    throw new UserError(`malformed JSON (${(e as Error).message})`, { file: path });
  }
}

export function requireFile(path: string, what = 'file'): string {
  if (!existsSync(path)) throw new UserError(`${what} not found`, { file: path });
  return path;
}
