// Named compute budgets for the studies: every size a cell uses comes from one of these, and the report states it.
import { UserError } from '@biore/runtime';

export interface Budget {
  name: BudgetName;
  /** one sentence for the report */
  description: string;
  /** the seed every cell uses */
  seed: number;
  /** sentences of each built corpus kept for pre-training (train split; valid/test get a tenth each); 0: the whole corpus */
  corpusSampleLines: number;
  glove: { dim: number; window: number; minCount: number; iterations: number; threads: number };
  /** cse-lm:pretrain flags; maxTime 0 means one full epoch with no clock (a pure function of the inputs) */
  cse: { hidden: number; seqLen: number; batch: number; epochs: number; maxTime: number };
  elmo: { dim: number; proj: number; layers: number; window: number; batchSize: number; maxSteps: number; negatives: number; maxVocab: number };
  bertPretrain: { hidden: number; layers: number; heads: number; intermediate: number; seqLen: number; steps: number; batch: number; vocabSize: number; maxLines: number };
  lite: { hidden: number; batch: number; epochs: number; optimizer: 'sgd' | 'adam' | 'adamw'; lr: number; limitTrain: number; limitEval: number; maxTime: number };
  bert: { batch: number; epochs: number; lr: number; maxLength: number; warmup: number; limitTrain: number; limitEval: number; maxTime: number };
  /** test instances whose attention the Su Fig. 3 / Table V / Fig. 4 analysis reads (per dataset and fold); 0: all */
  attentionLimit: number;
}

export type BudgetName = 'smoke' | 'cpu' | 'paper';
export const BUDGET_NAMES: readonly BudgetName[] = ['smoke', 'cpu', 'paper'];

const smoke: Budget = {
  name: 'smoke',
  description: 'tiny models on tiny subsets so the whole matrix runs in a few minutes on 2 cores (CI); the numbers say nothing about the methods',
  seed: 42,
  corpusSampleLines: 200,
  glove: { dim: 8, window: 5, minCount: 2, iterations: 2, threads: 1 },
  cse: { hidden: 8, seqLen: 50, batch: 16, epochs: 1, maxTime: 0 },
  elmo: { dim: 16, proj: 8, layers: 1, window: 10, batchSize: 8, maxSteps: 3, negatives: 64, maxVocab: 2000 },
  bertPretrain: { hidden: 16, layers: 1, heads: 2, intermediate: 32, seqLen: 32, steps: 3, batch: 8, vocabSize: 600, maxLines: 300 },
  lite: { hidden: 8, batch: 16, epochs: 1, optimizer: 'adam', lr: 1e-3, limitTrain: 48, limitEval: 32, maxTime: 0 },
  bert: { batch: 16, epochs: 1, lr: 1e-4, maxLength: 64, warmup: 0.1, limitTrain: 48, limitEval: 32, maxTime: 0 },
  attentionLimit: 32,
};

/**
 * What this 2-core machine does with `--workers 2` (one core a cell), each cell within about 80 minutes (a table takes hours): the README's
 * pre-training defaults except CSE (5 minutes a direction instead of 75 s) and ELMo (600 steps of 32 × 20 tokens: one epoch of the
 * whole corpus would take about 2 hours), whole datasets, 3 epochs capped at 55 minutes.
 */
const cpu: Budget = {
  name: 'cpu',
  description: 'what a 2-core CPU machine does with two cells at a time, each cell within about 80 minutes (Table 2 on ChemProt: 2.4 hours): the README\'s pre-training defaults on whole corpora (CSE 5 minutes a direction, ELMo 600 steps), full datasets, 3 epochs capped at 55 minutes a cell',
  seed: 42,
  corpusSampleLines: 0,
  glove: { dim: 100, window: 15, minCount: 5, iterations: 15, threads: 2 },
  cse: { hidden: 128, seqLen: 100, batch: 16, epochs: 1, maxTime: 300 },
  elmo: { dim: 256, proj: 64, layers: 2, window: 20, batchSize: 32, maxSteps: 600, negatives: 1024, maxVocab: 20000 },
  bertPretrain: { hidden: 128, layers: 2, heads: 2, intermediate: 512, seqLen: 128, steps: 2000, batch: 16, vocabSize: 8000, maxLines: 0 },
  lite: { hidden: 256, batch: 32, epochs: 3, optimizer: 'adam', lr: 1e-3, limitTrain: 0, limitEval: 0, maxTime: 3300 },
  bert: { batch: 32, epochs: 3, lr: 1e-4, maxLength: 128, warmup: 0.1, limitTrain: 0, limitEval: 0, maxTime: 3300 },
  attentionLimit: 0,
};

/** The papers' hyper-parameters, for GPU machines: Hiai's batch 32, hidden 256, SGD 0.1; Su's lr 2e-5, batch 32, 10 epochs, max length 128. */
const paper: Budget = {
  name: 'paper',
  description: "the papers' hyper-parameters (Hiai et al.: batch 32, hidden 256, SGD lr 0.1; Su & Vijay-Shanker: lr 2e-5, batch 32, 10 epochs, max length 128), for GPU machines",
  seed: 42,
  corpusSampleLines: 0,
  glove: { dim: 100, window: 15, minCount: 5, iterations: 50, threads: 2 },
  cse: { hidden: 2048, seqLen: 250, batch: 100, epochs: 10, maxTime: 0 },
  elmo: { dim: 4096, proj: 512, layers: 2, window: 20, batchSize: 128, maxSteps: 0, negatives: 8192, maxVocab: 100000 },
  bertPretrain: { hidden: 768, layers: 12, heads: 12, intermediate: 3072, seqLen: 128, steps: 100000, batch: 256, vocabSize: 30000, maxLines: 0 },
  lite: { hidden: 256, batch: 32, epochs: 30, optimizer: 'sgd', lr: 0.1, limitTrain: 0, limitEval: 0, maxTime: 0 },
  bert: { batch: 32, epochs: 10, lr: 2e-5, maxLength: 128, warmup: 0.1, limitTrain: 0, limitEval: 0, maxTime: 0 },
  attentionLimit: 0,
};

const BUDGETS: Record<BudgetName, Budget> = { smoke, cpu, paper };

export function budget(name: string): Budget {
  if (!(BUDGET_NAMES as readonly string[]).includes(name)) throw new UserError(`unknown budget '${name}'; expected one of ${BUDGET_NAMES.join(', ')}`);
  return structuredClone(BUDGETS[name as BudgetName]);
}
