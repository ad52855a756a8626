// nx run cse-lm:pretrain — trains flair-style forward and backward character LMs and prints their
// held-out bits per character beside a character bigram's.
import { existsSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import {
  COMMON_FLAGS, CheckpointStore, JsonlWriter, UserError, artifactDir, defineCommand, findData, formatDuration, initBackend, pick, runCli,
} from '@biore/runtime';
import {
  CharDictionary, CharLanguageModel, charLMConfig, countChars, deriveCorpus, documentsToStream, estimateBigram,
  evaluate, heldOutStream, loadCheckpoint, openCharCorpus, readDocuments, trainLanguageModel, checkCharCorpus, type CharCorpus,
} from '@biore/charlm';
import { defaultWorkers } from '@biore/nn';
import { MANIFEST, openCorpus } from '@biore/corpus';

const DEFAULT_SOURCE = 'text/pubmed/PubMedAbstract_1MB.txt';

/**
 * The no-argument run is sized for a 2-core CPU: about 75 s of training per direction. At these sizes
 * the LM takes ~10× more updates in that time than at flair's hidden 256 / seq-len 250, which is what
 * gets it below the bigram baseline; pass --hidden 256 --seq-len 250 --max-time … for the larger model.
 */
const DEFAULTS = { hidden: 128, seqLen: 100, batch: 16, maxTimeSec: 75 };

/**
 * The corpus: --corpus (a folder built by `nx run corpus:build`, found by its manifest.json, or any folder in
 * flair's layout), else the embedded default derived from the PubMed sample (deterministic, so the figures in
 * the README are reproducible; pass --corpus artifacts/corpus/local-all for the built corpus).
 */
function resolveCorpus(flag: string | undefined, data: string | undefined): { corpus: CharCorpus; what: string } {
  if (flag) {
    const p = resolve(flag);
    if (p.endsWith('.json') || existsSync(join(p, MANIFEST))) {
      const c = openCorpus(p);
      return { corpus: checkCharCorpus({ root: c.dir, train: c.trainFiles, valid: c.validFile, test: c.testFile }), what: `${c.dir} (built corpus '${c.manifest.name}')` };
    }
    return { corpus: openCharCorpus(p), what: p };
  }
  const found = findData('text', data);
  const src = join(found.path, 'pubmed', 'PubMedAbstract_1MB.txt');
  const c = deriveCorpus(src, artifactDir('cse-lm/corpus'));
  const d = c.info.documents;
  return { corpus: c, what: `default: ${DEFAULT_SOURCE} from data root ${found.root.root} (${found.root.source}), split ${d.train}/${d.valid}/${d.test} documents (train/valid/test) into ${c.root}` };
}

const command = defineCommand({
  name: 'cse-lm:pretrain',
  summary: "Train flair-style forward and backward character LMs (contextual string embeddings) and report held-out bits per character beside a character bigram's.",
  examples: ['nx run cse-lm:pretrain', 'nx run cse-lm:pretrain --corpus artifacts/corpus/local-all --hidden 256 --seq-len 250 --max-time 1800 --resume'],
  flags: {
    direction: { type: 'string', default: 'both', choices: ['forward', 'backward', 'both'], description: 'which LMs to train' },
    ...pick(COMMON_FLAGS, 'corpus', 'data', 'backend', 'workers'),
    out: { ...COMMON_FLAGS.out, description: 'output folder (default artifacts/cse-lm): <out>/forward, <out>/backward, their checkpoints and metrics' },
    hidden: { ...COMMON_FLAGS.hidden, default: DEFAULTS.hidden, description: 'LSTM hidden size (flair PubMed LMs: 2048)' },
    layers: { ...COMMON_FLAGS.layers, default: 1 },
    'embedding-size': { type: 'int', min: 1, default: 100, description: 'character embedding size' },
    nout: { type: 'int', min: 1, description: 'projection of the LSTM output before the decoder (flair: none)' },
    dropout: { ...COMMON_FLAGS.dropout, default: 0.1 },
    'seq-len': { type: 'int', min: 2, default: DEFAULTS.seqLen, description: 'characters per truncated-BPTT window' },
    batch: { ...COMMON_FLAGS.batch, default: DEFAULTS.batch, description: 'rows the text is laid out in' },
    epochs: { ...COMMON_FLAGS.epochs, default: 1 },
    'max-time': { ...COMMON_FLAGS['max-time'], default: DEFAULTS.maxTimeSec, min: 1, description: 'seconds of training a direction (over resumed parts too), then validate, save and stop' },
    lr: { ...COMMON_FLAGS.lr, default: 20, description: 'SGD learning rate (flair: 20)' },
    clip: { ...COMMON_FLAGS.clip, default: 0.25 },
    anneal: { type: 'number', min: 0, exclusiveMin: true, max: 1, default: 0.25, description: 'lr factor after a validation plateau' },
    patience: { type: 'int', min: 0, default: 1, description: 'validations without improvement before annealing' },
    seed: { ...COMMON_FLAGS.seed, default: 1 },
    'max-chars': { type: 'int', min: 2, default: 300, description: 'largest character dictionary' },
    'checkpoint-every': { type: 'number', min: 1, default: 60, placeholder: 'SECONDS', description: 'seconds between checkpoints (and one at every validation)' },
    'valid-every': { type: 'int', min: 0, default: 0, placeholder: 'WINDOWS', description: 'validate every N windows besides each epoch end; 0: epoch ends only' },
    'no-case-flip': { type: 'boolean', description: "turn off flair's random case flips of 1 % + 1 % of the training documents" },
    resume: { ...COMMON_FLAGS.resume, description: 'continue each direction from <out>/<direction>.checkpoint (same settings)' },
    force: { type: 'boolean', description: 'discard existing checkpoints and start over' },
  },
});

async function main(): Promise<void> {
  const f = command.parse();
  const dirs = f.direction === 'both' ? ['forward', 'backward'] : [f.direction];
  const backend = await initBackend(f.backend);
  console.error(`backend: ${backend.backend} (${backend.package}${backend.threads ? `, ${backend.threads} thread(s)` : ''})`);
  const { corpus, what } = resolveCorpus(f.corpus, f.data);
  console.error(`corpus: ${what}`);
  const outRoot = resolve(f.out ?? artifactDir('cse-lm'));
  const opts = {
    seqLen: f['seq-len'], batch: f.batch, epochs: f.epochs, maxTimeSec: f['max-time'], lr: f.lr, clip: f.clip, annealFactor: f.anneal, patience: f.patience,
    caseFlip: !f['no-case-flip'], seed: f.seed, checkpointEverySec: f['checkpoint-every'], validEveryWindows: f['valid-every'],
  };

  // one dictionary for both directions, from the training splits (flair: characters of the corpus)
  const counts = new Map<string, number>();
  for (const file of corpus.train) countChars(readDocuments(file).join('\n') + '\n', counts);
  const freshDictionary = CharDictionary.fromCounts(counts, f['max-chars']);
  const t0 = performance.now();
  const summary: Record<string, unknown>[] = [];
  for (const direction of dirs) {
    const forward = direction === 'forward';
    const outDir = join(outRoot, direction);
    const ckptDir = join(outRoot, `${direction}.checkpoint`);
    const store = new CheckpointStore(ckptDir);
    if (f.force) { rmSync(ckptDir, { recursive: true, force: true }); rmSync(store.dir, { recursive: true, force: true }); }
    if (!f.resume && store.latest()) throw new UserError('holds a checkpoint of an earlier run: --resume to continue it, --force to start over', { file: ckptDir });
    const resume = f.resume ? (store.latest() ? loadCheckpoint(ckptDir) : (() => { throw new UserError('--resume: no checkpoint to resume from', { file: ckptDir }); })()) : undefined;
    if (resume && resume.model.config.isForwardLm !== forward) throw new UserError(`the checkpoint holds a ${resume.model.config.isForwardLm ? 'forward' : 'backward'} LM, not a ${direction} one`, { file: ckptDir });
    if (resume) {
      const given: [string, unknown, unknown][] = [
        ['hidden', f.hidden, resume.model.config.hiddenSize], ['layers', f.layers, resume.model.config.layers],
        ['embedding-size', f['embedding-size'], resume.model.config.embeddingSize], ['nout', f.nout, resume.model.config.nout], ['dropout', f.dropout, resume.model.config.dropout],
      ];
      for (const [k, v, have] of given) {
        if (v !== undefined && Number(v) !== have) throw new UserError(`--${k} ${v} differs from the checkpoint's ${have}; drop the flag to resume, or start afresh without --resume`, { file: ckptDir });
      }
    }
    const model = resume?.model ?? new CharLanguageModel(charLMConfig({
      vocabSize: freshDictionary.size, isForwardLm: forward, hiddenSize: f.hidden, layers: f.layers,
      embeddingSize: f['embedding-size'], nout: f.nout ?? null, dropout: f.dropout,
    }), freshDictionary);
    const dict = model.dictionary;
    const c = model.config;
    console.error(`\n${direction} LM: ${dict.size} characters, embedding ${c.embeddingSize}, hidden ${c.hiddenSize} × ${c.layers} layer(s)${c.nout ? `, projection ${c.nout}` : ''}, dropout ${c.dropout}; seq-len ${opts.seqLen}, batch ${opts.batch}, lr ${opts.lr}, max ${opts.epochs} epoch(s) / ${formatDuration(opts.maxTimeSec)}${resume ? `; resuming at epoch ${resume.state.epoch + 1}, window ${resume.state.window}` : ''}`);

    // the baseline: a character bigram on the same training text, read in the same direction
    const bigram = estimateBigram(corpus.train.map((file) => documentsToStream(readDocuments(file), dict, { forward })), dict.size);
    const metrics = new JsonlWriter(join(outRoot, `${direction}.metrics.jsonl`));
    const result = await trainLanguageModel(model, corpus, {
      ...opts, outDir, checkpointDir: ckptDir, metrics, progressLabel: `${direction}`, workers: f.workers ?? defaultWorkers(),
    }, resume);
    if (result.stopped === 'signal') {
      process.stderr.write(`stopped by ${result.signal}: ${direction} training state saved in ${ckptDir}; continue with --resume\n`);
      process.exit(result.signal === 'SIGINT' ? 130 : 143);
    }
    const best = CharLanguageModel.load(outDir);
    const test = heldOutStream(corpus.test, dict, forward, opts.batch);
    const valid = heldOutStream(corpus.valid, dict, forward, opts.batch);
    const lmTest = evaluate(best, test, opts.seqLen);
    const lmValid = evaluate(best, valid, opts.seqLen);
    const row = {
      direction,
      chars: result.state.chars,
      epochs: result.state.epoch + (result.state.window > 0 || result.state.splitPos > 0 ? 1 : 0),
      stopped: result.stopped,
      charsPerSec: Math.round(result.charsPerSec),
      lr: result.state.lr,
      lm: { validBitsPerChar: lmValid.bitsPerChar, testBitsPerChar: lmTest.bitsPerChar, testPerplexity: lmTest.perplexity },
      bigram: { k: bigram.k, validBitsPerChar: bigram.bitsPerCharBatched(valid), testBitsPerChar: bigram.bitsPerCharBatched(test) },
    };
    best.save(outDir, { trainedChars: row.chars, validBitsPerChar: lmValid.bitsPerChar, testBitsPerChar: lmTest.bitsPerChar, bigramTestBitsPerChar: row.bigram.testBitsPerChar, corpus: corpus.root });
    metrics.write({ event: 'test', ...row });
    summary.push(row);
    console.error(`${direction}: held-out test bits/char  LM ${lmTest.bitsPerChar.toFixed(4)}  vs  bigram ${row.bigram.testBitsPerChar.toFixed(4)} (add-k, k=${bigram.k})   [valid: LM ${lmValid.bitsPerChar.toFixed(4)}, bigram ${row.bigram.validBitsPerChar.toFixed(4)}]; ${row.chars} chars trained at ${row.charsPerSec} chars/s; saved to ${outDir}`);
    best.dispose();
    model.dispose();
  }
  const seconds = (performance.now() - t0) / 1000;
  console.log(JSON.stringify({ backend: backend.backend, corpus: corpus.root, out: outRoot, seconds: Math.round(seconds), results: summary }, null, 2));
}

runCli(main);
