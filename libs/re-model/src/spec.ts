import type { LiteConfig } from './lite.ts';
import type { BertREConfig } from './bert-re.ts';
import type { EntityIndicator } from '@biore/re-data';

/** The lite family's model options (Hiai et al.: BiLSTM-attention over an embedding stack): its config less the dataset's part. */
export type LiteModelSpec = Pick<LiteConfig, 'family' | 'embeddings' | 'hidden' | 'dropoutEmbedding' | 'dropoutOutput' | 'maxTokens'>;

/** The BERT family's model options (Su & Vijay-Shanker: a BERT folder and one of the seven heads). */
export type BertModelSpec = Pick<BertREConfig, 'family' | 'bert' | 'head' | 'maxLength' | 'dropout' | 'clsVector' | 'markerTokens' | 'lstmHidden'>;

export interface OptimizerSpec {
  name: 'sgd' | 'adam' | 'adamw';
  lr: number;
  weightDecay: number;
  /** fraction of all steps spent warming the learning rate up linearly */
  warmup: number;
  schedule: 'constant' | 'linear';
  clipNorm: number;
  /** micro-batches whose gradients are summed before one update (memory, not the result) */
  accumulate: number;
}

export interface BudgetSpec {
  epochs: number;
  batch: number;
  /** seconds of training after which the run checkpoints, scores its best dev model and stops; 0: none */
  maxTime: number;
  /** optimizer steps after which the run stops as for maxTime; 0: none */
  maxSteps: number;
  /** a seeded sample of this many training instances; 0: all */
  limitTrain: number;
  /** a seeded sample of this many dev and test instances; 0: all */
  limitEval: number;
  checkpointEvery: number;
}

/**
 * One RE experiment as data: everything that determines its result. Its canonical JSON names the run
 * (runId), is written into the run folder, and is what `--spec run.json` re-runs.
 */
export interface ExperimentSpec {
  version: 1;
  dataset: string;
  /** 1..10 for GAD and AIMed; absent for datasets with fixed splits */
  fold?: number;
  indicator: EntityIndicator;
  model: LiteModelSpec | BertModelSpec;
  optimizer: OptimizerSpec;
  budget: BudgetSpec;
  seed: number;
}
