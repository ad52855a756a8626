// nx run re-bert:finetune — fine-tunes a BERT folder with one of Su & Vijay-Shanker's heads on an RE dataset,
// selects the epoch on dev, and scores test (micro P/R/F1 over the positive classes).
import { checkIndicator, datasetInfo, experimentSplits, sampleInstances } from '@biore/re-data';
import { join } from 'node:path';
import { artifactDir, numFlag, parseFlags, Rng, runCli, startBackend, UserError, writeJsonAtomic } from '@biore/runtime';
import { BERT_HEADS, BERT_RE_DEFAULTS, createREModel, evaluate, loadREModel, train, type BertREConfig } from '@biore/re-model';

runCli(async () => {
  const { values: f } = parseFlags({
    model: { type: 'string' }, head: { type: 'string', default: 'cls' }, dataset: { type: 'string', default: 'chemprot' }, fold: { type: 'string' },
    indicator: { type: 'string', default: 'replacement' }, markers: { type: 'string', default: 'reference' }, 'cls-vector': { type: 'string', default: 'pooled' },
    epochs: { type: 'string' }, batch: { type: 'string' }, lr: { type: 'string' }, 'max-length': { type: 'string' }, warmup: { type: 'string' },
    'weight-decay': { type: 'string' }, clip: { type: 'string' }, dropout: { type: 'string' }, 'lstm-hidden': { type: 'string' },
    'max-train': { type: 'string' }, 'max-eval': { type: 'string' }, seed: { type: 'string' }, out: { type: 'string' },
    resume: { type: 'boolean', default: false }, accumulate: { type: 'string' }, 'max-time': { type: 'string' }, 'checkpoint-every': { type: 'string' },
    backend: { type: 'string' }, data: { type: 'string' },
  });
  const dataset = datasetInfo(f.dataset!).name;
  const head = f.head as BertREConfig['head'];
  if (!BERT_HEADS.includes(head)) throw new UserError(`--head must be one of ${BERT_HEADS.join(', ')}, got '${f.head}'`);
  const indicator = checkIndicator(dataset, f.indicator!);
  if (f.markers !== 'reference' && f.markers !== 'unused') throw new UserError(`--markers must be reference or unused, got '${f.markers}'`);
  if (f['cls-vector'] !== 'pooled' && f['cls-vector'] !== 'raw') throw new UserError(`--cls-vector must be pooled or raw, got '${f['cls-vector']}'`);
  const report = await startBackend(f.backend, { rel: dataset, flag: f.data });
  const seed = numFlag(f.seed, 'seed', 42);
  const fold = f.fold !== undefined ? numFlag(f.fold, 'fold', 1) : undefined;
  const bertDir = f.model ?? artifactDir('bert');
  const out = f.out ?? artifactDir(`re-bert/${dataset}${fold !== undefined ? `-fold${fold}` : ''}-${head.replace('+', '-')}`);
  const { info, train: trainSet, dev: devSet, test } = experimentSplits(dataset, { fold, dataFlag: f.data, seed });
  const maxEval = f['max-eval'] ? numFlag(f['max-eval'], 'max-eval', 0) : undefined;
  const trainData = sampleInstances(trainSet, f['max-train'] ? numFlag(f['max-train'], 'max-train', 0) : undefined, seed);
  const devData = sampleInstances(devSet, maxEval, seed);
  const config: BertREConfig = {
    family: 'bert', labels: info.labels, indicator, bert: bertDir, head,
    maxLength: numFlag(f['max-length'], 'max-length', BERT_RE_DEFAULTS.maxLength), dropout: numFlag(f.dropout, 'dropout', BERT_RE_DEFAULTS.dropout),
    clsVector: f['cls-vector'] as 'pooled' | 'raw', markerTokens: f.markers as 'reference' | 'unused',
    ...(f['lstm-hidden'] ? { lstmHidden: numFlag(f['lstm-hidden'], 'lstm-hidden', 0) } : {}),
  };
  const model = await createREModel(config, new Rng(seed));
  const opts = {
    outDir: out, epochs: numFlag(f.epochs, 'epochs', 10), batchSize: numFlag(f.batch, 'batch', 32),
    optimizer: 'adamw' as const, lr: numFlag(f.lr, 'lr', 2e-5), weightDecay: numFlag(f['weight-decay'], 'weight-decay', 0.01),
    warmup: numFlag(f.warmup, 'warmup', 0.1), schedule: 'linear' as const, clipNorm: numFlag(f.clip, 'clip', 1), seed,
    checkpointEvery: numFlag(f['checkpoint-every'], 'checkpoint-every', 200), maxTime: numFlag(f['max-time'], 'max-time', 0),
    resume: f.resume!, evalBatchSize: 32, positiveLabels: info.positiveLabels, accumulate: numFlag(f.accumulate, 'accumulate', 1),
  };
  process.stderr.write(`fine-tuning ${bertDir} with head ${head} on ${dataset}: ${trainData.length} train, ${devData.length} dev instances; lr ${opts.lr}, batch ${opts.batchSize}, ${opts.epochs} epochs, max length ${config.maxLength} -> ${out}\n`);
  const t0 = performance.now();
  const result = await train(model, { train: trainData, dev: devData, trainSource: dataset }, opts, (l) => process.stderr.write(JSON.stringify(l) + '\n'));
  if (result.stoppedEarly) return;
  const trainSeconds = (performance.now() - t0) / 1000;
  model.dispose();
  const best = await loadREModel(out);
  const testSet = sampleInstances(test(), maxEval, seed);
  const scores = evaluate(best, testSet, info.positiveLabels, 32, 'test');
  const summary = {
    dataset, fold, split: 'test', model: 'bert', bert: bertDir, head, indicator: f.indicator, markers: f.markers, seed, backend: report.backend,
    trainInstances: trainData.length, testInstances: testSet.length, bestEpoch: result.state.bestEpoch, devF1: result.state.bestDevF1,
    trainSeconds: Math.round(trainSeconds), precision: scores.precision, recall: scores.recall, f1: scores.f1, perClass: scores.perClass, out,
  };
  writeJsonAtomic(join(out, 'test-scores.json'), summary);
  console.log(JSON.stringify(summary));
  best.dispose();
});
