// nx run re-lite:bench — the lite model's speed on this machine as one JSON object, every comparison side by side
// in one run (the machine is shared: ratios, not absolute times):
//   training: sentences/s with each --workers count (synchronous data-parallel steps), in alternating rounds so a
//     change of load falls on all counts alike, beside the achieved GFLOP/s, the backend's own large-matmul rate
//     and how much a plain matmul gains from the same number of threads right now;
//   extraction: ms/sentence at batch 1 and 32 on each --engine engine, on ChemProt test sentences no step has
//     seen, with the frozen LMs' sentence caches off (every timed sentence goes through the LMs);
//   the anchor: the BiLSTM-attention head at the PyTorch measurement's shape (input 1124, T 64, batch 32) on each
//     engine and in PyTorch (apps/re-lite/bench/torch_anchor.py, when python3 has torch).
import { mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import * as tf from '@tensorflow/tfjs-core';
import { COMMON_FLAGS, defineCommand, initBackend, measureMatmulRate, pick, Rng, runCli, saveArtifact, startBackend, tensorsToHost, UserError } from '@biore/runtime';
import { embeddingSpec } from '@biore/embeddings';
import { loadDataset, datasetInfo, type RelationInstance } from '@biore/re-data';
import {
  createREModel, engineNames, exportModelDir, makeOptimizer, openEngine, parallelTrainStep, startREGradientWorkers, LITE_DEFAULTS,
  type LiteConfig, type REModel, type REShard,
} from '@biore/re-model';
import type { GradientWorkers } from '@biore/nn';
import { ANCHOR, anchorSentences, testSample, torchAnchor, writeAnchorGlove } from './bench-common.ts';

const BENCH = defineCommand({
  name: 're-lite:bench',
  summary: 'lite model speed as one JSON object: training sentences/s per --workers count, extraction ms/sentence per engine, and the head at the PyTorch anchor shape on each engine and in PyTorch',
  examples: [
    'npx nx run re-lite:bench',
    'npx nx run re-lite:bench -- --workers 1,2 --engine tfjs,onnx --steps 5 --rounds 3',
    'npx nx run re-lite:bench -- --embeddings glove+cse --hidden 128 --engine onnx --no-anchor',
  ],
  flags: {
    embeddings: { type: 'string', default: 'glove', placeholder: 'glove+cse+elmo', description: "embedding members joined by '+' (glove, cse, elmo, bert), or an embedder spec .json" },
    glove: { type: 'string', placeholder: 'DIR', description: 'GloVe folder (artifacts/glove when absent)' },
    cse: { type: 'string', placeholder: 'DIR', description: 'CSE folder with forward/ and backward/ LMs (artifacts/cse-lm when absent)' },
    elmo: { type: 'string', placeholder: 'DIR', description: 'ELMo folder (artifacts/elmo-lm when absent)' },
    bert: { type: 'string', placeholder: 'DIR', description: 'BERT folder used as a frozen embedding (artifacts/bert when absent)' },
    hidden: { ...COMMON_FLAGS.hidden, default: LITE_DEFAULTS.hidden, description: 'LSTM units per direction' },
    batch: { ...COMMON_FLAGS.batch, description: 'sentences per training step' },
    steps: { type: 'int', min: 1, default: 6, description: 'timed training steps per round and worker count (after three warm-up steps each)' },
    rounds: { type: 'int', min: 1, default: 3, description: 'training rounds, alternating the worker counts' },
    workers: { type: 'string', default: '1,2', placeholder: '1,2', description: 'worker counts to compare, comma-separated (each an integer ≥ 1)' },
    engine: { type: 'string', default: 'tfjs,onnx', placeholder: 'tfjs,onnx', description: 'the inference engine(s) to time extraction on: tfjs, onnx, or both comma-separated (one run, side by side)' },
    samples: { type: 'int', min: 1, default: 64, description: 'ChemProt test sentences timed per engine (the first 16 also at batch 1)' },
    threads: { type: 'int', min: 1, description: 'onnxruntime intra-op threads and PyTorch threads (default: all cores)' },
    optimizer: { type: 'string', default: 'sgd', choices: ['sgd', 'adam', 'adamw'], description: 'optimizer of the timed training steps' },
    lr: { type: 'number', min: 0, exclusiveMin: true, description: 'learning rate (default 0.1 for sgd, 1e-3 otherwise)' },
    'fine-tune-glove': { type: 'boolean', default: false, description: 'train the GloVe vectors too (the default training run does)' },
    indicator: { type: 'string', default: 'tags', choices: ['tags', 'replacement'], description: 'entity indicators' },
    anchor: { type: 'boolean', default: true, description: 'time the head at the PyTorch anchor shape too (--no-anchor skips it)' },
    ...pick(COMMON_FLAGS, 'backend', 'data'),
  },
});

const CEILING = 'biore-matmul-ceiling';

/** The summed large-matmul rate of `n` threads running at once (one wasm instance each), in GFLOP/s. */
async function matmulThreads(n: number, backend: string): Promise<number> {
  const boot = `import(${JSON.stringify(import.meta.resolve('tsx/esm/api'))}).then((t) => { t.register(); return import(${JSON.stringify(import.meta.url)}); })`;
  const rates = await Promise.all(Array.from({ length: n }, () => new Promise<number>((resolve, reject) => {
    const w = new Worker(boot, { eval: true, workerData: { tag: CEILING, backend } });
    w.once('message', (r: number) => { resolve(r); void w.terminate(); });
    w.once('error', reject);
  })));
  return rates.reduce((a, b) => a + b, 0);
}

/** A comma-separated list of integers ≥ 1 (`--workers 1,2`), each checked. */
function intList(value: string, flag: string): number[] {
  return value.split(',').map((s) => {
    const n = Number(s);
    if (!Number.isInteger(n) || n < 1) throw new UserError(`--${flag} expects integers ≥ 1 separated by commas, got '${value}'`);
    return n;
  });
}

const round = (x: number, digits = 1) => Number(x.toFixed(digits));

/** Extraction ms/sentence of a saved model on each engine: batch 1 over the first 16 sentences, batch 32 over all. */
async function timeEngines(dir: string, engines: string[], sentences: RelationInstance[], warm: RelationInstance[], threads: number, batches: number[]) {
  const out: Record<string, Record<string, number>> = {};
  for (const name of engines) {
    const engine = await openEngine(name, dir, { threads });
    const row: Record<string, number> = {};
    for (const B of batches) {
      await engine.predict(warm, { batchSize: Math.min(B, warm.length) });
      const items = B === 1 ? sentences.slice(0, 16) : sentences;
      const t0 = performance.now();
      await engine.predict(items, { batchSize: B });
      row[`batch${B}`] = round((performance.now() - t0) / items.length, 2);
    }
    await engine.dispose();
    out[name] = row;
  }
  return out;
}

/** Saves `model` under `dir` and writes its model.onnx when an engine other than tfjs will read it. */
async function saveForEngines(model: REModel, dir: string, engines: string[]): Promise<void> {
  saveArtifact(dir, { config: model.config() as Record<string, unknown>, tensors: tensorsToHost(model.weights()) });
  if (engines.some((e) => e !== 'tfjs')) await exportModelDir(dir);
}

if (!isMainThread && workerData?.tag === CEILING) {
  await initBackend(workerData.backend);
  measureMatmulRate(512, 0.3);
  parentPort!.postMessage(measureMatmulRate(512, 2));
} else runCli(async () => {
  const f = BENCH.parse();
  const counts = intList(f.workers, 'workers');
  const engines = f.engine.split(',');
  for (const e of engines) if (!engineNames().includes(e)) throw new UserError(`--engine: unknown engine '${e}'; expected some of ${engineNames().join(', ')}`);
  const threads = f.threads ?? availableParallelism();
  const report = await startBackend(f.backend, { rel: 'chemprot', flag: f.data });
  const info = datasetInfo('chemprot');
  const dev = loadDataset('chemprot', { split: 'dev', dataFlag: f.data });
  const B = f.batch;
  const config = {
    ...LITE_DEFAULTS, family: 'lite', labels: info.labels, indicator: f.indicator, hidden: f.hidden,
    // the frozen LMs keep no sentence cache: a timed extraction computes every sentence through them
    embeddings: embeddingSpec(f.embeddings, { glove: f.glove, cse: f.cse, elmo: f.elmo, bert: f.bert }, {
      cse: { cacheMB: 0 }, elmo: { cacheMB: 0 }, ...(f['fine-tune-glove'] ? { glove: { trainable: true } } : {}),
    }),
  } as LiteConfig;
  const model = await createREModel(config, new Rng(1));
  const D = (model as unknown as { embedder: { embeddingLength: number } }).embedder.embeddingLength;
  const vars = model.trainableVariables();
  const opt = makeOptimizer({ optimizer: f.optimizer, lr: f.lr ?? (f.optimizer === 'sgd' ? 0.1 : 1e-3), weightDecay: 0 }, model);
  const labelIndex = new Map(info.labels.map((l, i) => [l, i]));

  // training: consecutive dev sentences; every count takes the same batches in turn
  const batchAt = (k: number) => Array.from({ length: B }, (_, i) => dev[(k * B + i) % dev.length]);
  const pools = new Map<number, GradientWorkers<REShard> | undefined>();
  const ts = performance.now();
  for (const n of new Set(counts)) pools.set(n, n > 1 ? await startREGradientWorkers(model, vars, { workers: n, backend: report.backend }) : undefined);
  const workerStartSeconds = (performance.now() - ts) / 1000;
  const load0 = loadavg();
  const per = new Map(counts.map((n) => [n, { ms: 0, sentences: 0, flops: 0, rounds: [] as number[] }]));
  let k = 0;
  const step = async (n: number) => {
    const insts = batchAt(k++);
    const T = Math.max(...(model.prepare(insts) as { lengths: number[] }).lengths);
    const t0 = performance.now();
    await parallelTrainStep(pools.get(n), model, vars, opt, { clipNorm: 5 }, insts, insts.map((i) => labelIndex.get(i.label)!), k);
    // two directions × (input projection + recurrence) × 4 gates; forward + backward ≈ 3 forwards
    return { ms: performance.now() - t0, flops: 3 * 2 * (2 * B * T * (D + f.hidden) * 4 * f.hidden) };
  };
  for (const n of counts) for (let w = 0; w < 3; w++) await step(n); // warm-up: kernels and JIT in every thread
  for (let r = 0; r < f.rounds; r++) {
    for (const n of counts) {
      const p = per.get(n)!;
      let ms = 0;
      for (let s = 0; s < f.steps; s++) {
        const x = await step(n);
        ms += x.ms;
        p.flops += x.flops;
      }
      p.ms += ms;
      p.sentences += f.steps * B;
      p.rounds.push(round((f.steps * B) / (ms / 1000)));
    }
  }
  const load1 = loadavg();
  for (const pool of pools.values()) await pool?.close();
  const rate = (n: number) => per.get(n)!.sentences / (per.get(n)!.ms / 1000);
  const one = await matmulThreads(1, report.backend);
  const ceiling: Record<number, number> = {};
  for (const n of counts) ceiling[n] = n === 1 ? 1 : round((await matmulThreads(n, report.backend)) / one, 2);
  const achieved = per.get(counts[0])!.flops / (per.get(counts[0])!.ms / 1000) / 1e9;

  // extraction: the trained-a-little model, saved and read back by each engine
  const work = mkdtempSync(join(tmpdir(), 'biore-bench-'));
  try {
    await saveForEngines(model, join(work, 'model'), engines);
    const sample = testSample(f.data, f.samples);
    const extraction = await timeEngines(join(work, 'model'), engines, sample, dev.slice(0, 4), threads, [1, 32]);
    let anchor: Record<string, unknown> | undefined;
    if (f.anchor) {
      writeAnchorGlove(join(work, 'glove-1124'));
      const head = await createREModel({ ...LITE_DEFAULTS, family: 'lite', labels: info.labels, indicator: 'replacement', hidden: ANCHOR.hidden, embeddings: { type: 'glove', path: join(work, 'glove-1124') } } as LiteConfig, new Rng(6));
      await saveForEngines(head, join(work, 'head'), engines);
      head.dispose();
      const engines1124 = await timeEngines(join(work, 'head'), engines, anchorSentences(64), anchorSentences(4), threads, [ANCHOR.batch]);
      const torch = torchAnchor(threads);
      const ms = (e: string) => engines1124[e]?.[`batch${ANCHOR.batch}`];
      anchor = {
        shape: ANCHOR, engines: engines1124, pytorch: torch,
        ...('msPerSentence' in torch ? Object.fromEntries(engines.map((e) => [`${e}OverPytorch`, round(ms(e) / torch.msPerSentence, 2)])) : {}),
      };
    }
    const speed = (a: string, b: string, batch: string) => extraction[a] && extraction[b] ? round(extraction[a][batch] / extraction[b][batch], 2) : undefined;
    console.log(JSON.stringify({
      bench: 're-lite', backend: report.backend, cores: availableParallelism(), threads, embeddings: f.embeddings, embeddingLength: D, hidden: f.hidden, batch: B,
      training: {
        optimizer: opt.name, fineTuneGlove: f['fine-tune-glove'], indicator: f.indicator, stepsPerRound: f.steps, rounds: f.rounds,
        workerStartSeconds: round(workerStartSeconds),
        sentencesPerSec: Object.fromEntries(counts.map((n) => [n, round(rate(n))])),
        perRound: Object.fromEntries(counts.map((n) => [n, per.get(n)!.rounds])),
        speedup: Object.fromEntries(counts.map((n) => [n, round(rate(n) / rate(counts[0]), 2)])),
        achievedGflops: round(achieved), matmulGflopsOneThread: round(one), fractionOfMatmulRate: round(achieved / one, 2), matmulThreadScaling: ceiling,
      },
      extraction: {
        sentences: sample.length, split: 'test', msPerSentence: extraction,
        ...(engines.includes('tfjs') && engines.includes('onnx') ? { onnxSpeedupBatch1: speed('tfjs', 'onnx', 'batch1'), onnxSpeedupBatch32: speed('tfjs', 'onnx', 'batch32') } : {}),
      },
      ...(anchor ? { anchor } : {}),
      loadAverage: { before: load0.map((x) => round(x, 2)), after: load1.map((x) => round(x, 2)), end: loadavg().map((x) => round(x, 2)) },
      peakRssMB: Math.round(process.resourceUsage().maxRSS / 1024), tfBytesMB: Math.round(tf.memory().numBytes / 2 ** 20),
    }));
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
});
