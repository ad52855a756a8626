// The papers' tables and figures as one matrix of cells. A cell shared by two tables (Table 2's Proposed3 on
// ChemProt is Table 4's last row and Table 5's tags column) has one spec, so it is one cell, computed once.
import { UserError } from '@biore/runtime';
import type { BertModelSpec, ExperimentSpec, LiteModelSpec } from '@biore/re-model';
import type { Budget } from './budgets.ts';
import { depRef, type CellDef, type Json, type Matrix } from './cells.ts';

export const PRESETS = ['pubmed', 'pubmed+chemrxiv', 'pubmed+pmc', 'pubmed+pmc+chemrxiv'] as const;
export type Preset = (typeof PRESETS)[number];
/** The corpus Hiai et al.'s Proposed3 pre-trains on (Table 4: its last row is Table 2's Proposed3). */
export const DEFAULT_PRESET: Preset = 'pubmed+pmc+chemrxiv';

export const STACKS = ['glove', 'glove+cse', 'glove+elmo', 'glove+cse+elmo'] as const;
export type Stack = (typeof STACKS)[number];
export const STACK_NAMES: Record<Stack, string> = {
  glove: 'Baseline (GloVe)', 'glove+cse': 'Proposed1 (GloVe+CSE)', 'glove+elmo': 'Proposed2 (GloVe+ELMo)', 'glove+cse+elmo': 'Proposed3 (GloVe+CSE+ELMo)',
};

export const HEADS = ['cls', 'cls+att_ll', 'cls+lstm_ll', 'att_ll', 'lstm_ll', 'att_cls', 'lstm_cls'] as const;
export type Head = (typeof HEADS)[number];

export const FOLDS = Array.from({ length: 10 }, (_, i) => i + 1);
/** Datasets with ten cross-validation folds (GAD: BioBERT's folds; AIMed: document-disjoint folds). */
export const FOLDED = new Set(['gad', 'aimed']);

export const TABLE_IDS = ['hiai-table2', 'hiai-table3', 'hiai-table4', 'hiai-table5', 'su-table3', 'su-table4', 'su-attention'] as const;
export type TableId = (typeof TABLE_IDS)[number];

export interface TableDef {
  id: TableId;
  title: string;
  /** the cells whose results the table shows */
  cells: string[];
}

export interface Study {
  budget: Budget;
  matrix: Matrix;
  tables: TableDef[];
}

/** An RE cell's id: what it trains on and with what. */
export function reCellId(dataset: string, fold: number | undefined, indicator: string, model: string): string {
  return `re/${dataset}${fold !== undefined ? `/fold${fold}` : ''}/${indicator}/${model}`;
}

export const liteModelName = (stack: Stack, csePreset: Preset = DEFAULT_PRESET) => (stack.includes('cse') && csePreset !== DEFAULT_PRESET ? `${stack}@cse-${csePreset}` : stack);
export const bertModelName = (head: Head) => `bert-${head}`;

export function tableIds(s: string | undefined): TableId[] {
  if (!s || s === 'all') return [...TABLE_IDS];
  const ids = s.split(',').map((x) => x.trim());
  for (const id of ids) if (!(TABLE_IDS as readonly string[]).includes(id)) throw new UserError(`unknown table '${id}'; expected ${TABLE_IDS.join(', ')} or all`);
  return ids as TableId[];
}

export function buildStudy(b: Budget): Study {
  const cells = new Map<string, CellDef>();
  const add = (c: CellDef) => {
    const had = cells.get(c.id);
    if (had && JSON.stringify(had) !== JSON.stringify(c)) throw new Error(`cell '${c.id}' defined twice with different specs`);
    cells.set(c.id, c);
    return c.id;
  };

  // pre-training: corpora (Table 4's four presets), a sample of each for the budget, then GloVe, CSE, ELMo, BERT
  for (const p of PRESETS) {
    add({ id: `corpus/${p}`, kind: 'corpus', params: { preset: p }, deps: {} });
    add({ id: `sample/${p}`, kind: 'corpus-sample', params: { corpus: depRef('corpus'), lines: b.corpusSampleLines }, deps: { corpus: `corpus/${p}` } });
    add({
      id: `pretrain/cse/${p}`, kind: 'cse', deps: { corpus: `sample/${p}` },
      params: { corpus: depRef('corpus'), hidden: b.cse.hidden, 'seq-len': b.cse.seqLen, batch: b.cse.batch, epochs: b.cse.epochs, maxTime: b.cse.maxTime, seed: b.seed },
    });
  }
  const text = { corpus: `sample/${DEFAULT_PRESET}` };
  add({
    id: 'pretrain/glove', kind: 'glove', deps: text,
    params: { corpus: depRef('corpus', 'text.txt'), dim: b.glove.dim, window: b.glove.window, 'min-count': b.glove.minCount, iterations: b.glove.iterations, threads: b.glove.threads, seed: b.seed },
  });
  add({
    id: 'pretrain/elmo', kind: 'elmo', deps: text,
    params: {
      corpus: depRef('corpus', 'text.txt'), dim: b.elmo.dim, proj: b.elmo.proj, layers: b.elmo.layers, window: b.elmo.window, 'batch-size': b.elmo.batchSize,
      'max-steps': b.elmo.maxSteps || null, negatives: b.elmo.negatives, 'max-vocab': b.elmo.maxVocab, seed: b.seed,
    },
  });
  add({
    id: 'pretrain/bert', kind: 'bert-pretrain', deps: text,
    params: {
      corpus: depRef('corpus', 'text.txt'), hidden: b.bertPretrain.hidden, layers: b.bertPretrain.layers, heads: b.bertPretrain.heads, intermediate: b.bertPretrain.intermediate,
      'seq-len': b.bertPretrain.seqLen, 'max-position': Math.max(b.bertPretrain.seqLen, b.bert.maxLength), steps: b.bertPretrain.steps, batch: b.bertPretrain.batch,
      'vocab-size': b.bertPretrain.vocabSize, 'max-lines': b.bertPretrain.maxLines || null, seed: b.seed,
    },
  });

  const budgetSpec = (x: { epochs: number; batch: number; maxTime: number; limitTrain: number; limitEval: number }): ExperimentSpec['budget'] => ({
    epochs: x.epochs, batch: x.batch, maxTime: x.maxTime, maxSteps: 0, limitTrain: x.limitTrain, limitEval: x.limitEval, checkpointEvery: 200,
  });
  const lite = (dataset: string, fold: number | undefined, indicator: 'tags' | 'replacement', stack: Stack, csePreset: Preset = DEFAULT_PRESET): string => {
    const members: Json[] = [{ type: 'glove', path: depRef('glove'), trainable: b.lite.optimizer !== 'sgd' }];
    const deps: Record<string, string> = { glove: 'pretrain/glove' };
    if (stack.includes('cse')) { members.push({ type: 'cse', path: depRef('cse'), batchSize: 64 }); deps.cse = `pretrain/cse/${csePreset}`; }
    if (stack.includes('elmo')) { members.push({ type: 'elmo', path: depRef('elmo', 'model') }); deps.elmo = 'pretrain/elmo'; }
    const model: LiteModelSpec = {
      family: 'lite', embeddings: (members.length === 1 ? members[0] : { type: 'stack', members }) as unknown as LiteModelSpec['embeddings'],
      hidden: b.lite.hidden, dropoutEmbedding: 0.3, dropoutOutput: 0.5, maxTokens: 150,
    };
    const spec: ExperimentSpec = {
      version: 1, dataset, ...(fold !== undefined ? { fold } : {}), indicator, model,
      optimizer: { name: b.lite.optimizer, lr: b.lite.lr, weightDecay: 0.01, warmup: 0, schedule: 'constant', clipNorm: 5, accumulate: 1 },
      budget: budgetSpec(b.lite), seed: b.seed,
    };
    return add({ id: reCellId(dataset, fold, indicator, liteModelName(stack, csePreset)), kind: 're', params: { spec: spec as unknown as Json }, deps });
  };
  const bert = (dataset: string, fold: number | undefined, head: Head): string => {
    const model: BertModelSpec = { family: 'bert', bert: depRef('bert', 'model') as unknown as string, head, maxLength: b.bert.maxLength, dropout: 0.1, clsVector: 'pooled', markerTokens: 'reference' };
    const spec: ExperimentSpec = {
      version: 1, dataset, ...(fold !== undefined ? { fold } : {}), indicator: 'replacement', model,
      optimizer: { name: 'adamw', lr: b.bert.lr, weightDecay: 0.01, warmup: b.bert.warmup, schedule: 'linear', clipNorm: 1, accumulate: 1 },
      budget: budgetSpec(b.bert), seed: b.seed,
    };
    return add({ id: reCellId(dataset, fold, 'replacement', bertModelName(head)), kind: 're', params: { spec: spec as unknown as Json }, deps: { bert: 'pretrain/bert' } });
  };
  const attention = (modelCell: string): string =>
    add({ id: `attention/${modelCell.slice(3)}`, kind: 'attention', params: { limit: b.attentionLimit, examples: 3 }, deps: { model: modelCell } });
  const folds = (dataset: string) => (FOLDED.has(dataset) ? FOLDS : [undefined]);

  const t2: string[] = [], t4: string[] = [], t5: string[] = [], s3: string[] = [], s4: string[] = [], sa: string[] = [];
  for (const stack of STACKS) {
    t2.push(lite('chemprot', undefined, 'tags', stack));
    for (const k of FOLDS) t2.push(lite('gad', k, 'replacement', stack));
    for (const ind of ['tags', 'replacement'] as const) t5.push(lite('chemprot', undefined, ind, stack));
    for (const k of FOLDS) t5.push(lite('gad', k, 'replacement', stack));
  }
  t2.push(bert('chemprot', undefined, 'cls'));
  for (const k of FOLDS) t2.push(bert('gad', k, 'cls'));
  for (const p of PRESETS) for (const stack of ['glove+cse', 'glove+cse+elmo'] as const) t4.push(lite('chemprot', undefined, 'tags', stack, p));
  for (const ds of ['aimed', 'ddi', 'chemprot']) {
    for (const head of ['cls', 'cls+lstm_ll', 'cls+att_ll'] as const) for (const k of folds(ds)) s3.push(bert(ds, k, head));
    for (const head of ['cls', 'cls+att_ll', 'lstm_ll', 'att_ll', 'lstm_cls', 'att_cls'] as const) for (const k of folds(ds)) s4.push(bert(ds, k, head));
    for (const k of folds(ds)) sa.push(attention(bert(ds, k, 'cls+att_ll')));
  }
  sa.push(attention(lite('chemprot', undefined, 'tags', 'glove+cse+elmo')));
  for (const k of FOLDS) sa.push(attention(lite('gad', k, 'replacement', 'glove+cse+elmo')));

  const tables: TableDef[] = [
    { id: 'hiai-table2', title: 'Hiai et al. Table 2: embedding stacks (and BERT) on GAD and ChemProt', cells: t2 },
    { id: 'hiai-table3', title: 'Hiai et al. Table 3: extraction time and memory on the ChemProt test set', cells: [] },
    { id: 'hiai-table4', title: 'Hiai et al. Table 4: the CSE pre-training corpus', cells: t4 },
    { id: 'hiai-table5', title: 'Hiai et al. Table 5: entity indicator tags vs replacement', cells: t5 },
    { id: 'su-table3', title: 'Su & Vijay-Shanker Table III: last-layer heads on PPI (AIMed), DDI and ChemProt', cells: s3 },
    { id: 'su-table4', title: 'Su & Vijay-Shanker Table IV: without [CLS], and [CLS] of the intermediate layers', cells: s4 },
    { id: 'su-attention', title: 'Su & Vijay-Shanker Fig. 3, Table V, Fig. 4: attention weights', cells: sa },
  ];
  return { budget: b, matrix: { cells }, tables };
}
