import { CheckpointStore, runLoop, type ArtifactContents, type JsonlWriter, type LoopResult, type StepReport, type TrainingTask } from '@biore/runtime';
import type { GradientWorkers } from '@biore/nn';
import type { BilmTrainer } from './train.ts';
import { parallelBilmStep, startBilmGradientWorkers, type BilmShard } from './parallel.ts';

export interface PretrainOptions {
  /** optimizer steps of the whole run */
  totalSteps: number;
  /** the checkpoint (a link to its newest generation); resumed from by the caller with trainer.restore */
  checkpointDir?: string;
  checkpointEvery?: number;
  /** seconds of training over the whole run, resumed parts included (0: none) */
  maxTimeSec?: number;
  metrics?: JsonlWriter;
  runId?: string;
  label?: string;
  quiet?: boolean;
  /** data-parallel gradient workers, the main thread included (1 or absent: one process) */
  workers?: number;
  /** test hooks */
  afterStep?: (step: number) => void;
  shouldStop?: () => boolean;
}

/** The biLM trainer as a task of the shared loop: one Adagrad step a batch, until the step budget is spent. */
class BilmTask implements TrainingTask {
  readonly unit = 'tokens';
  private readonly perStep: number;
  constructor(private readonly trainer: BilmTrainer, private readonly totalSteps: number, private readonly pool?: GradientWorkers<BilmShard>) {
    const tokens = trainer.sequences.reduce((s, x) => s + x.length - 1, 0);
    this.perStep = tokens / Math.max(1, trainer.batchesPerEpoch());
  }
  totalItems(): number { return Math.round(this.perStep * this.totalSteps); }
  itemsDone(): number { return this.trainer.position.tokens; }
  steps(): number { return this.trainer.position.step; }
  finished(): boolean { return this.trainer.position.step >= this.totalSteps; }
  async step(): Promise<StepReport> {
    const r = this.pool ? await parallelBilmStep(this.pool, this.trainer) : this.trainer.step();
    return { loss: r.loss, items: r.tokens };
  }
  snapshot(): ArtifactContents { return this.trainer.snapshot(); }
  trainInfo(): Record<string, unknown> { return { epoch: this.trainer.position.epoch, tokens: this.trainer.position.tokens }; }
}

/**
 * bilm-tf's pre-training loop on the shared training loop: steps until `totalSteps`, a checkpoint every
 * `checkpointEvery` steps and at the stop (a signal, --max-time), progress in tokens/s with ETA, JSONL metrics.
 * The training loss is the sampled-softmax loss, not a perplexity (evaluateBilm gives that).
 */
export async function pretrainBilm(trainer: BilmTrainer, o: PretrainOptions): Promise<LoopResult> {
  const pool = (o.workers ?? 1) > 1 ? await startBilmGradientWorkers(trainer, { workers: o.workers! }) : undefined;
  try {
    return await runLoop(new BilmTask(trainer, o.totalSteps, pool), {
    label: o.label ?? 'pretrain', quiet: o.quiet, runId: o.runId, metrics: o.metrics, metricsEvery: 10,
    checkpoints: o.checkpointDir ? new CheckpointStore(o.checkpointDir) : undefined, checkpointEverySteps: o.checkpointEvery,
    maxTimeSec: o.maxTimeSec, higherIsBetter: false, afterStep: o.afterStep, shouldStop: o.shouldStop,
    resumed: { elapsedSec: trainer.position.seconds, best: null, bestLabel: null, evaluations: 0 },
    });
  } finally {
    await pool?.close();
  }
}
