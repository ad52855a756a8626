// nx run cse-lm:pretrain — trains flair-style forward and backward character LMs and prints their
// held-out bits per character beside a character bigram's.
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import {
  JsonlWriter, UserError, artifactDir, findData, formatDuration, initBackend, numFlag, parseFlags, runCli,
} from '@biore/runtime';
import {
  CharDictionary, CharLanguageModel, charLMConfig, countChars, deriveCorpus, documentsToStream, estimateBigram,
  evaluate, heldOutStream, loadCheckpoint, openCharCorpus, readDocuments, trainLanguageModel, checkCharCorpus, type CharCorpus,
} from '@biore/charlm';
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

async function main(): Promise<void> {
  const { values: f } = parseFlags({
    direction: { type: 'string', default: 'both' },
    corpus: { type: 'string' },
    data: { type: 'string' },
    out: { type: 'string' },
    hidden: { type: 'string' },
    layers: { type: 'string' },
    'embedding-size': { type: 'string' },
    nout: { type: 'string' },
    dropout: { type: 'string' },
    'seq-len': { type: 'string' },
    batch: { type: 'string' },
    epochs: { type: 'string' },
    'max-time': { type: 'string' },
    lr: { type: 'string' },
    clip: { type: 'string' },
    anneal: { type: 'string' },
    patience: { type: 'string' },
    seed: { type: 'string' },
    'max-chars': { type: 'string' },
    'checkpoint-every': { type: 'string' },
    'valid-every': { type: 'string' },
    'no-case-flip': { type: 'boolean' },
    resume: { type: 'boolean' },
    backend: { type: 'string' },
  });
  const dirs = f.direction === 'both' ? ['forward', 'backward'] : f.direction === 'forward' || f.direction === 'backward' ? [f.direction] : undefined;
  if (!dirs) throw new UserError(`--direction expects forward, backward or both, got '${f.direction}'`);
  const num = (k: string, d: number, min = 0) => {
    const v = numFlag(f[k as keyof typeof f] as string | undefined, k, d);
    if (!(v >= min)) throw new UserError(`--${k} must be at least ${min}, got ${v}`);
    return v;
  };
  const int = (k: string, d: number, min = 1) => {
    const v = num(k, d, min);
    if (!Number.isInteger(v)) throw new UserError(`--${k} expects an integer, got ${v}`);
    return v;
  };
  const backend = await initBackend(f.backend);
  console.error(`backend: ${backend.backend} (${backend.package}${backend.threads ? `, ${backend.threads} thread(s)` : ''})`);
  const { corpus, what } = resolveCorpus(f.corpus, f.data);
  console.error(`corpus: ${what}`);
  const outRoot = resolve(f.out ?? artifactDir('cse-lm'));
  const opts = {
    seqLen: int('seq-len', DEFAULTS.seqLen), batch: int('batch', DEFAULTS.batch), epochs: int('epochs', 1), maxTimeSec: num('max-time', DEFAULTS.maxTimeSec, 1),
    lr: num('lr', 20), clip: num('clip', 0.25), annealFactor: num('anneal', 0.25), patience: int('patience', 1, 0),
    caseFlip: !f['no-case-flip'], seed: int('seed', 1, 0), checkpointEverySec: num('checkpoint-every', 60, 1), validEveryWindows: int('valid-every', 0, 0),
  };
  let stop = false;
  const onSignal = (sig: string) => {
    if (stop) process.exit(130);
    stop = true;
    process.stderr.write(`\n${sig}: finishing the current window and writing a checkpoint (send again to quit at once)\n`);
  };
  process.on('SIGINT', () => onSignal('SIGINT'));
  process.on('SIGTERM', () => onSignal('SIGTERM'));

  // one dictionary for both directions, from the training splits (flair: characters of the corpus)
  const counts = new Map<string, number>();
  for (const file of corpus.train) countChars(readDocuments(file).join('\n') + '\n', counts);
  const freshDictionary = CharDictionary.fromCounts(counts, int('max-chars', 300, 2));
  const t0 = performance.now();
  const summary: Record<string, unknown>[] = [];
  for (const direction of dirs) {
    const forward = direction === 'forward';
    const outDir = join(outRoot, direction);
    const ckptDir = join(outRoot, `${direction}.checkpoint`);
    const resume = f.resume ? (existsSync(ckptDir) ? loadCheckpoint(ckptDir) : (() => { throw new UserError('--resume: no checkpoint to resume from', { file: ckptDir }); })()) : undefined;
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
      vocabSize: freshDictionary.size, isForwardLm: forward, hiddenSize: int('hidden', DEFAULTS.hidden), layers: int('layers', 1),
      embeddingSize: int('embedding-size', 100), nout: f.nout ? int('nout', 0) : null, dropout: num('dropout', 0.1),
    }), freshDictionary);
    const dict = model.dictionary;
    const c = model.config;
    console.error(`\n${direction} LM: ${dict.size} characters, embedding ${c.embeddingSize}, hidden ${c.hiddenSize} × ${c.layers} layer(s)${c.nout ? `, projection ${c.nout}` : ''}, dropout ${c.dropout}; seq-len ${opts.seqLen}, batch ${opts.batch}, lr ${opts.lr}, max ${opts.epochs} epoch(s) / ${formatDuration(opts.maxTimeSec)}${resume ? `; resuming at epoch ${resume.state.epoch + 1}, window ${resume.state.window}` : ''}`);

    // the baseline: a character bigram on the same training text, read in the same direction
    const bigram = estimateBigram(corpus.train.map((file) => documentsToStream(readDocuments(file), dict, { forward })), dict.size);
    const metrics = new JsonlWriter(join(outRoot, `${direction}.metrics.jsonl`));
    const result = await trainLanguageModel(model, corpus, {
      ...opts, outDir, checkpointDir: ckptDir, metrics, progressLabel: `${direction}`, shouldStop: () => stop,
    }, resume);
    if (result.stopped === 'signal') {
      throw new UserError(`interrupted: training state saved; continue with --resume`, { file: ckptDir });
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
