// nx run corpus:build — a pre-training corpus in flair's layout from PubMed, PMC and ChemRxiv texts.
// With no flags: every local source (PubMed + PMC + ChemRxiv, Table 4's last row) into artifacts/corpus/local-all,
// the default corpus of cse-lm:pretrain. --all-presets builds Table 4's four combinations.
import { COMMON_FLAGS, Progress, UserError, defineCommand, runCli } from '@biore/runtime';
import {
  DEFAULT_PRESET, TABLE4_PRESETS, buildPreset, loadEvaluationGuard, loadPreset, SOURCE_NAMES,
  type CorpusPreset, type SourceName, type SourceOrigin,
} from '@biore/corpus';

const command = defineCommand({
  name: 'corpus:build',
  summary: 'a pre-training corpus in flair\'s layout (train/train_split_N, valid.txt, test.txt, manifest.json) from PubMed, PMC and ChemRxiv texts, guarded against the evaluation test sets',
  examples: ['npx nx run corpus:build', 'npx nx run corpus:build -- --sources pubmed,pmc --from downloads --out artifacts/corpus/pubmed-pmc', 'npx nx run corpus:build -- --all-presets'],
  flags: {
    sources: { type: 'string', placeholder: 'A,B', description: `sources to combine, comma-separated: ${SOURCE_NAMES.join(', ')}` },
    preset: { type: 'string', placeholder: 'NAME|FILE', description: `a preset name (${TABLE4_PRESETS.join(', ')}) or a preset JSON file; ${DEFAULT_PRESET} when no --sources/--preset/--all-presets` },
    'all-presets': { type: 'boolean', description: 'build Table 4\'s four combinations, each into artifacts/corpus/<from>-<preset>' },
    from: { type: 'string', choices: ['local', 'downloads'], default: 'local', description: 'read the sources from the data root\'s text/ (local) or from corpora/downloads (downloads)' },
    data: COMMON_FLAGS.data,
    out: { ...COMMON_FLAGS.out, description: 'corpus folder (artifacts/corpus/<from>-<preset> when absent); one preset only' },
    'no-guard': { type: 'boolean', description: 'turn the contamination guard off: evaluation test documents and sentences may then be in the corpus' },
    valid: { type: 'number', min: 0, exclusiveMin: true, max: 0.5, exclusiveMax: true, description: 'fraction of documents in valid.txt (the preset\'s, else 0.01)' },
    test: { type: 'number', min: 0, exclusiveMin: true, max: 0.5, exclusiveMax: true, description: 'fraction of documents in test.txt (the preset\'s, else 0.01)' },
    'split-mb': { type: 'number', min: 0, exclusiveMin: true, description: 'a new train split file starts at this many MB (the preset\'s, else 4)' },
    'min-tokens': { type: 'int', min: 0, description: 'sentences with fewer word tokens are dropped (the preset\'s, else 3)' },
    'no-dedupe': { type: 'boolean', description: 'keep repeated sentences' },
    seed: { ...COMMON_FLAGS.seed, default: undefined, description: 'salt of the document hash that assigns the splits (the preset\'s, else 1)' },
    figures: { type: 'boolean', description: 'PMC articles: keep figure captions' },
    tables: { type: 'boolean', description: 'PMC articles: keep table captions and cells' },
    references: { type: 'boolean', description: 'PMC articles: keep the reference list' },
    'pubmed-dir': { type: 'string', placeholder: 'DIR', description: 'where the PubMed files are, instead of the data root or downloads' },
    'pmc-dir': { type: 'string', placeholder: 'DIR', description: 'where the PMC files are, instead of the data root or downloads' },
    'chemrxiv-dir': { type: 'string', placeholder: 'DIR', description: 'where the ChemRxiv files are, instead of the data root or downloads' },
  },
});

runCli(async () => {
  const f = command.parse();
  const origin: SourceOrigin = f.from;
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
    validFraction: f.valid, testFraction: f.test,
    splitBytes: f['split-mb'] !== undefined ? Math.round(f['split-mb'] * 2 ** 20) : undefined,
    minTokens: f['min-tokens'], dedupe: f['no-dedupe'] ? false : undefined, seed: f.seed,
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
