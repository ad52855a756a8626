import * as tf from '@tensorflow/tfjs-core';
import { Rng } from '@biore/runtime';
import {
  GradientWorkers, clipByGlobalNorm, splitRows, withDropoutRows, type DropoutRows, type GradientRecipe, type GradientReplica, type SGD,
} from '@biore/nn';
import { CharDictionary } from './dictionary.ts';
import { CharLanguageModel, disposeState, keepState, type CharLMConfig, type LMState } from './model.ts';
import { trainStep } from './trainer.ts';

/**
 * One participant's rows of a truncated-BPTT window: their input and target ids ([rows, len], row-major), the
 * recurrent state they carry in (h and c per layer, [rows, hidden] each), and the rng state the window starts from.
 */
export interface CharShard {
  input: Int32Array;
  target: Int32Array;
  len: number;
  rows: DropoutRows;
  /** rows / batch: the shard's share of the window's mean loss */
  weight: number;
  h: Float32Array[];
  c: Float32Array[];
  rng: number[];
}

/** What comes back besides the gradients: the state the rows carry into the next window, and where the rng ended. */
export interface CharShardExtra { h: Float32Array[]; c: Float32Array[]; rng: number[] }

export interface CharWorkerConfig { config: CharLMConfig; dictionary: string }

export function charLMReplica(model: CharLanguageModel): GradientReplica<CharShard> {
  const vars = model.variables();
  const names = Object.keys(vars);
  const H = model.config.hiddenSize;
  return {
    variables: () => vars,
    gradients(shard) {
      const b = shard.rows.rows;
      const rng = new Rng();
      rng.setState(shard.rng);
      const state: LMState = {
        h: shard.h.map((x) => tf.tensor2d(x, [b, H])),
        c: shard.c.map((x) => tf.tensor2d(x, [b, H])),
      };
      let next: LMState | undefined;
      const { value, grads } = tf.variableGrads(() => withDropoutRows(shard.rows, () => {
        const r = model.loss(tf.tensor2d(shard.input, [b, shard.len], 'int32'), tf.tensor2d(shard.target, [b, shard.len], 'int32'), state, { training: true, rng });
        next = keepState(r.state);
        return tf.mul(r.loss, shard.weight) as tf.Scalar;
      }), names.map((n) => vars[n]));
      const loss = value.dataSync()[0];
      value.dispose();
      disposeState(state);
      const byName: Record<string, tf.Tensor> = {};
      names.forEach((n) => { if (grads[vars[n].name]) byName[n] = grads[vars[n].name]; });
      const extra: CharShardExtra = {
        h: next!.h.map((t) => Float32Array.from(t.dataSync() as Float32Array)),
        c: next!.c.map((t) => Float32Array.from(t.dataSync() as Float32Array)),
        rng: rng.getState(),
      };
      disposeState(next);
      return { loss, grads: byName, extra };
    },
    dispose: () => model.dispose(),
  };
}

export const charLMRecipe: GradientRecipe<CharWorkerConfig, CharShard> = {
  async build(c) {
    return charLMReplica(new CharLanguageModel(c.config, CharDictionary.parse(c.dictionary, 'the main thread\'s dictionary')));
  },
};

/** Starts `workers − 1` worker threads, each with a copy of the LM (the main thread is the first participant). */
export async function startCharLMGradientWorkers(model: CharLanguageModel, o: { workers: number; backend?: string }): Promise<GradientWorkers<CharShard>> {
  return GradientWorkers.start<CharWorkerConfig, CharShard>({
    workers: o.workers, module: new URL('./parallel-worker.ts', import.meta.url),
    config: { config: model.config, dictionary: model.dictionary.serialize() }, local: charLMReplica(model), backend: o.backend,
  });
}

/**
 * trainStep (one truncated-BPTT update) over a pool of gradient workers, with trainStep's contract: the batch's rows
 * are split over the participants, each carrying its rows' slice of `state` through the window; the gradients are
 * summed, clipped and applied once here. Disposes `state`, returns the whole batch's next state, and leaves `rng`
 * where trainStep leaves it (every participant draws the whole window's dropout masks and keeps its rows'). The
 * same update as trainStep up to the order of summation; without a pool, or with one participant, it is trainStep.
 */
export async function parallelCharTrainStep(
  pool: GradientWorkers<CharShard> | undefined, model: CharLanguageModel, optimizer: SGD, clip: number,
  input: Int32Array, target: Int32Array, len: number, batch: number, state: LMState, rng: Rng,
): Promise<{ loss: number; state: LMState; gradNorm: number }> {
  if (!pool || pool.size === 1) return trainStep(model, optimizer, clip, input, target, len, batch, state, rng);
  const H = model.config.hiddenSize;
  const hs = state.h.map((t) => t.dataSync() as Float32Array);
  const cs = state.c.map((t) => t.dataSync() as Float32Array);
  const start = rng.getState();
  const blocks = splitRows(batch, pool.size);
  const shards: CharShard[] = blocks.map(({ offset, rows }) => ({
    input: input.slice(offset * len, (offset + rows) * len), target: target.slice(offset * len, (offset + rows) * len), len,
    rows: { offset, rows, total: batch }, weight: rows / batch,
    h: hs.map((x) => x.slice(offset * H, (offset + rows) * H)), c: cs.map((x) => x.slice(offset * H, (offset + rows) * H)), rng: start,
  }));
  const { loss, grads, extras } = await pool.gradients(shards);
  const clipped = clipByGlobalNorm(grads, clip);
  optimizer.step(clipped.grads, model.variables());
  if (clipped.grads !== grads) tf.dispose(Object.values(clipped.grads));
  tf.dispose(Object.values(grads));
  const ex = extras as CharShardExtra[];
  const gather = (pick: (e: CharShardExtra) => Float32Array[]) => state.h.map((_, l) => {
    const all = new Float32Array(batch * H);
    blocks.forEach(({ offset }, i) => all.set(pick(ex[i])[l], offset * H));
    return tf.tensor2d(all, [batch, H]);
  });
  const next: LMState = { h: gather((e) => e.h), c: gather((e) => e.c) };
  disposeState(state);
  rng.setState(ex[0].rng);
  return { loss, state: next, gradNorm: clipped.norm };
}
