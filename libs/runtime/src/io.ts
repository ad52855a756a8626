import { accessSync, closeSync, constants, openSync, createWriteStream, existsSync, promises as fsp, readFileSync, readdirSync, renameSync, rmSync, statSync, writeFileSync, mkdirSync, type WriteStream } from 'node:fs';
import { dirname, basename, join, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import { UserError } from './errors.ts';

function tmpName(path: string): string {
  return join(dirname(path), `.${basename(path)}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`);
}

const FAULTS: Record<string, string> = {
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EROFS: 'read-only file system',
  ENOSPC: 'no space left on the device',
  EDQUOT: 'disk quota exceeded',
  ENOENT: 'no such file or folder',
  ENOTDIR: 'a part of the path is a file, not a folder',
  EISDIR: 'is a folder, not a file',
  EEXIST: 'already exists',
  ENOTEMPTY: 'folder not empty',
  EMFILE: 'too many open files',
  ENAMETOOLONG: 'name too long',
  EXDEV: 'cannot rename across file systems',
  EBUSY: 'busy',
  EIO: 'input/output error',
};

const VERBS: Record<string, string> = {
  mkdir: 'cannot create the folder', open: 'cannot open', write: 'cannot write', rename: 'cannot rename into place',
  unlink: 'cannot remove', rmdir: 'cannot remove', rm: 'cannot remove', scandir: 'cannot list', read: 'cannot read',
  stat: 'cannot read', lstat: 'cannot read', copyfile: 'cannot copy', access: 'cannot use', close: 'cannot finish writing', fsync: 'cannot finish writing',
};

/** The nearest folder above `path` that exists. */
function existingAncestor(path: string): string {
  let d = resolve(path);
  while (!existsSync(d) && dirname(d) !== d) d = dirname(d);
  return d;
}

/**
 * A file-system error as one line naming the path and the fault (`cannot write out/x.json: no space left on the
 * device (ENOSPC)`), or undefined when `e` is not one. A missing folder on the way is told apart from a
 * read-only or unwritable one (mkdir on a read-only file system can report ENOENT for the deepest folder).
 */
export function fsFault(e: unknown, path?: string, writing = true): UserError | undefined {
  if (e instanceof UserError) return e;
  const err = e as NodeJS.ErrnoException & { dest?: string };
  const code = err?.code;
  if (!code || !FAULTS[code]) return undefined;
  const p = path ?? err.path ?? err.dest;
  if (!p) return undefined;
  const verb = VERBS[err.syscall ?? ''] ?? (writing ? 'cannot write' : 'cannot read');
  if (code === 'ENOENT' && writing) {
    const up = existingAncestor(dirname(p));
    try {
      accessSync(up, constants.W_OK);
    } catch (a) {
      const ac = (a as NodeJS.ErrnoException).code ?? 'EACCES';
      return new UserError(`${verb} ${p}: ${up} is ${ac === 'EROFS' ? 'on a read-only file system' : 'not writable'} (${ac})`, { cause: e });
    }
    if (!existsSync(dirname(p))) return new UserError(`${verb} ${p}: its folder ${dirname(p)} does not exist (ENOENT)`, { cause: e });
  }
  return new UserError(`${verb} ${p}: ${FAULTS[code]} (${code})`, { cause: e });
}

/** Runs `f`, turning a file-system fault into a one-line UserError naming `path`. */
export function withFsFault<T>(path: string, f: () => T, writing = true): T {
  try {
    return f();
  } catch (e) {
    throw fsFault(e, path, writing) ?? e;
  }
}

/**
 * Creates a folder (and its parents) and checks this process can write into it, before any work is done: an
 * unwritable, read-only or misplaced `--out` is a one-line error at once, not after an hour of training.
 */
export function ensureWritableDir(dir: string): string {
  withFsFault(dir, () => mkdirSync(dir, { recursive: true }));
  const probe = tmpName(join(dir, 'write-probe'));
  withFsFault(dir, () => { closeSync(openSync(probe, 'w')); rmSync(probe, { force: true }); });
  return dir;
}

/** Writes a file under a temporary name and renames it into place, so readers never see half a file. */
export function writeFileAtomic(path: string, data: string | Uint8Array): void {
  withFsFault(path, () => mkdirSync(dirname(path), { recursive: true }));
  const tmp = tmpName(path);
  try {
    writeFileSync(tmp, data);
    renameSync(tmp, path);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw fsFault(e, path) ?? e;
  }
}

export function writeJsonAtomic(path: string, value: unknown): void {
  writeFileAtomic(path, JSON.stringify(value, null, 2) + '\n');
}

/**
 * A write stream to a temporary file; `commit()` renames it into place, `abort()` removes it.
 * For artifacts too large to build in memory. A fault (unwritable folder, full disk) is a one-line
 * UserError naming the path, and the temporary file is removed.
 */
export interface AtomicWriter {
  readonly stream: WriteStream;
  readonly path: string;
  write(chunk: string | Uint8Array): Promise<void>;
  commit(): Promise<void>;
  abort(): void;
}

export function openAtomicWriter(path: string): AtomicWriter {
  withFsFault(path, () => mkdirSync(dirname(path), { recursive: true }));
  const tmp = tmpName(path);
  // opened here, so an unwritable folder fails now rather than in a later 'error' event
  const fd = withFsFault(path, () => openSync(tmp, 'w'));
  const stream = createWriteStream(tmp, { fd });
  let failed: Error | undefined;
  const fail = (e: unknown): Error => {
    failed ??= fsFault(e, path) ?? (e as Error);
    stream.destroy();
    rmSync(tmp, { force: true });
    return failed;
  };
  stream.on('error', (e) => { fail(e); });
  return {
    stream,
    path,
    write(chunk) {
      if (failed) return Promise.reject(failed);
      return new Promise((resolve, reject) => {
        if (stream.write(chunk)) { resolve(); return; }
        const onError = (e: Error) => { stream.off('drain', onDrain); reject(fail(e)); };
        const onDrain = () => { stream.off('error', onError); resolve(); };
        stream.once('drain', onDrain).once('error', onError);
      });
    },
    async commit() {
      if (failed) throw failed;
      try {
        await new Promise<void>((resolve, reject) => stream.end((e?: Error | null) => (e ? reject(e) : resolve())));
        if (failed) throw failed;
        await fsp.rename(tmp, path);
      } catch (e) {
        throw fail(e);
      }
    },
    abort() {
      stream.destroy();
      rmSync(tmp, { force: true });
    },
  };
}

/** JSON lines out: to a file written atomically (nothing left behind on failure), or to stdout when no path is given. */
export interface JsonlOutput {
  write(record: unknown): Promise<void>;
  commit(): Promise<void>;
  abort(): void;
}

export function openJsonlOutput(path?: string): JsonlOutput {
  if (!path) {
    return {
      write: (r) => new Promise((res) => { if (process.stdout.write(JSON.stringify(r) + '\n')) res(); else process.stdout.once('drain', () => res()); }),
      commit: async () => {},
      abort: () => {},
    };
  }
  const w = openAtomicWriter(path);
  return { write: (r) => w.write(JSON.stringify(r) + '\n'), commit: () => w.commit(), abort: () => w.abort() };
}

/** The lines of a text file, without line ends (a final empty line dropped); a missing file is a UserError. */
export function readTextLines(path: string, what = 'input file'): string[] {
  if (!existsSync(path)) throw new UserError(`${what} not found`, { file: path });
  const lines = withFsFault(path, () => readFileSync(path, 'utf8'), false).split('\n').map((l) => l.replace(/\r$/, ''));
  if (lines[lines.length - 1] === '') lines.pop();
  return lines;
}

/**
 * Runs `records` over `items` a batch at a time and writes what it returns, one JSON line each, to `out`
 * (committed at the end, removed on failure), ticking `progress` per item.
 */
export async function writeJsonlInBatches<T>(
  items: readonly T[], batch: number, out: JsonlOutput, progress: { tick(n: number): void; end(): void },
  records: (batch: T[], start: number) => unknown[],
): Promise<void> {
  try {
    for (let i = 0; i < items.length; i += batch) {
      const part = items.slice(i, i + batch);
      for (const r of records(part, i)) await out.write(r);
      progress.tick(part.length);
    }
    await out.commit();
  } catch (e) {
    out.abort();
    throw e;
  }
  progress.end();
}

/**
 * Replaces a whole directory: `fill` writes into a fresh temporary directory, the old one is renamed aside,
 * the new one into place, and the old one removed. A kill between the two renames leaves only the aside
 * copy; `recoverDir` (run by the next write and by loadArtifact) renames it back, so the folder is never lost.
 */
export function writeDirAtomic(dir: string, fill: (tmpDir: string) => void): void {
  mkdirSync(dirname(dir), { recursive: true });
  recoverDir(dir);
  const tmp = tmpName(dir);
  mkdirSync(tmp, { recursive: true });
  try {
    fill(tmp);
  } catch (e) {
    rmSync(tmp, { recursive: true, force: true });
    throw e;
  }
  const old = existsSync(dir) ? asideName(dir) : undefined;
  if (old) renameSync(dir, old);
  renameSync(tmp, dir);
  if (old) rmSync(old, { recursive: true, force: true });
}

function processAlive(pid: number): boolean {
  try { process.kill(pid, 0); return true; } catch (e) { return (e as NodeJS.ErrnoException).code === 'EPERM'; }
}

function asideName(dir: string): string {
  return join(dirname(dir), `.${basename(dir)}.aside-${process.pid}-${randomBytes(4).toString('hex')}`);
}

/**
 * Repairs what a killed writeDirAtomic can leave: with `dir` missing, its newest aside copy is renamed back;
 * with `dir` present, leftover aside copies are removed.
 */
export function recoverDir(dir: string): void {
  const parent = dirname(dir);
  if (!existsSync(parent)) return;
  const prefix = `.${basename(dir)}.aside-`;
  const names = readdirSync(parent);
  // the temporary folder of a write whose process died is removed; a live writer's is left alone
  for (const n of names) {
    const pid = new RegExp(`^\\.${basename(dir).replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\.tmp-(\\d+)-`).exec(n)?.[1];
    if (pid && Number(pid) !== process.pid && !processAlive(Number(pid))) rmSync(join(parent, n), { recursive: true, force: true });
  }
  const asides = names.filter((n) => n.startsWith(prefix)).map((n) => join(parent, n));
  if (asides.length === 0) return;
  if (!existsSync(dir)) {
    asides.sort((a, b) => statSync(b).mtimeMs - statSync(a).mtimeMs);
    renameSync(asides.shift()!, dir);
  }
  for (const a of asides) rmSync(a, { recursive: true, force: true });
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
