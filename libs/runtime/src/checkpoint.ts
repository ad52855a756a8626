import { existsSync, lstatSync, mkdirSync, readdirSync, readlinkSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, relative } from 'node:path';
import { randomBytes } from 'node:crypto';
import { UserError } from './errors.ts';
import { loadArtifact, writeArtifactFiles, type ArtifactContents } from './artifact.ts';
import type { TensorMap } from './safetensors.ts';

/** A checkpoint as read back: the artifact's parts and the folder it came from. */
export interface LoadedCheckpoint {
  dir: string;
  config: Record<string, unknown>;
  tensors: TensorMap;
  state: Record<string, unknown>;
}

const GENERATION = /^ckpt-(\d{9})$/;
const COMPLETE = 'COMPLETE';

/**
 * A run's checkpoints, written so that a kill at any instant leaves a complete one to resume from: each save
 * fills a fresh temporary folder, renames it to the next generation `ckpt-NNNNNNNNN` (one atomic rename that
 * replaces nothing), then points the checkpoint symlink at it and removes older generations. Reading picks
 * the newest complete generation, whatever the link says, and clears the leftovers of interrupted saves.
 *
 * `linkPath` is the checkpoint as users and tools see it (e.g. `<run>/checkpoint`): a relative symlink to the
 * newest generation, so a moved or copied run folder keeps it; `dir` holds the generations.
 */
export class CheckpointStore {
  readonly dir: string;
  constructor(readonly linkPath: string, dir?: string) {
    this.dir = dir ?? join(dirname(linkPath), `.${basename(linkPath)}.d`);
  }

  private generations(): { n: number; path: string }[] {
    if (!existsSync(this.dir)) return [];
    return readdirSync(this.dir)
      .map((name) => ({ m: GENERATION.exec(name), name }))
      .filter((x) => x.m)
      .map((x) => ({ n: Number(x.m![1]), path: join(this.dir, x.name) }))
      .sort((a, b) => b.n - a.n);
  }

  /** The newest complete checkpoint folder, or undefined when the run has none. */
  latest(): string | undefined {
    for (const g of this.generations()) if (existsSync(join(g.path, COMPLETE))) return g.path;
    const legacy = this.linkPath;
    // a plain folder `checkpoint/` (written before generations existed) still resumes
    if (existsSync(legacy) && !lstatSync(legacy).isSymbolicLink() && existsSync(join(legacy, 'state.json'))) return legacy;
    return undefined;
  }

  /** Reads the newest complete checkpoint; a corrupt one is a UserError naming its file. */
  load(): LoadedCheckpoint | undefined {
    const dir = this.latest();
    if (!dir) return undefined;
    const a = loadArtifact(dir);
    if (!a.state) throw new UserError('checkpoint has no state.json', { file: dir });
    return { dir, config: a.config, tensors: a.tensors, state: a.state };
  }

  /** Removes temporary folders left by saves that were killed, and generations older than the newest complete one. */
  clean(): void {
    if (!existsSync(this.dir)) return;
    for (const name of readdirSync(this.dir)) if (name.startsWith('.ckpt-tmp-')) rmSync(join(this.dir, name), { recursive: true, force: true });
    const parent = dirname(this.linkPath);
    if (existsSync(parent)) for (const name of readdirSync(parent)) if (name.startsWith(`.${basename(this.linkPath)}.link-tmp-`)) rmSync(join(parent, name), { force: true });
    const newest = this.latest();
    const keep = newest ? GENERATION.exec(basename(newest)) : null;
    if (keep) for (const g of this.generations()) if (g.n < Number(keep[1])) rmSync(g.path, { recursive: true, force: true });
  }

  /** Writes a new generation and makes it the one `latest()` returns. */
  save(contents: ArtifactContents): string {
    mkdirSync(this.dir, { recursive: true });
    const next = (this.generations()[0]?.n ?? 0) + 1;
    const tmp = join(this.dir, `.ckpt-tmp-${process.pid}-${randomBytes(4).toString('hex')}`);
    mkdirSync(tmp);
    try {
      writeArtifactFiles(tmp, contents);
      writeFileSync(join(tmp, COMPLETE), '');
    } catch (e) {
      rmSync(tmp, { recursive: true, force: true });
      throw e;
    }
    const gen = join(this.dir, `ckpt-${String(next).padStart(9, '0')}`);
    renameSync(tmp, gen);
    this.pointLink(relative(dirname(this.linkPath), gen));
    this.clean();
    return gen;
  }

  private pointLink(target: string): void {
    const link = this.linkPath;
    if (existsSync(link) && !lstatSync(link).isSymbolicLink()) rmSync(link, { recursive: true, force: true });
    const tmpLink = join(dirname(link), `.${basename(link)}.link-tmp-${process.pid}-${randomBytes(4).toString('hex')}`);
    try {
      symlinkSync(target, tmpLink);
      renameSync(tmpLink, link);
    } catch {
      // a file system without symlinks: latest() finds the generation by its name
      rmSync(tmpLink, { force: true });
    }
  }

  /** The generation the `checkpoint` link names (for messages); undefined when there is no link. */
  linked(): string | undefined {
    try { return readlinkSync(this.linkPath); } catch { return undefined; }
  }
}
