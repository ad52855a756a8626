import * as tf from '@tensorflow/tfjs-core';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  CheckpointStore, Rng, UserError, runLoop,
  type ArtifactContents, type Evaluation, type JsonlWriter, type LoadedCheckpoint, type LoopResult, type LoopState, type StepReport, type StopReason, type TensorMap, type TrainingTask,
} from '@biore/runtime';
import type { WordPieceTokenizer } from '@biore/text';
import type { BertModel } from './model.ts';
import { bertConfigJson, parseBertConfig } from './config.ts';
import { bertFromTensors, bertToTensors } from './checkpoint.ts';
import { MlmPretrainer, maskSequences, mlmLoss, type MlmBatch } from './pretrain.ts';

/** What a masked-LM pre-training run needs beside the model: its data, its budget and its checkpoints. */
export interface MlmRun {
  model: BertModel;
  trainer: MlmPretrainer;
  tokenizer: WordPieceTokenizer;
  vocab: readonly string[];
  doLowerCase: boolean;
  /** packed training sequences and the held-out batch whose loss is reported */
  sequences: readonly number[][];
  heldOut: MlmBatch;
  batchSize: number;
  seed: number;
  /** the seeded stream that draws batches and masks; its state is checkpointed */
  rng: Rng;
}

/**
 * Masked-LM pre-training as a task of the shared loop: each step draws `batchSize` sequences from a seeded
 * stream (checkpointed, so a resumed run draws the same), masks them and takes one AdamW step; the held-out
 * masked-LM loss is measured at the end.
 */
class MlmTask implements TrainingTask {
  readonly unit = 'steps';
  constructor(private readonly r: MlmRun) {}
  totalItems(): number { return this.r.trainer.o.totalSteps; }
  itemsDone(): number { return this.r.trainer.step; }
  steps(): number { return this.r.trainer.step; }
  finished(): boolean { return this.r.trainer.step >= this.r.trainer.o.totalSteps; }
  step(): StepReport {
    const { sequences, batchSize, rng, tokenizer, trainer } = this.r;
    const pick = Array.from({ length: Math.min(batchSize, sequences.length) }, () => sequences[rng.int(sequences.length)]);
    return { loss: trainer.train(maskSequences(pick, tokenizer, rng), rng), items: 1 };
  }
  evaluate(): Evaluation {
    const loss = heldOutLoss(this.r);
    return { score: loss, metrics: { heldOutMlmLoss: loss } };
  }
  beforeStop(reason: StopReason): string | void {
    if (reason !== 'signal') return 'end';
  }
  snapshot(): ArtifactContents { return mlmCheckpoint(this.r); }
  trainInfo(): Record<string, unknown> { return { lr: this.r.trainer.learningRate() }; }
}

export function heldOutLoss(r: Pick<MlmRun, 'model' | 'heldOut'>): number {
  return tf.tidy(() => mlmLoss(r.model, r.heldOut, false).dataSync()[0]);
}

/** A checkpoint is a BERT folder (config.json, vocab.txt, the weights) plus optimizer slots and the run's position. */
export function mlmCheckpoint(r: MlmRun): ArtifactContents {
  const st = r.trainer.getState();
  const tensors: TensorMap = bertToTensors(r.model);
  for (const [k, v] of Object.entries(st.tensors)) tensors[`optimizer/${k}`] = v;
  return {
    config: { ...bertConfigJson(r.model.config), do_lower_case: r.doLowerCase },
    tensors,
    state: { step: r.trainer.step, steps: r.trainer.o.totalSteps, seed: r.seed, rng: r.rng.getState(), optimizer: st.json },
    files: { 'vocab.txt': r.vocab.join('\n') + '\n' },
  };
}

/** The model, vocabulary, optimizer state and rng of a pre-training checkpoint; a different seed is refused. */
export function restoreMlm(ck: LoadedCheckpoint, seed: number): { model: BertModel; vocab: string[]; doLowerCase: boolean; optimizer: { json: Record<string, unknown>; tensors: TensorMap }; rng: number[]; step: number } {
  const st = ck.state as { step?: number; seed?: number; rng?: number[]; optimizer?: Record<string, unknown> };
  if (typeof st.step !== 'number' || !Array.isArray(st.rng) || !st.optimizer) throw new UserError('not a masked-LM pre-training checkpoint (state.json lacks step, rng or optimizer)', { file: join(ck.dir, 'state.json') });
  if (st.seed !== seed) throw new UserError(`checkpoint was pre-trained with seed ${st.seed}, not ${seed}`, { file: join(ck.dir, 'state.json') });
  const config = parseBertConfig(ck.config, join(ck.dir, 'config.json'));
  const model = bertFromTensors(config, ck.tensors, join(ck.dir, 'model.safetensors'), true);
  const tensors: TensorMap = {};
  for (const [k, v] of Object.entries(ck.tensors)) if (k.startsWith('optimizer/')) tensors[k.slice('optimizer/'.length)] = v;
  const vocab = readFileSync(join(ck.dir, 'vocab.txt'), 'utf8').split('\n').filter((l, i, a) => l.length > 0 || i < a.length - 1);
  return { model, vocab, doLowerCase: ck.config.do_lower_case !== false, optimizer: { json: st.optimizer, tensors }, rng: st.rng, step: st.step };
}

export interface MlmRunOptions {
  checkpoints: CheckpointStore;
  checkpointEvery: number;
  maxTimeSec: number;
  metrics?: JsonlWriter;
  runId?: string;
  quiet?: boolean;
  afterStep?: (step: number) => void;
  /** the loop state of the checkpoint being continued */
  resumed?: LoopState;
}

/** Runs (or continues) masked-LM pre-training on the shared loop. */
export function pretrainMlm(r: MlmRun, o: MlmRunOptions): Promise<LoopResult> {
  return runLoop(new MlmTask(r), {
    label: 'pretrain', quiet: o.quiet, runId: o.runId, metrics: o.metrics, metricsEvery: 50, checkpoints: o.checkpoints,
    checkpointEverySteps: o.checkpointEvery, maxTimeSec: o.maxTimeSec, higherIsBetter: false, afterStep: o.afterStep, resumed: o.resumed,
  });
}
