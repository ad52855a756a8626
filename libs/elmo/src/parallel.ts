import * as tf from '@tensorflow/tfjs-core';
import { Rng } from '@biore/runtime';
import {
  GradientWorkers, clipByGlobalNorm, splitRowsByLength, withDropoutRows, type DropoutRows, type GradientRecipe, type GradientReplica,
} from '@biore/nn';
import { BidirectionalLM } from './model.ts';
import { bilmLoss, LogUniformSampler, type LmBatch } from './loss.ts';
import { makeBatch } from './data.ts';
import type { BilmOptions } from './options.ts';
import type { BilmTrainer, StepReport } from './train.ts';

/**
 * One participant's rows of a biLM batch, prepared on the main thread (char ids and word ids), with the rng state
 * the batch starts from: every participant draws the whole batch's dropout masks and the same negative samples.
 */
export interface BilmShard {
  batch: LmBatch;
  rows: DropoutRows;
  /** predicted tokens of these rows / of the whole batch: the shard's share of each direction's mean NLL */
  weight: number;
  rng: number[];
}

export interface BilmShardExtra { rng: number[] }

export interface BilmWorkerConfig { options: BilmOptions; vocabSize: number }

export function bilmReplica(model: BidirectionalLM): GradientReplica<BilmShard> {
  const vars = model.variables();
  const names = Object.keys(vars);
  const sampler = new LogUniformSampler(model.vocabSize);
  const negatives = model.options.n_negative_samples_batch ?? 0;
  return {
    variables: () => vars,
    gradients(shard) {
      const rng = new Rng();
      rng.setState(shard.rng);
      const { value, grads } = tf.variableGrads(() => withDropoutRows(shard.rows, () => {
        const l = bilmLoss(model, shard.batch, { training: true, rng, negatives, sampler });
        return tf.mul(l.loss, shard.weight) as tf.Scalar;
      }), names.map((n) => vars[n]));
      const loss = value.dataSync()[0];
      value.dispose();
      const byName: Record<string, tf.Tensor> = {};
      names.forEach((n) => { if (grads[vars[n].name]) byName[n] = grads[vars[n].name]; });
      return { loss, grads: byName, extra: { rng: rng.getState() } satisfies BilmShardExtra };
    },
    dispose: () => model.dispose(),
  };
}

export const bilmRecipe: GradientRecipe<BilmWorkerConfig, BilmShard> = {
  async build(c) {
    return bilmReplica(new BidirectionalLM(c.options, c.vocabSize, new Rng(0)));
  },
};

/** Starts `workers − 1` worker threads, each with a copy of the trainer's biLM (the main thread is the first participant). */
export async function startBilmGradientWorkers(trainer: BilmTrainer, o: { workers: number; backend?: string }): Promise<GradientWorkers<BilmShard>> {
  return GradientWorkers.start<BilmWorkerConfig, BilmShard>({
    workers: o.workers, module: new URL('./parallel-worker.ts', import.meta.url),
    config: { options: trainer.model.options, vocabSize: trainer.vocab.size }, local: bilmReplica(trainer.model), backend: o.backend,
  });
}

/** Tokens the forward direction predicts in a row (the backward one predicts as many). */
const predicted = (len: number) => Math.max(0, len - 1);

/**
 * BilmTrainer.step over a pool of gradient workers: the next batch's rows split over the participants, their
 * gradients summed, clipped and applied once by the trainer's optimizer; the trainer's position and rng advance as
 * step() advances them, so checkpoints and resume are unchanged. The same update as step() up to the order of
 * summation; without a pool, or with one participant, it is step() itself.
 */
export async function parallelBilmStep(pool: GradientWorkers<BilmShard> | undefined, trainer: BilmTrainer): Promise<StepReport> {
  if (!pool || pool.size === 1) return trainer.step();
  const t0 = performance.now();
  const p = trainer.position;
  // the trainer's batch order and rng stream (TypeScript's element access reaches its private members)
  const order = trainer['batchOrder'](p.epoch);
  const rng = trainer['rng'];
  const seqs = order[p.batch].map((i) => trainer.sequences[i]);
  const whole = makeBatch(seqs, trainer.vocab, trainer.model.maxChars);
  const [, T] = whole.shape;
  const total = seqs.reduce((n, s) => n + predicted(s.length), 0);
  const start = rng.getState();
  const shards: BilmShard[] = [];
  for (const { offset, rows } of splitRowsByLength(seqs.map((q) => q.length), pool.size)) {
    const part = seqs.slice(offset, offset + rows);
    const count = part.reduce((n, s) => n + predicted(s.length), 0);
    // a shard that predicts nothing contributes nothing (and the others draw the batch's masks without it)
    if (count === 0) continue;
    shards.push({ batch: makeBatch(part, trainer.vocab, trainer.model.maxChars), rows: { offset, rows, total: seqs.length, steps: T }, weight: count / total, rng: start });
  }
  const { loss, grads, extras } = await pool.gradients(shards);
  const vars = trainer.model.variables();
  const clipped = clipByGlobalNorm(grads, trainer.options.all_clip_norm_val ?? 10);
  trainer.optimizer.step(clipped.grads, vars);
  if (clipped.grads !== grads) tf.dispose(Object.values(clipped.grads));
  tf.dispose(Object.values(grads));
  if (!Number.isFinite(loss)) throw new Error(`training diverged: loss ${loss} at step ${p.step + 1}`);
  rng.setState((extras[0] as BilmShardExtra).rng);
  p.step++;
  p.tokens += total;
  p.batch++;
  if (p.batch >= order.length) { p.epoch++; p.batch = 0; }
  p.rng = rng.getState();
  p.seconds += (performance.now() - t0) / 1000;
  return { step: p.step, epoch: p.epoch, loss, tokens: total, gradNorm: clipped.norm };
}
