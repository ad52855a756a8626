// nx run re-lite:train — trains the BiLSTM-attention RE model over an embedding stack (Hiai et al.), selects the
// epoch on dev, scores test. Flags → an ExperimentSpec → runExperiment (libs/re-model).
import { defineCommand, runCli } from '@biore/runtime';
import '@biore/embeddings';
import { embeddingSpec } from '@biore/embeddings';
import { EXPERIMENT_FLAGS, LITE_DEFAULTS, budgetFromFlags, datasetFromFlags, defaultOptimizer, experimentCommand, specPaths } from '@biore/re-model';

const command = defineCommand({
  name: 're-lite:train',
  summary: 'Train the lite RE model (BiLSTM + attention over stacked GloVe / CSE / ELMo / BERT embeddings), select on dev, score test.',
  examples: [
    'nx run re-lite:train --dataset chemprot --embeddings glove+cse --fine-tune-glove --indicator replacement --epochs 3',
    'nx run re-lite:train --spec artifacts/re-lite/<run>/spec.json --resume',
  ],
  flags: {
    ...EXPERIMENT_FLAGS,
    embeddings: { type: 'string', default: 'glove', placeholder: 'glove+cse+elmo', description: "embedding members joined by '+' (glove, cse, elmo, bert), or an embedder spec .json" },
    glove: { type: 'string', placeholder: 'DIR', description: 'GloVe folder (default artifacts/glove)' },
    cse: { type: 'string', placeholder: 'DIR', description: 'CSE folder with forward/ and backward/ LMs (default artifacts/cse-lm)' },
    elmo: { type: 'string', placeholder: 'DIR', description: 'ELMo folder: elmo-lm:pretrain output or a bilm-tf options.json + weights.hdf5 pair (default artifacts/elmo-lm)' },
    bert: { type: 'string', placeholder: 'DIR', description: 'BERT folder used as a frozen embedding (default artifacts/bert)' },
    'fine-tune-glove': { type: 'boolean', default: false, description: 'train the GloVe vectors with the model' },
    indicator: { type: 'string', default: 'tags', choices: ['tags', 'replacement'], description: 'entity indicators: tags around the entities, or replacement by their types (Hiai Table 5)' },
    hidden: { type: 'int', default: LITE_DEFAULTS.hidden, min: 1, description: 'LSTM units per direction' },
    'max-tokens': { type: 'int', default: LITE_DEFAULTS.maxTokens, min: 0, description: 'crop longer sentences around the entities; 0: never' },
    optimizer: { type: 'string', default: 'adam', choices: ['sgd', 'adam', 'adamw'], description: 'optimizer (Hiai et al.: SGD with lr 0.1)' },
    lr: { type: 'number', min: 0, exclusiveMin: true, description: 'learning rate (default 0.1 for sgd, 1e-3 for adam/adamw)' },
    clip: { type: 'number', default: 5, min: 0, description: 'global gradient-norm clip; 0: none' },
  },
});

runCli(async () => {
  const f = command.parse();
  await experimentCommand(f, () => {
    const embeddings = embeddingSpec(f.embeddings, { glove: f.glove, cse: f.cse, elmo: f.elmo, bert: f.bert }, f['fine-tune-glove'] ? { glove: { trainable: true } } : {});
    const optimizer = defaultOptimizer('lite', f.optimizer as 'sgd' | 'adam' | 'adamw');
    return {
      version: 1, ...datasetFromFlags(f, f.indicator), seed: f.seed,
      model: { family: 'lite', embeddings: specPaths(embeddings), hidden: f.hidden, dropoutEmbedding: LITE_DEFAULTS.dropoutEmbedding, dropoutOutput: LITE_DEFAULTS.dropoutOutput, maxTokens: f['max-tokens'] },
      optimizer: { ...optimizer, lr: f.lr ?? optimizer.lr, clipNorm: f.clip },
      budget: budgetFromFlags(f),
    };
  });
});
