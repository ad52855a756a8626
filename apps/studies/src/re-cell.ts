// An RE cell is one re-model runExperiment(spec) into the cell's folder; its result is the test scores.
import { startBackend } from '@biore/runtime';
import { experimentSplits, type RelationInstance } from '@biore/re-data';
import '@biore/embeddings';
import { runExperiment, type ExperimentSpec } from '@biore/re-model';

let backend: Promise<unknown> | undefined;
/** The tfjs backend, chosen once per process (BIORE_BACKEND or auto, as every app). */
export const ensureBackend = () => (backend ??= startBackend(undefined));

export async function runExperimentCell(spec: ExperimentSpec, out: string): Promise<Record<string, unknown>> {
  await ensureBackend();
  const r = await runExperiment(spec, { out });
  if (!r.test) throw new Error(`${r.runId}: stopped (${r.status}) before a dev-selected model was scored on test`);
  const t = r.test;
  const perClass = Object.fromEntries(Object.entries(t.perClass as Record<string, { precision: number; recall: number; f1: number; support: number }>)
    .map(([k, v]) => [k, { precision: v.precision, recall: v.recall, f1: v.f1, support: v.support }]));
  return {
    runId: r.runId, runDir: r.out, status: r.status, epochsDone: r.epochsDone, bestEpoch: r.bestEpoch, devF1: r.devF1,
    test: { precision: t.precision, recall: t.recall, f1: t.f1, perClass, n: t.testInstances }, trainSeconds: t.trainSeconds,
  };
}

/** Loaded splits, kept for the process: the attention cells of a study read the same dataset and fold many times. */
const splits = new Map<string, { train: RelationInstance[]; dev: RelationInstance[]; test: RelationInstance[] }>();
export function datasetSplits(dataset: string, fold: number | undefined, seed: number) {
  const k = `${dataset}/${fold ?? ''}/${seed}`;
  let s = splits.get(k);
  if (!s) {
    const e = experimentSplits(dataset, { fold, seed });
    s = { train: e.train, dev: e.dev, test: e.test() };
    splits.set(k, s);
  }
  return s;
}
