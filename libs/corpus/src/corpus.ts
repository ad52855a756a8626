import { existsSync, readdirSync, statSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { UserError, artifactDir, findData, readJson, repoRoot, type DataRoot } from '@biore/runtime';
import { buildCorpus, CORPUS_FORMAT, MANIFEST, type BuildOptions, type CorpusManifest } from './build.ts';
import { checkSourceName, SOURCE_NAMES, type SourceName, type SourceSpec } from './sources.ts';
import { loadEvaluationGuard, type ContaminationGuard } from './guard.ts';
import type { JatsOptions } from './pmc.ts';

/** A combination of sources (a row of Hiai et al.'s Table 4), as stored in `corpora/presets/<name>.json`. */
export interface CorpusPreset {
  name: string;
  description?: string;
  sources: SourceName[];
  /** Build options the preset fixes (fractions, split size, JATS extras…). */
  options?: Partial<Pick<BuildOptions, 'validFraction' | 'testFraction' | 'splitBytes' | 'minTokens' | 'maxChars' | 'dedupe' | 'seed' | 'jats'>>;
}

export const PRESETS_DIR = join(repoRoot, 'corpora', 'presets');
/** Table 4's four combinations, in the paper's order. */
export const TABLE4_PRESETS = ['pubmed', 'pubmed+chemrxiv', 'pubmed+pmc', 'pubmed+pmc+chemrxiv'] as const;
/** The default corpus: every local source, built once into artifacts/corpus/local-all. */
export const DEFAULT_PRESET = 'pubmed+pmc+chemrxiv';

/** Loads a preset by name (from corpora/presets) or by path to a JSON file. */
export function loadPreset(nameOrPath: string): CorpusPreset {
  const path = nameOrPath.endsWith('.json') ? resolve(nameOrPath) : join(PRESETS_DIR, `${nameOrPath}.json`);
  if (!existsSync(path)) {
    const known = existsSync(PRESETS_DIR) ? readdirSync(PRESETS_DIR).filter((f) => f.endsWith('.json')).map((f) => f.slice(0, -5)) : [];
    throw new UserError(`no corpus preset '${nameOrPath}' (known: ${known.join(', ') || 'none'})`, { file: path });
  }
  const p = readJson<CorpusPreset>(path, 'corpus preset');
  if (typeof p.name !== 'string' || !Array.isArray(p.sources) || p.sources.length === 0) {
    throw new UserError('a preset needs a name and a non-empty list of sources', { file: path });
  }
  for (const s of p.sources) checkSourceName(String(s));
  return p;
}

/** Where a source is read from: `local` = `text/<source>` under the data root; `downloads` = corpora/downloads/<source>. */
export type SourceOrigin = 'local' | 'downloads';

export const DOWNLOADS_DIR = join(repoRoot, 'corpora', 'downloads');

/** The folder a download of `source` lands in by default. */
export function defaultDownloadDir(source: SourceName): string {
  return join(DOWNLOADS_DIR, source);
}

/** Resolves the folder of each source; `dirs` overrides single sources (`--pubmed-dir` …). */
export function resolveSources(
  names: readonly string[],
  origin: SourceOrigin,
  opts: { dataFlag?: string; dirs?: Partial<Record<SourceName, string>> } = {},
): { specs: SourceSpec[]; roots: Record<string, DataRoot | { root: string; source: 'downloads' | 'explicit' }> } {
  const specs: SourceSpec[] = [];
  const roots: Record<string, DataRoot | { root: string; source: 'downloads' | 'explicit' }> = {};
  for (const raw of names) {
    const name = checkSourceName(raw);
    const explicit = opts.dirs?.[name];
    if (explicit) {
      specs.push({ name, dir: resolve(explicit) });
      roots[name] = { root: resolve(explicit), source: 'explicit' };
    } else if (origin === 'downloads') {
      const dir = defaultDownloadDir(name);
      if (!existsSync(dir)) throw new UserError(`no downloaded ${name} texts; run nx run corpus-${name}:download first`, { file: dir });
      specs.push({ name, dir });
      roots[name] = { root: DOWNLOADS_DIR, source: 'downloads' };
    } else {
      const found = findData(join('text', name), opts.dataFlag);
      specs.push({ name, dir: found.path });
      roots[name] = found.root;
    }
  }
  return { specs, roots };
}

/** The default output folder of a preset built from an origin: artifacts/corpus/<origin>-<preset> (`all` for every source). */
export function corpusDir(preset: string, origin: SourceOrigin = 'local'): string {
  const tag = preset === DEFAULT_PRESET ? 'all' : preset;
  return artifactDir(join('corpus', `${origin}-${tag}`));
}

export interface OpenedCorpus {
  dir: string;
  manifest: CorpusManifest;
  trainFiles: string[];
  validFile: string;
  testFile: string;
}

/** Opens a built corpus from its folder or its manifest.json; a missing file is a UserError naming it. */
export function openCorpus(pathOrManifest: string): OpenedCorpus {
  let dir = resolve(pathOrManifest);
  if (existsSync(dir) && statSync(dir).isFile()) dir = resolve(dir, '..');
  else if (basename(dir) === MANIFEST) dir = resolve(dir, '..');
  const mpath = join(dir, MANIFEST);
  const manifest = readJson<CorpusManifest>(mpath, 'corpus manifest');
  if (manifest.format !== CORPUS_FORMAT || !manifest.files?.train) {
    throw new UserError(`not a biore corpus manifest (format ${JSON.stringify(manifest.format)}, expected ${CORPUS_FORMAT})`, { file: mpath });
  }
  const abs = (f: string) => {
    const p = join(dir, f);
    if (!existsSync(p)) throw new UserError(`corpus file listed in the manifest is missing: ${f}`, { file: mpath });
    return p;
  };
  return { dir, manifest, trainFiles: manifest.files.train.map((f) => abs(f.file)), validFile: abs(manifest.files.valid.file), testFile: abs(manifest.files.test.file) };
}

export interface PresetBuildOptions {
  preset: string | CorpusPreset;
  origin?: SourceOrigin;
  out?: string;
  dataFlag?: string;
  dirs?: Partial<Record<SourceName, string>>;
  /** false = the user opted out of the contamination guard. */
  guard?: boolean | ContaminationGuard;
  overrides?: CorpusPreset['options'];
  onProgress?: (docs: number) => void;
}

/** Builds a preset's corpus; returns where it went and its manifest. */
export async function buildPreset(o: PresetBuildOptions): Promise<{ dir: string; manifest: CorpusManifest; roots: Record<string, unknown> }> {
  const preset = typeof o.preset === 'string' ? loadPreset(o.preset) : o.preset;
  const origin = o.origin ?? 'local';
  const { specs, roots } = resolveSources(preset.sources, origin, { dataFlag: o.dataFlag, dirs: o.dirs });
  const guard = o.guard === false ? null : o.guard instanceof Object ? o.guard : loadEvaluationGuard({ dataFlag: o.dataFlag });
  const dir = o.out ? resolve(o.out) : corpusDir(preset.name, origin);
  const manifest = await buildCorpus({
    ...preset.options,
    ...o.overrides,
    jats: { ...preset.options?.jats, ...o.overrides?.jats } as JatsOptions,
    name: preset.name,
    sources: specs,
    out: dir,
    guard,
    onProgress: o.onProgress,
    provenance: { preset: preset.name, origin, roots },
  });
  return { dir, manifest, roots };
}

/**
 * The default pre-training corpus (every local source: PubMed + PMC + ChemRxiv, guarded), built into
 * artifacts/corpus/local-all the first time it is asked for. This is what `cse-lm:pretrain` reads when
 * given no corpus.
 */
export async function defaultCorpus(
  opts: { dataFlag?: string; dir?: string; guard?: ContaminationGuard; onBuild?: (dir: string) => void } = {},
): Promise<OpenedCorpus> {
  const dir = opts.dir ?? corpusDir(DEFAULT_PRESET, 'local');
  if (!existsSync(join(dir, MANIFEST))) {
    opts.onBuild?.(dir);
    await buildPreset({ preset: DEFAULT_PRESET, origin: 'local', out: dir, dataFlag: opts.dataFlag, guard: opts.guard });
  }
  return openCorpus(dir);
}

export { SOURCE_NAMES };
