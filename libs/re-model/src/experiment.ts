import { existsSync, readdirSync } from 'node:fs';
import { dirname, isAbsolute, join, relative, resolve } from 'node:path';
import {
  Rng, UserError, artifactDir, diffKeys, openRunFolder, readJson, repoRoot, specHash, writeJsonAtomic, SPEC_FILE,
} from '@biore/runtime';
import { checkIndicator, datasetInfo, experimentSplits, sampleInstances } from '@biore/re-data';
import { createREModel } from './contract.ts';
import { evaluate } from './evaluate.ts';
import { loadREModel, mapMembers } from './io.ts';
import { LITE_DEFAULTS, type LiteConfig } from './lite.ts';
import { BERT_HEADS, BERT_RE_DEFAULTS, type BertREConfig } from './bert-re.ts';
import { train, runCheckpoints, type TrainOptions } from './trainer.ts';
import type { BertModelSpec, BudgetSpec, ExperimentSpec, LiteModelSpec, OptimizerSpec } from './spec.ts';

/** Spec keys that may change between a run and its resume: wall-clock budgets and checkpoint cadence. */
const RESUMABLE_BUDGET = ['maxTime', 'maxSteps', 'checkpointEvery'] as const;
const RESUMABLE_KEYS = new Set(RESUMABLE_BUDGET.map((k) => `budget.${k}`));

/** The budget and optimizer each family starts from (Hiai et al.'s lite model with Adam; Su & Vijay-Shanker's AdamW fine-tuning). */
export function defaultOptimizer(family: 'lite' | 'bert', name?: OptimizerSpec['name']): OptimizerSpec {
  if (family === 'bert') return { name: name ?? 'adamw', lr: 2e-5, weightDecay: 0.01, warmup: 0.1, schedule: 'linear', clipNorm: 1, accumulate: 1 };
  const n = name ?? 'adam';
  return { name: n, lr: n === 'sgd' ? 0.1 : 1e-3, weightDecay: 0.01, warmup: 0, schedule: 'constant', clipNorm: 5, accumulate: 1 };
}

export const DEFAULT_BUDGET: BudgetSpec = { epochs: 10, batch: 32, maxTime: 0, maxSteps: 0, limitTrain: 0, limitEval: 0, checkpointEvery: 200 };

export function defaultLiteModel(embeddings: LiteModelSpec['embeddings']): LiteModelSpec {
  return { family: 'lite', embeddings, ...LITE_DEFAULTS };
}

export function defaultBertModel(bert: string): BertModelSpec {
  return { family: 'bert', bert, ...BERT_RE_DEFAULTS };
}

function check(ok: boolean, key: string, v: unknown, what: string): void {
  if (!ok) throw new UserError(`spec: ${key} must be ${what}, got ${JSON.stringify(v)}`);
}
const int = (v: unknown, min: number) => typeof v === 'number' && Number.isInteger(v) && v >= min;
const num = (v: unknown, min: number, open = false) => typeof v === 'number' && Number.isFinite(v) && (open ? v > min : v >= min);

/** Checks a spec (from flags or a `--spec` file) before any work: each fault is one line naming the key. */
export function validateSpec(spec: ExperimentSpec): ExperimentSpec {
  check(spec?.version === 1, 'version', spec?.version, '1');
  const info = datasetInfo(spec.dataset);
  if (info.folds) check(info.folds.includes(spec.fold as number), 'fold', spec.fold, `an integer 1..${info.folds.length} (${info.name} is cross-validated)`);
  else check(spec.fold === undefined, 'fold', spec.fold, `absent (${info.name} has fixed splits)`);
  checkIndicator(info.name, spec.indicator);
  check(int(spec.seed, 0), 'seed', spec.seed, 'an integer ≥ 0');
  const b = spec.budget, o = spec.optimizer, m = spec.model;
  check(!!b && int(b.epochs, 1), 'budget.epochs', b?.epochs, 'an integer ≥ 1');
  check(int(b.batch, 1), 'budget.batch', b.batch, 'an integer ≥ 1');
  check(num(b.maxTime, 0), 'budget.maxTime', b.maxTime, 'a number of seconds ≥ 0');
  for (const k of ['maxSteps', 'limitTrain', 'limitEval', 'checkpointEvery'] as const) check(int(b[k], 0), `budget.${k}`, b[k], 'an integer ≥ 0');
  check(!!o && ['sgd', 'adam', 'adamw'].includes(o.name), 'optimizer.name', o?.name, 'sgd, adam or adamw');
  check(num(o.lr, 0, true), 'optimizer.lr', o.lr, 'a number > 0');
  check(num(o.weightDecay, 0), 'optimizer.weightDecay', o.weightDecay, 'a number ≥ 0');
  check(num(o.warmup, 0) && o.warmup < 1, 'optimizer.warmup', o.warmup, 'a fraction in [0, 1)');
  check(o.schedule === 'constant' || o.schedule === 'linear', 'optimizer.schedule', o.schedule, 'constant or linear');
  check(num(o.clipNorm, 0), 'optimizer.clipNorm', o.clipNorm, 'a number ≥ 0 (0: no clipping)');
  check(int(o.accumulate, 1), 'optimizer.accumulate', o.accumulate, 'an integer ≥ 1');
  check(m?.family === 'lite' || m?.family === 'bert', 'model.family', m?.family, 'lite or bert');
  if (m.family === 'lite') {
    check(!!m.embeddings && typeof m.embeddings.type === 'string', 'model.embeddings', m.embeddings, 'an embedder spec');
    check(int(m.hidden, 1), 'model.hidden', m.hidden, 'an integer ≥ 1');
    check(int(m.maxTokens, 0), 'model.maxTokens', m.maxTokens, 'an integer ≥ 0');
    for (const k of ['dropoutEmbedding', 'dropoutOutput'] as const) check(num(m[k], 0) && m[k] < 1, `model.${k}`, m[k], 'a fraction in [0, 1)');
  } else {
    check(typeof m.bert === 'string' && m.bert.length > 0, 'model.bert', m.bert, 'the path of a BERT folder');
    check((BERT_HEADS as readonly string[]).includes(m.head), 'model.head', m.head, BERT_HEADS.join(', '));
    check(int(m.maxLength, 8), 'model.maxLength', m.maxLength, 'an integer ≥ 8');
    check(num(m.dropout, 0) && m.dropout < 1, 'model.dropout', m.dropout, 'a fraction in [0, 1)');
    check(m.clsVector === 'pooled' || m.clsVector === 'raw', 'model.clsVector', m.clsVector, 'pooled or raw');
    check(m.markerTokens === 'reference' || m.markerTokens === 'unused', 'model.markerTokens', m.markerTokens, 'reference or unused');
    if (m.lstmHidden !== undefined) check(int(m.lstmHidden, 1), 'model.lstmHidden', m.lstmHidden, 'an integer ≥ 1');
  }
  return spec;
}

/** A readable name for the run: dataset, fold, family and its distinguishing choice, indicator. */
function runPrefix(spec: ExperimentSpec): string {
  const m = spec.model;
  const what = m.family === 'lite' ? embeddingName(m.embeddings) : `bert-${m.head.replace(/\+/g, '-')}`;
  return [spec.dataset, spec.fold !== undefined ? `fold${spec.fold}` : '', what, spec.indicator].filter(Boolean).join('-');
}

function embeddingName(e: { type: string; members?: unknown }): string {
  return e.type === 'stack' && Array.isArray(e.members) ? (e.members as { type: string }[]).map((x) => x.type).join('-') : e.type;
}

/** The part of the spec that names a run: everything but the budgets that may change on resume. */
function identity(spec: ExperimentSpec): unknown {
  const budget: Partial<BudgetSpec> = { ...spec.budget };
  for (const k of RESUMABLE_BUDGET) delete budget[k];
  return { ...spec, budget };
}

/** `<readable prefix>-<10 hex of the spec's hash>`: runs that differ in any setting never share a name. */
export function runIdOf(spec: ExperimentSpec): string {
  return `${runPrefix(spec)}-${specHash(identity(spec))}`;
}

/** Where a run goes by default: artifacts/re-lite/<run id> or artifacts/re-bert/<run id>. */
export function defaultRunDir(spec: ExperimentSpec): string {
  return artifactDir(`re-${spec.model.family}/${runIdOf(spec)}`);
}

export interface ExperimentOptions {
  /** the run folder; default derived from the spec (defaultRunDir) */
  out?: string;
  /** continue the run in the folder from its newest complete checkpoint */
  resume?: boolean;
  /** replace whatever run the folder holds */
  force?: boolean;
  /** copy the members (GloVe, CSE, ELMo, BERT) into the run folder, so the model folder stands alone */
  bundle?: boolean;
  dataFlag?: string;
  log?: (line: Record<string, unknown>) => void;
  /** polled after each step besides SIGINT/SIGTERM (tests) */
  shouldStop?: () => boolean;
  /** data-parallel gradient workers (the main thread included); not part of the spec: results agree up to summation order */
  workers?: number;
}

export interface TestScores {
  runId: string;
  dataset: string;
  fold?: number;
  split: 'test';
  family: string;
  /** instances scored, and whether a subsampling setting made that fewer than the split holds */
  testInstances: number;
  subsampled: { limitTrain: number; limitEval: number } | false;
  stopped?: string;
  epochsDone: number;
  bestEpoch: number;
  devF1: number;
  trainSeconds: number;
  precision: number;
  recall: number;
  f1: number;
  perClass: Record<string, unknown>;
  out: string;
  [k: string]: unknown;
}

export interface ExperimentResult {
  runId: string;
  out: string;
  status: 'finished' | 'max-time' | 'max-steps' | 'signal';
  signal?: 'SIGINT' | 'SIGTERM';
  /** epochs whose dev score is in (the last one scored) */
  epochsDone: number;
  bestEpoch: number;
  devF1: number;
  /** test scores of the dev-selected model; absent when no epoch was scored or a signal stopped the run */
  test?: TestScores;
}

/**
 * Member paths as a spec holds them: inside the repository relative to its root (`artifacts/glove`), so a spec
 * file names the same run on every machine that has the repository; elsewhere absolute.
 */
export function specPath(p: string): string {
  const abs = resolve(p);
  const rel = relative(repoRoot, abs);
  return rel && !rel.startsWith('..') && !isAbsolute(rel) ? rel : abs;
}

/** Every member path of a model spec in spec form (see specPath). */
export function specPaths<T>(x: T): T {
  return mapMembers(x, specPath) as T;
}

/** A spec's member paths made absolute (repository-relative ones against the repository root). */
function resolveSpecPaths<T>(x: T): T {
  return mapMembers(x, (p) => (isAbsolute(p) ? p : resolve(repoRoot, p))) as T;
}

/** The model config the family's factory builds from, out of a spec and the dataset's labels. */
function modelConfig(spec: ExperimentSpec, labels: string[]): LiteConfig | BertREConfig {
  const m = resolveSpecPaths(spec.model);
  if (m.family === 'lite') {
    return { family: 'lite', labels, indicator: spec.indicator, embeddings: m.embeddings, hidden: m.hidden, dropoutEmbedding: m.dropoutEmbedding, dropoutOutput: m.dropoutOutput, maxTokens: m.maxTokens };
  }
  const { family: _f, ...rest } = m;
  return { family: 'bert', labels, indicator: spec.indicator, ...rest } as BertREConfig;
}

/** A study runs many experiments on the same splits in one process: each is read and parsed once. */
const loadedSplits = new Map<string, ReturnType<typeof experimentSplits>>();
function splitsOf(dataset: string, fold: number | undefined, dataFlag: string | undefined, seed: number): ReturnType<typeof experimentSplits> {
  const key = JSON.stringify([dataset, fold, dataFlag ?? process.env.BIORE_DATA ?? '', seed]);
  let s = loadedSplits.get(key);
  if (!s) {
    const fresh = experimentSplits(dataset, { fold, dataFlag, seed });
    let test: ReturnType<typeof fresh.test> | undefined;
    s = { ...fresh, test: () => (test ??= fresh.test()) };
    loadedSplits.set(key, s);
  }
  return s;
}

/** For a resume whose spec names no existing run: the sibling run folder nearest to it, and how it differs. */
function nearestRun(dir: string, spec: ExperimentSpec): string | undefined {
  const parent = dirname(dir);
  if (!existsSync(parent)) return undefined;
  let best: { name: string; diff: string[] } | undefined;
  for (const name of readdirSync(parent)) {
    const p = join(parent, name, SPEC_FILE);
    if (!existsSync(p)) continue;
    let held: { spec?: unknown };
    try { held = readJson(p); } catch { continue; }
    const diff = diffKeys(held.spec, spec).filter((k) => !RESUMABLE_KEYS.has(k));
    if (diff.length && (!best || diff.length < best.diff.length)) best = { name, diff };
  }
  return best && `the nearest run, ${join(parent, best.name)}, differs in ${best.diff.join(', ')}`;
}

/**
 * One RE experiment from its spec: the dataset's splits (seeded subsamples when the budget says so), the model
 * (lite or BERT), dev-selected training on the shared loop in a run folder named by the spec, and the test
 * scores of the best dev model in `test-scores.json`. The spec is written into the folder; a resume is checked
 * against it key by key; a second process on the same folder is refused by its lock.
 */
export async function runExperiment(specIn: ExperimentSpec, o: ExperimentOptions = {}): Promise<ExperimentResult> {
  const spec = validateSpec(specIn);
  const runId = runIdOf(spec);
  const out = o.out ?? defaultRunDir(spec);
  const log = o.log ?? (() => {});
  if (o.resume && !existsSync(join(out, SPEC_FILE))) {
    const near = o.out ? undefined : nearestRun(out, spec);
    throw new UserError(`--resume: no run of this spec to resume${near ? `; ${near}` : ' (start without --resume)'}`, { file: out });
  }
  const run = openRunFolder(out, spec as unknown as Record<string, unknown>, { runId, force: o.force, ignore: (k) => RESUMABLE_KEYS.has(k) });
  try {
    const store = runCheckpoints(out);
    if (run.existed && !o.resume && store.latest()) {
      const done = existsSync(join(out, 'test-scores.json'));
      throw new UserError(`holds this spec's run already (${done ? 'finished' : 'unfinished'}); ${done ? 'its scores are in test-scores.json; ' : ''}--resume to continue it, --force to start over`, { file: out });
    }
    const info = datasetInfo(spec.dataset);
    const { train: trainSet, dev: devSet, test } = splitsOf(info.name, spec.fold, o.dataFlag, spec.seed);
    const b = spec.budget;
    const trainData = sampleInstances(trainSet, b.limitTrain || undefined, spec.seed);
    const devData = sampleInstances(devSet, b.limitEval || undefined, spec.seed);
    if (trainData.length === 0) throw new UserError(`${info.name} has no training instances${spec.fold ? ` in fold ${spec.fold}` : ''}`);
    const config = modelConfig(spec, info.labels);
    const model = await createREModel(config, new Rng(spec.seed));
    const opt = spec.optimizer;
    const topts: TrainOptions = {
      outDir: out, runId, epochs: b.epochs, batchSize: b.batch, optimizer: opt.name, lr: opt.lr, weightDecay: opt.weightDecay,
      warmup: opt.warmup, schedule: opt.schedule, clipNorm: opt.clipNorm, accumulate: opt.accumulate, seed: spec.seed,
      checkpointEvery: b.checkpointEvery, maxTime: b.maxTime, maxSteps: b.maxSteps, resume: !!o.resume,
      evalBatchSize: spec.model.family === 'bert' ? 32 : 64, positiveLabels: info.positiveLabels, shouldStop: o.shouldStop, bundle: o.bundle, workers: o.workers,
    };
    log({ event: 'start', runId, out, family: spec.model.family, dataset: info.name, fold: spec.fold, train: trainData.length, dev: devData.length });
    const t0 = performance.now();
    let r;
    try {
      r = await train(model, { train: trainData, dev: devData, trainSource: info.name }, topts, log);
    } finally {
      model.dispose();
    }
    const trainSeconds = (performance.now() - t0) / 1000;
    const status = r.stoppedEarly || 'finished';
    const base = { runId, out, status, signal: r.signal, epochsDone: r.state.epoch, bestEpoch: r.state.bestEpoch, devF1: r.state.bestDevF1 } as ExperimentResult;
    // a signal pauses the run (resume later); a spent budget still scores its best dev model, if it has one
    if (status === 'signal' || r.state.bestEpoch < 0) return base;
    const best = await loadREModel(out);
    try {
      const testSet = sampleInstances(test(), b.limitEval || undefined, spec.seed);
      const scores = evaluate(best, testSet, info.positiveLabels, topts.evalBatchSize, 'test');
      const m = spec.model;
      const testScores: TestScores = {
        runId, dataset: info.name, fold: spec.fold, split: 'test', family: m.family,
        ...(m.family === 'lite' ? { embeddings: embeddingName(m.embeddings) } : { bert: m.bert, head: m.head }),
        indicator: spec.indicator, seed: spec.seed,
        testInstances: testSet.length, subsampled: b.limitTrain || b.limitEval ? { limitTrain: b.limitTrain, limitEval: b.limitEval } : false,
        stopped: status === 'finished' ? undefined : status, epochsDone: r.state.epoch, bestEpoch: r.state.bestEpoch, devF1: r.state.bestDevF1,
        trainSeconds: Math.round(trainSeconds), precision: scores.precision, recall: scores.recall, f1: scores.f1, perClass: scores.perClass, out,
      };
      writeJsonAtomic(join(out, 'test-scores.json'), testScores);
      return { ...base, test: testScores };
    } finally {
      best.dispose();
    }
  } finally {
    run.release();
  }
}
