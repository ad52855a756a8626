// nx run re-lite:bench-workers — training sentences/s of the lite model with --workers 1 (trainStep in one process)
// and with each larger worker count (synchronous data-parallel steps), side by side on the same real ChemProt
// sentences, at re-lite:bench's settings by default (dev sentences, tags, SGD, frozen GloVe; `--fine-tune-glove
// --optimizer adam --indicator replacement` gives the default training run's). Rounds alternate the settings so a
// change in the machine's load falls on all of them alike. Beside the numbers: the load average, and how much
// a plain matmul gains from the same number of threads right now (the ceiling the machine allows).
// Prints one JSON object.
import { loadavg, availableParallelism } from 'node:os';
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import { COMMON_FLAGS, defineCommand, initBackend, measureMatmulRate, numFlag, pick, Rng, runCli, startBackend } from '@biore/runtime';
import { embeddingSpec } from '@biore/embeddings';
import { loadDataset, datasetInfo } from '@biore/re-data';
import {
  createREModel, makeOptimizer, parallelTrainStep, startREGradientWorkers, LITE_DEFAULTS, type LiteConfig, type REShard,
} from '@biore/re-model';
import type { GradientWorkers } from '@biore/nn';

const WORKERS_BENCH = defineCommand({
  name: 're-lite:bench-workers',
  summary: 'Training sentences/s of the lite model with 1 and 2 data-parallel workers, side by side on the same ChemProt sentences, as JSON (with the load and the 2-thread matmul scaling of the moment).',
  examples: ['npx nx run re-lite:bench-workers -- --steps 5 --rounds 3'],
  flags: {
    embeddings: { type: 'string', default: 'glove', description: "embedding members joined by '+'" },
    glove: { type: 'string', placeholder: 'DIR', description: 'GloVe folder' },
    cse: { type: 'string', placeholder: 'DIR', description: 'CSE folder' },
    elmo: { type: 'string', placeholder: 'DIR', description: 'ELMo folder' },
    bert: { type: 'string', placeholder: 'DIR', description: 'BERT folder' },
    hidden: { type: 'string', placeholder: 'N', description: 'LSTM units per direction (default 256)' },
    batch: { type: 'string', placeholder: 'N', description: 'sentences per step (default 32)' },
    steps: { type: 'string', placeholder: 'N', description: 'timed steps per round' },
    rounds: { type: 'string', placeholder: 'N', description: 'rounds, alternating the worker counts' },
    workers: { type: 'string', default: '1,2', description: 'worker counts to compare, comma-separated' },
    optimizer: { type: 'string', default: 'sgd', choices: ['sgd', 'adam', 'adamw'], description: 'optimizer' },
    lr: { type: 'string', placeholder: 'X', description: 'learning rate' },
    'fine-tune-glove': { type: 'boolean', default: false, description: 'train the GloVe vectors too' },
    indicator: { type: 'string', default: 'tags', choices: ['tags', 'replacement'], description: 'entity indicators' },
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

if (!isMainThread && workerData?.tag === CEILING) {
  await initBackend(workerData.backend);
  measureMatmulRate(512, 0.3);
  parentPort!.postMessage(measureMatmulRate(512, 2));
} else runCli(async () => {
  const f = WORKERS_BENCH.parse();
  const report = await startBackend(f.backend, { rel: 'chemprot', flag: f.data });
  const hidden = numFlag(f.hidden, 'hidden', LITE_DEFAULTS.hidden);
  const B = numFlag(f.batch, 'batch', 32);
  const steps = numFlag(f.steps, 'steps', 6);
  const rounds = numFlag(f.rounds, 'rounds', 3);
  const counts = f.workers!.split(',').map((w) => numFlag(w, 'workers', 1));
  const info = datasetInfo('chemprot');
  const data = loadDataset('chemprot', { split: 'dev', dataFlag: f.data });
  const config = {
    ...LITE_DEFAULTS, family: 'lite', labels: info.labels, indicator: f.indicator, hidden,
    embeddings: embeddingSpec(f.embeddings!, { glove: f.glove, cse: f.cse, elmo: f.elmo, bert: f.bert }, f['fine-tune-glove'] ? { glove: { trainable: true } } : {}),
  } as LiteConfig;
  const model = await createREModel(config, new Rng(1));
  const vars = model.trainableVariables();
  const optimizer = f.optimizer as 'adam' | 'sgd' | 'adamw';
  const opt = makeOptimizer({ optimizer, lr: numFlag(f.lr, 'lr', optimizer === 'sgd' ? 0.1 : 1e-3), weightDecay: 0 }, model);
  const labelIndex = new Map(info.labels.map((l, i) => [l, i]));
  // consecutive dev sentences, as re-lite:bench takes them
  const batchAt = (k: number) => Array.from({ length: B }, (_, i) => data[(k * B + i) % data.length]);
  const pools = new Map<number, GradientWorkers<REShard> | undefined>();
  const ts = performance.now();
  for (const n of counts) pools.set(n, n > 1 ? await startREGradientWorkers(model, vars, { workers: n, backend: report.backend }) : undefined);
  const startSeconds = (performance.now() - ts) / 1000;
  const load0 = loadavg();
  const per = new Map(counts.map((n) => [n, { ms: 0, cpuMs: 0, sentences: 0, rounds: [] as number[] }]));
  let k = 0;
  const step = async (n: number) => {
    const insts = batchAt(k++);
    const t0 = performance.now();
    await parallelTrainStep(pools.get(n), model, vars, opt, { clipNorm: 5 }, insts, insts.map((i) => labelIndex.get(i.label)!), k);
    return performance.now() - t0;
  };
  for (const n of counts) for (let w = 0; w < 3; w++) await step(n); // warm-up: kernels and JIT in every thread
  for (let r = 0; r < rounds; r++) {
    for (const n of counts) {
      let ms = 0;
      // process CPU time covers every thread: the work a step costs, whatever else shares the machine
      const cpu0 = process.cpuUsage();
      for (let s = 0; s < steps; s++) ms += await step(n);
      const cpu = process.cpuUsage(cpu0);
      const p = per.get(n)!;
      p.ms += ms;
      p.cpuMs += (cpu.user + cpu.system) / 1000;
      p.sentences += steps * B;
      p.rounds.push(Math.round((steps * B) / (ms / 1000) * 10) / 10);
    }
  }
  const load1 = loadavg();
  for (const pool of pools.values()) await pool?.close();
  const one = await matmulThreads(1, report.backend);
  const ceiling: Record<number, number> = {};
  for (const n of counts) ceiling[n] = n === 1 ? 1 : Math.round(((await matmulThreads(n, report.backend)) / one) * 100) / 100;
  const rate = (n: number) => per.get(n)!.sentences / (per.get(n)!.ms / 1000);
  const base = rate(counts[0]);
  console.log(JSON.stringify({
    bench: 're-lite-workers', backend: report.backend, threadsPerWorker: report.threads ?? null, cores: availableParallelism(),
    embeddings: f.embeddings, fineTuneGlove: f['fine-tune-glove'], optimizer: opt.name, hidden, batch: B, stepsPerRound: steps, rounds,
    workerStartSeconds: Math.round(startSeconds * 10) / 10,
    trainSentencesPerSec: Object.fromEntries(counts.map((n) => [n, Math.round(rate(n) * 10) / 10])),
    perRound: Object.fromEntries(counts.map((n) => [n, per.get(n)!.rounds])),
    cpuMsPerSentence: Object.fromEntries(counts.map((n) => [n, Math.round(per.get(n)!.cpuMs / per.get(n)!.sentences)])),
    speedup: Object.fromEntries(counts.map((n) => [n, Math.round((rate(n) / base) * 100) / 100])),
    matmulThreadScaling: ceiling, matmulGflopsOneThread: Math.round(one * 10) / 10,
    loadAverage: { before: load0.map((x) => Math.round(x * 100) / 100), after: load1.map((x) => Math.round(x * 100) / 100) },
  }));
});
