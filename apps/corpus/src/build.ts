// nx run corpus:build — a pre-training corpus in flair's layout from PubMed, PMC and ChemRxiv texts.
// With no flags: every local source (PubMed + PMC + ChemRxiv, Table 4's last row) into artifacts/corpus/local-all,
// the default corpus of cse-lm:pretrain. --all-presets builds Table 4's four combinations.
import { Progress, UserError, parseFlags, runCli } from '@biore/runtime';
import {
  DEFAULT_PRESET, TABLE4_PRESETS, buildPreset, loadEvaluationGuard, loadPreset, SOURCE_NAMES,
  type CorpusPreset, type SourceName, type SourceOrigin,
} from '@biore/corpus';

const num = (v: string | undefined, flag: string) => {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isFinite(n)) throw new UserError(`--${flag} expects a number, got '${v}'`);
  return n;
};

runCli(async () => {
  const { values: f } = parseFlags({
    sources: { type: 'string' }, preset: { type: 'string' }, 'all-presets': { type: 'boolean' }, from: { type: 'string' },
    data: { type: 'string' }, out: { type: 'string' }, 'no-guard': { type: 'boolean' },
    valid: { type: 'string' }, test: { type: 'string' }, 'split-mb': { type: 'string' }, 'min-tokens': { type: 'string' },
    'no-dedupe': { type: 'boolean' }, seed: { type: 'string' },
    figures: { type: 'boolean' }, tables: { type: 'boolean' }, references: { type: 'boolean' },
    'pubmed-dir': { type: 'string' }, 'pmc-dir': { type: 'string' }, 'chemrxiv-dir': { type: 'string' },
  });
  const origin = (f.from ?? 'local') as SourceOrigin;
  if (origin !== 'local' && origin !== 'downloads') throw new UserError(`--from expects local or downloads, got '${f.from}'`);
  if ([f.sources, f.preset, f['all-presets']].filter(Boolean).length > 1) throw new UserError('give one of --sources, --preset, --all-presets');
  let presets: CorpusPreset[];
  if (f['all-presets']) presets = TABLE4_PRESETS.map((p) => loadPreset(p));
  else if (f.preset) presets = [loadPreset(f.preset)];
  else if (f.sources) {
    const names = f.sources.split(',').map((s) => s.trim()).filter(Boolean);
    for (const n of names) if (!(SOURCE_NAMES as readonly string[]).includes(n)) throw new UserError(`unknown source '${n}' in --sources; expected ${SOURCE_NAMES.join(', ')}`);
    const name = names.join('+');
    // a combination that is a preset gets the preset's options
    presets = [(TABLE4_PRESETS as readonly string[]).includes(name) ? loadPreset(name) : { name, sources: names as SourceName[] }];
  } else presets = [loadPreset(DEFAULT_PRESET)];
  if (f.out && presets.length > 1) throw new UserError('--out names one folder; with --all-presets each corpus goes to artifacts/corpus/<from>-<preset>');
  const dirs: Partial<Record<SourceName, string>> = { pubmed: f['pubmed-dir'], pmc: f['pmc-dir'], chemrxiv: f['chemrxiv-dir'] };
  const overrides = Object.fromEntries(Object.entries({
    validFraction: num(f.valid, 'valid'), testFraction: num(f.test, 'test'),
    splitBytes: f['split-mb'] !== undefined ? Math.round(num(f['split-mb'], 'split-mb')! * 2 ** 20) : undefined,
    minTokens: num(f['min-tokens'], 'min-tokens'), dedupe: f['no-dedupe'] ? false : undefined, seed: num(f.seed, 'seed'),
    jats: f.figures || f.tables || f.references ? { figures: f.figures, tables: f.tables, references: f.references } : undefined,
  }).filter(([, v]) => v !== undefined));
  let guard: ReturnType<typeof loadEvaluationGuard> | false = false;
  if (f['no-guard']) console.error('contamination guard: OFF (--no-guard): evaluation test documents and sentences may be in the corpus');
  else {
    guard = loadEvaluationGuard({ dataFlag: f.data });
    const g = guard.stats();
    console.error(`contamination guard: ${g.datasets.join(', ')} test sets — ${g.pmids} PMIDs, ${g.sentences} sentences, ${g.templates} entity-masked sentences`);
  }
  const summary = [];
  for (const p of presets) {
    const progress = new Progress(`${p.name}: documents`, 0, 'docs');
    let last = 0;
    const r = await buildPreset({
      preset: p, origin, out: f.out, dataFlag: f.data, dirs, guard, overrides,
      onProgress: (d) => { progress.tick(d - last); last = d; },
    });
    progress.end();
    for (const [src, root] of Object.entries(r.roots)) {
      const rr = root as { root: string; source: string };
      console.error(`${p.name}: ${src} read from data root ${rr.root} (${rr.source})`);
    }
    const c = r.manifest.counts;
    console.error(`${p.name}: ${c.documents} documents, ${c.sentences} sentences, ${c.tokens} tokens → ${r.dir}`);
    summary.push({ preset: p.name, dir: r.dir, ...c, trainFiles: r.manifest.files.train.length });
  }
  console.log(JSON.stringify(summary.length === 1 ? summary[0] : summary));
});
