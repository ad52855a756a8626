import * as tf from '@tensorflow/tfjs-core';
import { Rng, UserError } from '@biore/runtime';
import {
  GradientWorkers, clipByGlobalNorm, type ShardResult, splitRowsByLength, withDropoutRows, type DropoutRows, type GradientRecipe, type GradientReplica, type Optimizer,
} from '@biore/nn';
import type { RelationInstance } from '@biore/re-data';
import { createREModel, type REModel, type REModelConfig } from './contract.ts';
import { crossEntropy, trainStep, type TrainOptions } from './trainer.ts';
import type { LiteBatch } from './lite.ts';

/** One micro-batch's rows of one participant: its instances, their label ids, the micro-batch's dropout seed. */
export interface REShardPiece {
  instances: RelationInstance[];
  labels: number[];
  dropoutSeed: number;
  /** this piece's share of the global batch (its instances / the batch's) */
  weight: number;
  /** where the piece sits in its micro-batch, so dropout draws the micro-batch's masks */
  rows: DropoutRows;
}

export interface REShard { pieces: REShardPiece[] }

export interface REWorkerConfig {
  model: REModelConfig;
}

/** The weighted loss and gradients of a participant's pieces (summed in piece order). */
function shardGradients(model: REModel, vars: Record<string, tf.Variable>, shard: REShard): ShardResult {
  const names = Object.keys(vars);
  let sum: Record<string, tf.Tensor> | undefined;
  let loss = 0;
  for (const piece of shard.pieces) {
    const batch = model.prepare(piece.instances);
    const { value, grads } = tf.variableGrads(
      () => withDropoutRows(piece.rows, () => tf.mul(crossEntropy(model.forward(batch, true, piece.dropoutSeed).logits, piece.labels), piece.weight) as tf.Scalar),
      names.map((n) => vars[n]),
    );
    loss += value.dataSync()[0];
    value.dispose();
    const next: Record<string, tf.Tensor> = {};
    for (const n of names) {
      const g = grads[vars[n].name];
      if (!g) continue;
      next[n] = sum?.[n] ? tf.tidy(() => tf.add(sum![n], g)) : g.clone();
    }
    tf.dispose(Object.values(grads));
    if (sum) tf.dispose(Object.values(sum));
    sum = next;
  }
  return { loss, grads: sum ?? {} };
}

/** A replica over an RE model's trainable variables (the main thread's: the very variables the optimizer updates). */
export function reReplica(model: REModel, vars: Record<string, tf.Variable> = model.trainableVariables()): GradientReplica<REShard> {
  const trainable = new Set(Object.values(vars));
  return {
    variables: () => vars,
    frozen: () => Object.fromEntries(Object.entries(model.weights()).filter(([, v]) => !trainable.has(v))),
    gradients: (shard) => shardGradients(model, vars, shard),
    handle(method, arg) {
      if (method === 'precompute') return model.precompute?.(arg as RelationInstance[]) ?? 0;
      throw new Error(`an RE replica answers no '${method}' requests`);
    },
    dispose: () => model.dispose(),
  };
}

/** What a worker builds: the RE model from its config (embedders loaded from the paths it names). */
export const reRecipe: GradientRecipe<REWorkerConfig, REShard> = {
  async build(config) {
    const model = await createREModel(config.model, new Rng(0));
    return reReplica(model);
  },
};

const WORKER_ENTRY = new URL('./parallel-worker.ts', import.meta.url);

/**
 * Starts `workers − 1` worker threads, each with a copy of `model` (the main thread is the first participant).
 * `imports`: modules the workers import first (registrations of embedder types or families the config names).
 * Only the lite family splits batches with the same dropout masks; BERT's dropout is drawn per tensor by tfjs.
 */
export async function startREGradientWorkers(
  model: REModel, vars: Record<string, tf.Variable>, o: { workers: number; imports?: (string | URL)[]; backend?: string },
): Promise<GradientWorkers<REShard>> {
  if (o.workers > 1 && model.family !== 'lite') {
    throw new UserError(`--workers ${o.workers}: data-parallel training covers the lite model only (a '${model.family}' model draws its dropout masks per tensor, so a split batch would not train like the whole one); use --workers 1`);
  }
  return GradientWorkers.start<REWorkerConfig, REShard>({
    workers: o.workers, module: WORKER_ENTRY, config: { model: model.config() }, local: reReplica(model, vars), imports: o.imports, backend: o.backend,
  });
}

/**
 * model.precompute on every participant at once: a frozen encoder (CSE, a fixed ELMo) fills each worker's own cache
 * while the main thread fills its cache (each participant then embeds any shard from memory; the memory is spent
 * once per participant). Returns the main thread's count.
 */
export async function precomputeOnWorkers(pool: GradientWorkers<REShard> | undefined, model: REModel, instances: readonly RelationInstance[]): Promise<number> {
  if (!pool || pool.size === 1) return model.precompute?.(instances) ?? 0;
  // the workers' requests go out first, then the main thread computes its own
  const counts = await pool.call('precompute', new Array(pool.size).fill(instances));
  return counts[0] as number;
}

/**
 * The participants' shards of one step: the batch cut into `o.accumulate` micro-batches as trainStep cuts it
 * (same dropout seeds), each micro-batch's rows split over the participants in contiguous blocks of about equal
 * padded size.
 */
export function reShards(
  model: REModel, participants: number, accumulate: number | undefined, instances: RelationInstance[], y: number[], dropoutSeed: number,
): REShard[] {
  const k = Math.max(1, Math.min(accumulate ?? 1, instances.length));
  const size = Math.ceil(instances.length / k);
  const shards: REShard[] = Array.from({ length: participants }, () => ({ pieces: [] }));
  for (let p = 0; p * size < instances.length; p++) {
    const part = instances.slice(p * size, (p + 1) * size);
    const labels = y.slice(p * size, (p + 1) * size);
    // the micro-batch's time axis: its longest prepared sentence (what model.forward would pad to)
    const { lengths } = model.prepare(part) as LiteBatch;
    const steps = Math.max(0, ...lengths);
    splitRowsByLength(lengths, participants).forEach(({ offset, rows }, s) => {
      shards[s].pieces.push({
        instances: part.slice(offset, offset + rows), labels: labels.slice(offset, offset + rows), dropoutSeed: dropoutSeed + 7 * p,
        weight: rows / instances.length, rows: { offset, rows, total: part.length, steps },
      });
    });
  }
  return shards.filter((s, i) => i === 0 || s.pieces.length > 0);
}

/**
 * trainStep over a pool of gradient workers: the same update as trainStep on the same batch (up to the order of
 * summation), with the batch's gradients computed by every participant on its share. Without a pool, or with a
 * pool of one, it is trainStep itself.
 */
export async function parallelTrainStep(
  pool: GradientWorkers<REShard> | undefined, model: REModel, vars: Record<string, tf.Variable>, opt: Optimizer,
  o: Pick<TrainOptions, 'accumulate' | 'clipNorm'>, instances: RelationInstance[], y: number[], dropoutSeed: number,
): Promise<number> {
  if (!pool || pool.size === 1) return trainStep(model, vars, opt, o, instances, y, dropoutSeed);
  const { loss, grads } = await pool.gradients(reShards(model, pool.size, o.accumulate, instances, y, dropoutSeed));
  tf.tidy(() => {
    const clipped = o.clipNorm > 0 ? clipByGlobalNorm(grads, o.clipNorm).grads : grads;
    opt.step(clipped, vars);
  });
  tf.dispose(Object.values(grads));
  return loss;
}
