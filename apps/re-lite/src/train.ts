// nx run re-lite:train — trains the BiLSTM-attention RE model over an embedding stack, selects on dev, scores test.
import { join } from 'node:path';
import { artifactDir, numFlag, parseFlags, Rng, runCli, startBackend, writeJsonAtomic } from '@biore/runtime';
import { checkIndicator, datasetInfo, experimentSplits, sampleInstances } from '@biore/re-data';
import '@biore/embeddings';
import { createREModel, evaluate, train, LITE_DEFAULTS, loadREModel, type LiteConfig } from '@biore/re-model';
import { embeddingSpec } from './embeddings-flag.ts';

runCli(async () => {
  const { values: f } = parseFlags({
    dataset: { type: 'string', default: 'chemprot' },
    fold: { type: 'string' },
    embeddings: { type: 'string', default: 'glove' },
    glove: { type: 'string' }, 'fine-tune-glove': { type: 'boolean', default: false }, cse: { type: 'string' }, elmo: { type: 'string' }, bert: { type: 'string' },
    indicator: { type: 'string', default: 'tags' },
    hidden: { type: 'string' }, epochs: { type: 'string' }, batch: { type: 'string' },
    optimizer: { type: 'string', default: 'adam' }, lr: { type: 'string' }, clip: { type: 'string' },
    'max-tokens': { type: 'string' }, 'max-train': { type: 'string' }, 'max-eval': { type: 'string' },
    seed: { type: 'string' }, out: { type: 'string' }, resume: { type: 'boolean', default: false },
    'max-time': { type: 'string' }, 'checkpoint-every': { type: 'string' },
    backend: { type: 'string' }, data: { type: 'string' },
  });
  const dataset = datasetInfo(f.dataset!).name;
  const report = await startBackend(f.backend, { rel: dataset, flag: f.data });
  const seed = numFlag(f.seed, 'seed', 42);
  const fold = f.fold !== undefined ? numFlag(f.fold, 'fold', 1) : undefined;
  const out = f.out ?? artifactDir(`re-lite/${dataset}${fold !== undefined ? `-fold${fold}` : ''}-${f.embeddings!.replace(/\+/g, '-')}-${f.indicator}`);
  const { info, train: trainSet, dev: devSet, test } = experimentSplits(dataset, { fold, dataFlag: f.data, seed });
  const indicator = checkIndicator(dataset, f.indicator!);
  const maxEval = f['max-eval'] ? numFlag(f['max-eval'], 'max-eval', 0) : undefined;
  const trainData = sampleInstances(trainSet, f['max-train'] ? numFlag(f['max-train'], 'max-train', 0) : undefined, seed);
  const devData = sampleInstances(devSet, maxEval, seed);
  const config: LiteConfig = {
    family: 'lite', labels: info.labels, indicator,
    embeddings: embeddingSpec(f.embeddings!, { glove: f.glove, cse: f.cse, elmo: f.elmo, bert: f.bert }, { fineTuneGlove: f['fine-tune-glove'] }),
    hidden: numFlag(f.hidden, 'hidden', LITE_DEFAULTS.hidden),
    dropoutEmbedding: LITE_DEFAULTS.dropoutEmbedding, dropoutOutput: LITE_DEFAULTS.dropoutOutput,
    maxTokens: numFlag(f['max-tokens'], 'max-tokens', LITE_DEFAULTS.maxTokens),
  };
  const model = await createREModel(config, new Rng(seed));
  const optimizer = f.optimizer as 'sgd' | 'adam' | 'adamw';
  const opts = {
    outDir: out, epochs: numFlag(f.epochs, 'epochs', 10), batchSize: numFlag(f.batch, 'batch', 32),
    optimizer, lr: numFlag(f.lr, 'lr', optimizer === 'sgd' ? 0.1 : 1e-3), weightDecay: 0.01, warmup: 0, schedule: 'constant' as const,
    clipNorm: numFlag(f.clip, 'clip', 5), seed, checkpointEvery: numFlag(f['checkpoint-every'], 'checkpoint-every', 200),
    maxTime: numFlag(f['max-time'], 'max-time', 0), resume: f.resume!, evalBatchSize: 64, positiveLabels: info.positiveLabels,
  };
  process.stderr.write(`training ${config.embeddings.type === 'stack' ? f.embeddings : config.embeddings.type} lite model on ${dataset}: ${trainData.length} train, ${devData.length} dev instances -> ${out}\n`);
  const t0 = performance.now();
  const result = await train(model, { train: trainData, dev: devData, trainSource: dataset }, opts, (l) => process.stderr.write(JSON.stringify(l) + '\n'));
  // a signal pauses the run (resume with --resume); a spent --max-time budget still scores the best dev model
  if (result.stoppedEarly === 'signal' || result.state.bestEpoch < 0) {
    process.stderr.write(`stopped before any epoch was scored; continue with --resume\n`);
    return;
  }
  const trainSeconds = (performance.now() - t0) / 1000;
  model.dispose();
  const best = await loadREModel(out);
  const testSet = sampleInstances(test(), maxEval, seed);
  const scores = evaluate(best, testSet, info.positiveLabels, 64, 'test');
  const summary = {
    dataset, fold, split: 'test', model: 'lite', embeddings: f.embeddings, indicator: f.indicator, seed, backend: report.backend,
    stopped: result.stoppedEarly || undefined, epochsDone: result.state.epoch, bestEpoch: result.state.bestEpoch, devF1: result.state.bestDevF1, trainSeconds: Math.round(trainSeconds),
    precision: scores.precision, recall: scores.recall, f1: scores.f1, perClass: scores.perClass, out,
  };
  writeJsonAtomic(join(out, 'test-scores.json'), summary);
  console.log(JSON.stringify(summary));
});
