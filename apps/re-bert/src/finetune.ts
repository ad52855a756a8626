// nx run re-bert:finetune — fine-tunes a BERT folder with one of Su & Vijay-Shanker's heads on an RE dataset,
// selects the epoch on dev, and scores test. Flags → an ExperimentSpec → runExperiment (libs/re-model).
import { artifactDir, defineCommand, runCli } from '@biore/runtime';
import { BERT_HEADS, BERT_RE_DEFAULTS, EXPERIMENT_FLAGS, budgetFromFlags, datasetFromFlags, defaultOptimizer, experimentCommand, specPath } from '@biore/re-model';

const command = defineCommand({
  name: 're-bert:finetune',
  summary: "Fine-tune BERT with one of Su & Vijay-Shanker's last-layer heads on an RE dataset, select on dev, score test.",
  examples: [
    'nx run re-bert:finetune --head cls+att_ll --dataset chemprot --lr 1e-4 --epochs 3',
    'nx run re-bert:finetune --model path/to/biobert --head lstm_ll --dataset aimed --fold 1',
  ],
  flags: {
    ...EXPERIMENT_FLAGS,
    model: { type: 'string', placeholder: 'DIR', description: 'BERT folder (biore or Hugging Face layout; default artifacts/bert from re-bert:pretrain)' },
    head: { type: 'string', default: BERT_RE_DEFAULTS.head, choices: BERT_HEADS, description: 'classification head over the last layer' },
    indicator: { type: 'string', default: 'replacement', choices: ['tags', 'replacement'], description: 'entity indicators (replacement: @CHEMICAL$-style anonymisation)' },
    markers: { type: 'string', default: BERT_RE_DEFAULTS.markerTokens, choices: ['reference', 'unused'], description: "indicator tokens as word pieces ('reference') or mapped onto [unusedN] vocabulary slots" },
    'cls-vector': { type: 'string', default: BERT_RE_DEFAULTS.clsVector, choices: ['pooled', 'raw'], description: '[CLS] through the pooler, or its raw last-layer vector' },
    'max-length': { type: 'int', default: BERT_RE_DEFAULTS.maxLength, min: 8, description: 'word pieces per instance, [CLS] and [SEP] included (paper: 128)' },
    dropout: { type: 'number', default: BERT_RE_DEFAULTS.dropout, min: 0, max: 0.99, description: 'dropout before the softmax layer' },
    'lstm-hidden': { type: 'int', min: 1, description: 'LSTM units of the lstm_* heads (default: the BERT hidden size)' },
    lr: { type: 'number', default: 2e-5, min: 0, exclusiveMin: true, description: 'peak learning rate of AdamW (paper: 2e-5)' },
    warmup: { type: 'number', default: 0.1, min: 0, max: 0.99, description: 'fraction of the steps with linear warm-up (then linear decay)' },
    'weight-decay': { type: 'number', default: 0.01, min: 0, description: 'AdamW decoupled weight decay (not on biases and LayerNorm)' },
    clip: { type: 'number', default: 1, min: 0, description: 'global gradient-norm clip; 0: none' },
    accumulate: { type: 'int', default: 1, min: 1, description: 'split each batch into this many micro-batches (memory; same updates)' },
  },
});

runCli(async () => {
  const f = command.parse();
  await experimentCommand(f, () => ({
    version: 1, ...datasetFromFlags(f, f.indicator), seed: f.seed,
    model: {
      family: 'bert', bert: specPath(f.model ?? artifactDir('bert')), head: f.head, maxLength: f['max-length'], dropout: f.dropout,
      clsVector: f['cls-vector'] as 'pooled' | 'raw', markerTokens: f.markers as 'reference' | 'unused', ...(f['lstm-hidden'] !== undefined ? { lstmHidden: f['lstm-hidden'] } : {}),
    },
    optimizer: { ...defaultOptimizer('bert'), lr: f.lr, warmup: f.warmup, weightDecay: f['weight-decay'], clipNorm: f.clip, accumulate: f.accumulate },
    budget: budgetFromFlags(f),
  }));
});
