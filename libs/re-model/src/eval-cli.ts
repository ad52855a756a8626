import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { COMMON_FLAGS, defineCommand, findData, pick, startBackend } from '@biore/runtime';
import { EXTRACT_DEFAULTS, extractWithModel } from './extract.ts';
import { exportModelDir } from './onnx/index.ts';
import { datasetInfo, loadDataset, sampleInstances } from '@biore/re-data';
import { scoreRelations } from '@biore/metrics';
import { openEngine } from './engine.ts';
import { readPredictionInput, writePredictions } from './io.ts';

/** `--engine`: the model's own tfjs forward pass, or its ONNX export on onnxruntime-node with every core. */
export const ENGINE_FLAG = { type: 'string', choices: ['tfjs', 'onnx'], default: 'tfjs', description: 'inference engine: tfjs (the training code) or onnx (the model exported to ONNX, on onnxruntime-node with all cores)' } as const;

/** The `eval` command of an RE app: its flags, and the trainer whose run folders it scores (for the help). */
export function evalCommandSpec(name: string, trainer: string, defaultBatch: number) {
  return defineCommand({
    name,
    summary: `scores a run folder written by ${trainer} on a dataset split: micro P/R/F1 over the positive classes, per class, confusion, as one JSON line`,
    examples: [`npx nx run ${name} -- --model artifacts/${trainer.split(':')[0]}/chemprot-run --split test`, `npx nx run ${name} -- --model DIR --dataset gad --fold 3 --limit-eval 500`],
    flags: {
      model: { ...COMMON_FLAGS.model, required: true, description: `the run folder written by ${trainer} (its best/ model is scored when present)` },
      ...pick(COMMON_FLAGS, 'dataset', 'fold'),
      split: { type: 'string', choices: ['train', 'dev', 'test', 'train-full'], default: 'test', description: 'the split to score (gad and aimed: train or test of the fold; ddi also train-full)' },
      'limit-eval': { ...COMMON_FLAGS['limit-eval'], deprecated: ['limit'], description: 'score a seeded sample of N instances (the whole split when absent)' },
      seed: { ...COMMON_FLAGS.seed, description: 'seed of the --limit-eval sample' },
      batch: { ...COMMON_FLAGS.batch, default: defaultBatch, description: 'sentences per forward pass' },
      engine: ENGINE_FLAG,
      ...pick(COMMON_FLAGS, 'backend', 'data'),
    },
  });
}

/**
 * The `eval` command of both RE apps (a trained model of either family on a dataset split): parses the flags,
 * scores, and returns one JSON-ready record (micro P/R/F1 over the positive classes, per class, confusion, time).
 */
export async function evalCommand(name: string, trainer: string, defaultBatch = 32, argv?: string[]): Promise<Record<string, unknown>> {
  const f = evalCommandSpec(name, trainer, defaultBatch).parse(argv);
  const info = datasetInfo(f.dataset);
  const report = await startBackend(f.backend, { rel: info.name, flag: f.data });
  const engine = await openEngine(f.engine, f.model);
  const all = loadDataset(info.name, { split: f.split, fold: f.fold, dataFlag: f.data });
  const instances = sampleInstances(all, f['limit-eval'], f.seed);
  const t0 = performance.now();
  const preds = await engine.predict(instances, { batchSize: f.batch });
  const scores = scoreRelations(instances.map((i) => i.label), preds.map((p) => p.label), [...info.positiveLabels]);
  const seconds = (performance.now() - t0) / 1000;
  await engine.dispose();
  return { dataset: info.name, split: f.split, model: f.model, engine: engine.name, backend: report.backend, instances: instances.length, seconds, msPerSentence: (1000 * seconds) / instances.length, ...scores };
}

/**
 * The `predict` command of both RE apps: JSON-lines sentences in (`{"text", "e1", "e2"}` with character offsets, or
 * text with inline entity tags), the label, every label's probability and each word's attention weight out.
 */
export async function predictCommand(name: string, trainer: string, argv?: string[]): Promise<void> {
  const f = defineCommand({
    name,
    summary: `labels JSON-lines sentences with a model trained by ${trainer}: label, every label's probability and each word's attention weight`,
    examples: [`npx nx run ${name} -- --model DIR --input sentences.jsonl --out predictions.jsonl`],
    flags: {
      model: { ...COMMON_FLAGS.model, required: true, description: `a run folder written by ${trainer}` },
      input: { ...COMMON_FLAGS.input, required: true, description: 'JSON lines: {"text", "e1": {"start", "end", "type"}, "e2": {…}} or {"text"} with inline entity tags' },
      out: { ...COMMON_FLAGS.out, placeholder: 'FILE', description: 'JSON-lines file to write (stdout when absent)' },
      batch: { ...COMMON_FLAGS.batch, description: 'sentences per forward pass' },
      engine: ENGINE_FLAG,
      backend: COMMON_FLAGS.backend,
    },
  }).parse(argv);
  const instances = readPredictionInput(f.input);
  await startBackend(f.backend);
  const engine = await openEngine(f.engine, f.model);
  await writePredictions(engine, instances, f.out, f.batch);
  await engine.dispose();
}

/**
 * The `extract` command of both RE apps: relations of a trained model in PubTator files (plain or gzip), streamed
 * to JSONL with bounded memory, resumable by input offset.
 */
export async function extractCommand(name: string, trainer: string, argv?: string[]): Promise<void> {
  const f = defineCommand({
    name,
    summary: `extracts relations with a model trained by ${trainer} from PubTator files (plain or gzip), streaming JSONL (PMID, sentence, entities, label, probabilities)`,
    examples: [`npx nx run ${name} -- --model DIR --input abstracts.pubtator.gz --out relations.jsonl --engine onnx`],
    flags: {
      model: { ...COMMON_FLAGS.model, required: true, description: `a run folder written by ${trainer}` },
      input: { ...COMMON_FLAGS.input, required: true, description: 'PubTator file, plain or gzip (a path, else looked up under the data root)' },
      out: { ...COMMON_FLAGS.out, required: true, placeholder: 'FILE', description: 'JSON-lines output (grows as <out>.partial until done)' },
      engine: ENGINE_FLAG,
      batch: { ...COMMON_FLAGS.batch, default: EXTRACT_DEFAULTS.batchSize, description: 'candidate pairs per forward pass' },
      resume: { ...COMMON_FLAGS.resume, description: 'continue an interrupted extraction from its recorded input offset' },
      ...pick(COMMON_FLAGS, 'limit-docs', 'backend', 'data'),
    },
  }).parse(argv);
  const cwd = process.env.INIT_CWD ?? process.cwd();
  // an input that is not a path from here is looked up under the data root (--data, BIORE_DATA, corpora/, ../shared/data)
  const input = existsSync(resolve(cwd, f.input)) ? resolve(cwd, f.input) : findData(f.input, f.data).path;
  await startBackend(f.backend);
  const summary = await extractWithModel(resolve(cwd, f.model), f.engine, {
    input, out: resolve(cwd, f.out), resume: f.resume === true, progress: 'extract', batchSize: f.batch, limitDocs: f['limit-docs'],
  });
  if (summary.alreadyComplete) process.stderr.write(`${summary.out} is complete; nothing to resume\n`);
  else if (!summary.complete) process.stderr.write('stopped at a checkpoint; continue with --resume\n');
  console.log(JSON.stringify({ ...summary, peakRssMB: Math.round(process.resourceUsage().maxRSS / 1024) }));
  // a signal's exit code, as the training apps give it, once the checkpoint is written
  if (summary.signal) process.exit(summary.signal === 'SIGTERM' ? 143 : 130);
}

/** The `export-onnx` command of both RE apps: model.onnx beside a trained model's config.json, for `--engine onnx`. */
export async function exportOnnxCommand(name: string, trainer: string, argv?: string[]): Promise<void> {
  const f = defineCommand({
    name,
    summary: `writes a model trained by ${trainer} (embeddings or encoder, and its head) as model.onnx beside its config.json, for --engine onnx`,
    examples: [`npx nx run ${name} -- --model DIR`],
    flags: {
      model: { ...COMMON_FLAGS.model, required: true, description: `a run folder written by ${trainer} (its best/), or a model folder` },
      backend: COMMON_FLAGS.backend,
    },
  }).parse(argv);
  await startBackend(f.backend);
  const t0 = performance.now();
  const { file, bytes } = await exportModelDir(f.model);
  console.log(JSON.stringify({ onnx: file, megabytes: Number((bytes / 2 ** 20).toFixed(1)), seconds: Number(((performance.now() - t0) / 1000).toFixed(1)) }));
}
