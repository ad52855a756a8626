import { COMMON_FLAGS, pick, readJson, startBackend, UserError, type Flag } from '@biore/runtime';
import { datasetInfo } from '@biore/re-data';
import { defaultWorkers } from '@biore/nn';
import { DEFAULT_BUDGET, runExperiment, validateSpec, type ExperimentResult } from './experiment.ts';
import type { BudgetSpec, ExperimentSpec } from './spec.ts';

/** The flags both RE trainers share: data, budget, run folder. Each app adds its model's and optimizer's. */
export const EXPERIMENT_FLAGS = {
  spec: { type: 'string', placeholder: 'run.json', description: "run the experiment a spec file describes (e.g. a run folder's spec.json); --out/--resume/--force/--backend/--data still apply, the other flags are ignored" },
  ...pick(COMMON_FLAGS, 'dataset', 'fold', 'max-time', 'max-steps', 'limit-train', 'limit-eval', 'seed', 'backend', 'data'),
  epochs: { ...COMMON_FLAGS.epochs, default: DEFAULT_BUDGET.epochs, description: 'training epochs (a dev evaluation and best-model selection after each)' },
  batch: { ...COMMON_FLAGS.batch, default: DEFAULT_BUDGET.batch, description: 'sentences per optimizer step' },
  'checkpoint-every': { ...COMMON_FLAGS['checkpoint-every'], default: DEFAULT_BUDGET.checkpointEvery, description: 'optimizer steps between checkpoints (and one after every epoch); 0: epoch ends only' },
  out: { ...COMMON_FLAGS.out, description: 'run folder; default artifacts/re-<family>/<readable prefix>-<hash of the spec>' },
  resume: { ...COMMON_FLAGS.resume, description: 'continue the run in the folder from its newest complete checkpoint (its spec must match)' },
  force: { ...COMMON_FLAGS.force, description: 'replace whatever run the folder holds' },
  bundle: { type: 'boolean', description: 'copy the embeddings / BERT folders into the run folder, so it stands alone' },
  workers: { ...COMMON_FLAGS.workers, description: 'data-parallel gradient workers, the main thread included (same updates up to summation order); default BIORE_WORKERS, else the number of cores, for the lite model; 1 for BERT' },
} as const satisfies Record<string, Flag>;

type Shared = { [K in keyof typeof EXPERIMENT_FLAGS]: unknown };

/** The budget and the dataset part of a spec, from the shared flags. */
export function budgetFromFlags(f: Shared): BudgetSpec {
  return {
    epochs: f.epochs as number, batch: f.batch as number, maxTime: f['max-time'] as number, maxSteps: f['max-steps'] as number,
    limitTrain: (f['limit-train'] as number | undefined) ?? 0, limitEval: (f['limit-eval'] as number | undefined) ?? 0, checkpointEvery: f['checkpoint-every'] as number,
  };
}

export function datasetFromFlags(f: Shared, indicator: string): Pick<ExperimentSpec, 'dataset' | 'fold' | 'indicator'> {
  const info = datasetInfo(f.dataset as string);
  if (info.folds && f.fold === undefined) throw new UserError(`--fold is required for ${info.name}: 1..${info.folds.length}`);
  if (!info.folds && f.fold !== undefined) throw new UserError(`--fold: ${info.name} has fixed splits, not folds`);
  return { dataset: info.name, ...(f.fold !== undefined ? { fold: f.fold as number } : {}), indicator: indicator as ExperimentSpec['indicator'] };
}

/**
 * The body of both RE trainers: the spec (from `--spec` or from `build(flags)`), the backend, runExperiment, one
 * JSON line of test scores on stdout. A SIGINT/SIGTERM stop exits 130/143 after its checkpoint, saying which epoch
 * was last scored.
 */
export async function experimentCommand(f: Shared, build: () => ExperimentSpec): Promise<ExperimentResult> {
  const spec = validateSpec(f.spec ? readJson<{ spec?: ExperimentSpec } & ExperimentSpec>(f.spec as string, 'spec file').spec ?? readJson<ExperimentSpec>(f.spec as string, 'spec file') : build());
  const report = await startBackend(f.backend as string, { rel: spec.dataset, flag: f.data as string | undefined });
  const say = (l: Record<string, unknown>) => process.stderr.write(JSON.stringify(l) + '\n');
  const r = await runExperiment(spec, { out: f.out as string | undefined, resume: f.resume === true, force: f.force === true, bundle: f.bundle === true, workers: (f.workers as number | undefined) ?? (spec.model.family === 'lite' ? defaultWorkers() : 1), dataFlag: f.data as string | undefined, log: say });
  if (r.status === 'signal') {
    process.stderr.write(`stopped by ${r.signal}: checkpoint written in ${r.out}; last epoch scored: ${r.epochsDone > 0 ? r.epochsDone : 'none'}; continue with --resume\n`);
    process.exit(r.signal === 'SIGINT' ? 130 : 143);
  }
  if (!r.test) {
    process.stderr.write(`stopped (${r.status}) before any epoch was scored; continue with --resume and a larger budget\n`);
    return r;
  }
  console.log(JSON.stringify({ ...r.test, backend: report.backend }));
  return r;
}
