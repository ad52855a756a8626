// nx run re-lite:bench-table3 — Hiai et al.'s Table 3 at the papers' sizes: extraction ms/sample and peak memory of
// GloVe, GloVe+CSE, GloVe+CSE+ELMo (the lite model, hidden 256) and BERT-base, each on the tfjs (wasm, one thread)
// and the onnx (onnxruntime-node, all cores) engine, on the same seeded sample of ChemProt test sentences, with
// random weights of the published sizes. Each (row, engine) runs in its own process, so each peak is its own; the
// frozen LMs' sentence caches are off, so every timed sentence goes through the LMs. One more row times the
// BiLSTM-attention head alone at the shape of the PyTorch anchor (input 1124, T 64, batch 32). Prints a table
// on stderr and one JSON object on stdout (also written to --out, default artifacts/re-lite/bench-table3.json).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { COMMON_FLAGS, Rng, defineCommand, runCli, saveArtifact, startBackend, tensorsToHost, UserError, type FlagValues } from '@biore/runtime';
import '@biore/embeddings';
import { datasetInfo, loadDataset } from '@biore/re-data';
import { writeGloveArtifact } from '@biore/glove';
import { CharDictionary, CharLanguageModel, charLMConfig, countChars } from '@biore/charlm';
import { BidirectionalLM, BilmVocabulary, parseBilmOptions, saveBilm } from '@biore/elmo';
import { BertModel, parseBertConfig, saveBert } from '@biore/bert';
import { createREModel, exportModelDir, openEngine, LITE_DEFAULTS, type REModelConfig } from '@biore/re-model';
import { anchorSentences, testSample, writeAnchorGlove } from './bench-common.ts';

const TABLE3 = defineCommand({
  name: 're-lite:bench-table3',
  summary: "Hiai et al.'s Table 3 at the papers' sizes: extraction ms/sample and peak memory of GloVe, GloVe+CSE, GloVe+CSE+ELMo and BERT-base with random weights, on both engines, as JSON.",
  examples: ['npx nx run re-lite:bench-table3 -- --samples 32 --work /tmp/t3'],
  flags: {
    rows: { type: 'string', placeholder: 'glove,glove+cse,…', description: 'rows to run, comma-separated (default: all)' },
    engines: { type: 'string', default: 'tfjs,onnx', description: 'engines to time, comma-separated' },
    samples: { type: 'int', min: 1, default: 32, description: 'ChemProt test sentences to time' },
    batch: { type: 'int', min: 1, default: 32, description: 'sentences per batch' },
    threads: { type: 'int', min: 1, description: 'onnxruntime intra-op threads (default: all cores)' },
    'cse-hidden': { type: 'int', min: 1, default: 1150, description: "CSE hidden size (flair's PubMed LMs: 1150)" },
    'cse-layers': { type: 'int', min: 1, default: 3, description: "CSE layers (flair's PubMed LMs: 3)" },
    work: { type: 'string', placeholder: 'DIR', description: 'folder for the random-weight models (reused when present)' },
    out: { type: 'string', placeholder: 'FILE', description: 'JSON output (default artifacts/re-lite/bench-table3.json)' },
    data: COMMON_FLAGS.data,
    child: { type: 'boolean', description: 'internal: time one row and engine in this process' },
    row: { type: 'string', description: 'internal (with --child): the row' },
    engine: { type: 'string', description: 'internal (with --child): the engine' },
    model: { type: 'string', description: 'internal (with --child): the model folder' },
    batches: { type: 'string', description: 'internal (with --child): batch sizes to try' },
  },
});
type Flags = FlagValues<typeof TABLE3.spec.flags>;

/** The PubMed ELMo's options (bilm-tf "2x4096_512_2048cnn_2xhighway", as the PubMed-only weights use). */
const PUBMED_ELMO = {
  lstm: { dim: 4096, projection_dim: 512, n_layers: 2, cell_clip: 3, proj_clip: 3, use_skip_connections: true },
  char_cnn: { activation: 'relu', filters: [[1, 32], [2, 32], [3, 64], [4, 128], [5, 256], [6, 512], [7, 1024]], n_highway: 2, embedding: { dim: 16 }, n_characters: 262, max_characters_per_token: 50 },
};
const ROWS = ['glove', 'glove+cse', 'glove+cse+elmo', 'bert-base', 'head-1124'] as const;
type Row = (typeof ROWS)[number];

/** Random-weight members and RE models of the published sizes, each saved with its model.onnx. */
async function buildModels(work: string, rows: Row[], f: Flags): Promise<Record<string, unknown>> {
  const labels = datasetInfo('chemprot').labels;
  const train = loadDataset('chemprot', { split: 'train', dataFlag: f.data });
  const counts = new Map<string, number>();
  for (const s of train) for (const t of s.tokens) counts.set(t.toLowerCase(), (counts.get(t.toLowerCase()) ?? 0) + 1);
  const words = [...counts.keys()];
  const rng = new Rng(1);
  const sizes: Record<string, unknown> = {};
  const need = (m: string) => rows.some((r) => r.includes(m) && !existsSync(join(work, 'models', r, 'model.onnx')));
  if (need('glove')) {
    writeGloveArtifact(join(work, 'glove'), { words, matrix: Float32Array.from({ length: words.length * 100 }, () => rng.normal() * 0.4), dim: 100 }, { lowercase: true, vectors: 'imported' });
  }
  if (rows.some((r) => r.includes('glove'))) sizes.glove = { words: words.length, dim: 100 };
  if (need('head-1124')) writeAnchorGlove(join(work, 'glove-1124'));
  const cseHidden = f['cse-hidden'], cseLayers = f['cse-layers'];
  if (need('cse')) {
    const dict = CharDictionary.fromCounts(countChars(train.map((s) => s.tokens.join(' ')).join('\n') + '\n '));
    for (const [dir, isForwardLm] of [['forward', true], ['backward', false]] as const) {
      const lm = new CharLanguageModel(charLMConfig({ vocabSize: dict.size, embeddingSize: 100, hiddenSize: cseHidden, layers: cseLayers, isForwardLm }), dict, new Rng(isForwardLm ? 2 : 3));
      lm.save(join(work, 'cse', dir));
      lm.dispose();
    }
  }
  if (rows.some((r) => r.includes('cse'))) sizes.cse = { hidden: cseHidden, layers: cseLayers, embedding: 100, layout: "flair's pubmed-forward/backward (hidden 1150, 3 layers) unless --cse-hidden/--cse-layers" };
  if (need('elmo')) {
    const vocab = BilmVocabulary.fromText('<S>\n</S>\n<UNK>\n');
    const bilm = new BidirectionalLM(parseBilmOptions(PUBMED_ELMO), vocab.size, new Rng(4));
    await saveBilm(join(work, 'elmo'), bilm, vocab);
    bilm.dispose();
  }
  if (rows.some((r) => r.includes('elmo'))) sizes.elmo = PUBMED_ELMO;
  if (need('bert-base')) {
    // a WordPiece vocabulary from ChemProt's training words (count ≥ 2), every character, and every character as a continuation
    const chars = new Set([...words.join('')]);
    const vocab = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]', ...[...chars], ...[...chars].map((c) => `##${c}`), ...words.filter((w) => counts.get(w)! >= 2 && !chars.has(w))];
    const bert = new BertModel(parseBertConfig({ vocab_size: vocab.length, hidden_size: 768, num_hidden_layers: 12, num_attention_heads: 12, intermediate_size: 3072, max_position_embeddings: 512 }), { seed: 5 });
    saveBert(join(work, 'bert'), bert, vocab, true);
    bert.dispose();
  }
  if (rows.includes('bert-base')) sizes.bert = { hidden: 768, layers: 12, heads: 12, intermediate: 3072, maxLength: 128, head: 'cls' };
  const spec = (m: string) => m === 'glove' ? { type: 'glove', path: join(work, 'glove') }
    : m === 'cse' ? { type: 'cse', path: join(work, 'cse'), cacheMB: 0 } : { type: 'elmo', model: join(work, 'elmo'), cacheMB: 0 };
  for (const row of rows) {
    // a --work folder of an earlier run keeps its models (random weights, seeded: the same ones)
    if (existsSync(join(work, 'models', row, 'model.onnx'))) continue;
    const lite = (embeddings: unknown): REModelConfig => ({ ...LITE_DEFAULTS, family: 'lite', labels, indicator: 'replacement', embeddings } as REModelConfig);
    const config: REModelConfig = row === 'bert-base'
      ? { family: 'bert', labels, indicator: 'replacement', bert: join(work, 'bert'), head: 'cls', maxLength: 128, dropout: 0.1, clsVector: 'pooled', markerTokens: 'reference' } as REModelConfig
      : row === 'head-1124' ? lite({ type: 'glove', path: join(work, 'glove-1124') })
      : lite(row.includes('+') ? { type: 'stack', members: row.split('+').map(spec) } : spec(row));
    const model = await createREModel(config, new Rng(6));
    saveArtifact(join(work, 'models', row), { config: model.config() as Record<string, unknown>, tensors: tensorsToHost(model.weights()) });
    model.dispose();
    const t0 = performance.now();
    const { bytes } = await exportModelDir(join(work, 'models', row));
    process.stderr.write(`${row}: model.onnx ${(bytes / 2 ** 20).toFixed(0)} MB, exported in ${((performance.now() - t0) / 1000).toFixed(1)} s\n`);
  }
  return sizes;
}

/** Peak resident memory of this process while `run` runs, sampled every 10 ms from a worker (the main thread may be busy in wasm). */
async function withPeakRss<T>(run: () => Promise<T>): Promise<{ value: T; peakMB: number }> {
  const shared = new Float64Array(new SharedArrayBuffer(16));
  const worker = new Worker(`const { workerData: s } = require('node:worker_threads');
    const a = new Float64Array(s); setInterval(() => { a[0] = Math.max(a[0], process.memoryUsage.rss()); if (a[1]) process.exit(0); }, 10);`, { eval: true, workerData: shared.buffer });
  shared[0] = process.memoryUsage.rss();
  try {
    const value = await run();
    shared[0] = Math.max(shared[0], process.memoryUsage.rss());
    return { value, peakMB: Math.round(shared[0] / 2 ** 20) };
  } finally {
    shared[1] = 1;
    await worker.terminate();
  }
}

/** One (row, engine) in this process: open, warm up, time extraction at each batch size. Prints one JSON line. */
async function child(f: Flags): Promise<void> {
  const engineName = f.engine!;
  // the onnx engine keeps no tfjs weights (released after opening), so tfjs' cpu backend holds them only while loading
  const report = await startBackend(engineName === 'tfjs' ? 'wasm' : 'cpu');
  const n = f.samples;
  const { timed, warm } = f.row === 'head-1124' ? { timed: anchorSentences(n), warm: anchorSentences(4) }
    : { timed: testSample(f.data, n), warm: loadDataset('chemprot', { split: 'dev', dataFlag: f.data }).slice(0, 4) };
  const t0 = performance.now();
  const engine = await openEngine(engineName, f.model!, { threads: f.threads });
  const openSeconds = (performance.now() - t0) / 1000;
  (globalThis as { gc?: () => void }).gc?.();
  const results: Record<string, unknown>[] = [];
  for (const B of (f.batches ?? '32').split(',').map(Number)) {
    await engine.predict(warm, { batchSize: Math.min(B, warm.length) });
    const items = B === 1 ? timed.slice(0, Math.min(timed.length, 16)) : timed;
    const { value: ms, peakMB } = await withPeakRss(async () => {
      const s = performance.now();
      await engine.predict(items, { batchSize: B });
      return performance.now() - s;
    });
    results.push({ batch: B, sentences: items.length, msPerSample: Number((ms / items.length).toFixed(2)), peakRssMB: peakMB });
  }
  await engine.dispose();
  console.log(JSON.stringify({
    row: f.row, engine: engineName, tfjsBackend: report.backend, openSeconds: Number(openSeconds.toFixed(1)), results,
    maxRssMB: Math.round(process.resourceUsage().maxRSS / 1024), loadAverage1min: Number(loadavg()[0].toFixed(1)),
  }));
}

/** The table on stderr: ms/sample and peak MB per row and engine at each batch size, and BERT-base's time over each lite row's. */
function printTable(runs: Record<string, any>[]): void {
  const lines = ['row | engine | batch | ms/sample | peak MB (extraction) | BERT-base / row'];
  const bertMs = (engine: string, b: number) => runs.find((r) => r.row === 'bert-base' && r.engine === engine)?.results?.find((x: any) => x.batch === b)?.msPerSample;
  for (const r of runs) {
    if (r.failed) { lines.push(`${r.row} | ${r.engine} | - | failed: ${r.failed} | - | -`); continue; }
    for (const x of r.results) {
      const ratio = r.row !== 'bert-base' && bertMs(r.engine, x.batch) ? (bertMs(r.engine, x.batch) / x.msPerSample).toFixed(2) : '-';
      lines.push(`${r.row} | ${r.engine} | ${x.batch}${r.splitFrom ? ` (split from ${r.splitFrom})` : ''} | ${x.msPerSample} | ${x.peakRssMB} | ${ratio}`);
    }
  }
  process.stderr.write(lines.join('\n') + '\n');
}

function runChild(row: Row, engine: string, batches: string, work: string, f: Flags): Record<string, unknown> {
  const args = ['--expose-gc', '--import', 'tsx', process.argv[1], '--child', '--row', row, '--engine', engine, '--model', join(work, 'models', row),
    '--batches', batches, '--samples', String(f.samples), ...(f.threads ? ['--threads', String(f.threads)] : []), ...(f.data ? ['--data', f.data] : [])];
  const r = spawnSync(process.execPath, args, { encoding: 'utf8', maxBuffer: 1 << 26 });
  const line = r.stdout.trim().split('\n').filter((l) => l.startsWith('{')).pop();
  if (r.status === 0 && line) return JSON.parse(line);
  const why = (r.stderr.match(/(RuntimeError: [^\n]*|error: [^\n]*|Error: [^\n]*)/) ?? [r.stderr.trim().split('\n').pop()])[0];
  return { row, engine, failed: `exit ${r.status ?? r.signal}: ${why}` };
}

runCli(async () => {
  const f = TABLE3.parse();
  if (f.child) return child(f);
  const rows = (f.rows ?? ROWS.join(',')).split(',') as Row[];
  for (const r of rows) if (!ROWS.includes(r)) throw new UserError(`--rows: unknown row '${r}'; expected some of ${ROWS.join(',')}`);
  const engines = (f.engines ?? 'tfjs,onnx').split(',');
  const batch = String(f.batch);
  // the machine is shared: the 1-minute load average beside each figure says how much of it this run had
  const startLoad = Number(loadavg()[0].toFixed(1));
  await startBackend('wasm', { rel: 'chemprot', flag: f.data });
  const work = f.work ?? join(tmpdir(), `biore-table3-${process.pid}`);
  mkdirSync(work, { recursive: true });
  const sizes = await buildModels(work, rows, f);
  const runs: Record<string, unknown>[] = [];
  for (const row of rows) for (const engine of engines) {
    // the default stack and the anchor shape are also timed one sentence at a time
    let batches = row === 'glove' || row === 'head-1124' ? `1,${batch}` : batch;
    for (;;) {
      process.stderr.write(`${row} on ${engine}, batches ${batches} …\n`);
      const r = runChild(row, engine, batches, work, f);
      // tfjs' wasm heap is 4 GB: when a batch does not fit, time it in halves (as many sentences, smaller batches)
      const last = Number(batches.split(',').pop());
      if ('failed' in r && /Aborted|out of memory|memory access out of bounds|Cannot allocate/i.test(String(r.failed)) && engine === 'tfjs' && last > 1) {
        process.stderr.write(`  ${r.failed}: the ${last}-sentence batch does not fit tfjs' wasm heap; splitting it in two\n`);
        batches = batches.replace(/\d+$/, String(last / 2));
        continue;
      }
      runs.push(last === Number(batch) ? r : { ...r, splitFrom: Number(batch) });
      break;
    }
    process.stderr.write(`  ${JSON.stringify(runs[runs.length - 1])}\n`);
  }
  const result = { bench: 're-lite:bench-table3', machineLoadAtStart: startLoad, samples: f.samples, batch: f.batch, sizes, runs };
  printTable(runs);
  const out = f.out ?? join('artifacts', 're-lite', 'bench-table3.json');
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, JSON.stringify(result, null, 2) + '\n');
  process.stderr.write(`wrote ${out}\n`);
  console.log(JSON.stringify(result));
});
