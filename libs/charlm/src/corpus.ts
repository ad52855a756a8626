import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { Rng, UserError, writeDirAtomic } from '@biore/runtime';
import type { CharDictionary } from './dictionary.ts';

/** A corpus folder in flair's layout: `train/` holding one or more split files, `valid.txt`, `test.txt`. */
export interface CharCorpus {
  root: string;
  train: string[];
  valid: string;
  test: string;
}

/**
 * Opens a corpus folder (or the folder of a `manifest.json` given by path). Missing parts and empty
 * splits are UserErrors naming the file.
 */
export function openCharCorpus(path: string): CharCorpus {
  if (!existsSync(path)) throw new UserError('corpus folder not found', { file: path });
  const root = statSync(path).isDirectory() ? path : dirname(path);
  const trainDir = join(root, 'train');
  if (!existsSync(trainDir) || !statSync(trainDir).isDirectory()) {
    throw new UserError("not a corpus folder: expected a 'train/' folder of split files beside valid.txt and test.txt", { file: root });
  }
  const train = readdirSync(trainDir).filter((f) => !f.startsWith('.')).sort().map((f) => join(trainDir, f)).filter((f) => statSync(f).isFile());
  if (train.length === 0) throw new UserError('empty corpus: the train/ folder holds no split files', { file: trainDir });
  return checkCharCorpus({ root, train, valid: join(root, 'valid.txt'), test: join(root, 'test.txt') });
}

/** Checks that a corpus's split files exist and that it has training text (for corpora opened elsewhere too). */
export function checkCharCorpus(corpus: CharCorpus): CharCorpus {
  if (corpus.train.length === 0) throw new UserError('empty corpus: no training split files', { file: corpus.root });
  for (const f of [...corpus.train, corpus.valid, corpus.test]) if (!existsSync(f)) throw new UserError(`corpus split ${basename(f)} not found`, { file: f });
  if (corpus.train.every((f) => statSync(f).size === 0)) throw new UserError('empty corpus: every training split file is empty', { file: join(corpus.root, 'train') });
  return corpus;
}

/** The documents of a split file: its non-empty lines (flair's document delimiter is the newline). */
export function readDocuments(path: string): string[] {
  if (!existsSync(path)) throw new UserError('corpus split file not found', { file: path });
  const docs = readFileSync(path, 'utf8').split('\n').map((l) => l.replace(/\r$/, '')).filter((l) => l.length > 0);
  if (docs.length === 0) throw new UserError('empty corpus split: no text in this file', { file: path });
  return docs;
}

export interface StreamOptions {
  /** false: the stream is reversed, as the backward LM reads it */
  forward: boolean;
  /** shuffles the documents of the split (flair does so for training splits) */
  rng?: Rng;
  /** with `rng`: 1 % of documents lower-cased, 1 % upper-cased, as flair's random case flip */
  caseFlip?: boolean;
}

/**
 * A split's documents as one character-id stream: each document followed by the delimiter '\n',
 * reversed as a whole for the backward LM (flair's TextDataset).
 */
export function documentsToStream(docs: readonly string[], dict: CharDictionary, opts: StreamOptions): Int32Array {
  let order = docs.slice();
  if (opts.rng) {
    const rng = opts.rng;
    order = rng.shuffle(order);
    if (opts.caseFlip) {
      order = order.map((d) => {
        const r = rng.int(100);
        return r === 0 ? d.toLowerCase() : r === 1 ? d.toUpperCase() : d;
      });
    }
  }
  const ids = dict.encode(order.map((d) => d + '\n').join(''));
  if (!opts.forward) ids.reverse();
  return ids;
}

export interface DefaultCorpusInfo {
  source: string;
  documents: { train: number; valid: number; test: number };
  heldOutEvery: number;
}

/**
 * Derives a corpus folder from a one-document-per-line text file with a deterministic held-out split:
 * of every `every` documents, the second-to-last goes to valid.txt, the last to test.txt, the rest to
 * train/train.txt. Rewritten atomically each call (cheap, and it always matches its source).
 */
export function deriveCorpus(source: string, outDir: string, every = 20): CharCorpus & { info: DefaultCorpusInfo } {
  const docs = readDocuments(source);
  if (docs.length < 3) throw new UserError(`a corpus needs at least 3 documents (lines) to split into train/valid/test; found ${docs.length}`, { file: source });
  const parts = { train: [] as string[], valid: [] as string[], test: [] as string[] };
  const k = Math.min(every, docs.length);
  docs.forEach((d, i) => {
    const r = i % k;
    (r === k - 2 ? parts.valid : r === k - 1 ? parts.test : parts.train).push(d);
  });
  const info: DefaultCorpusInfo = { source, documents: { train: parts.train.length, valid: parts.valid.length, test: parts.test.length }, heldOutEvery: k };
  writeDirAtomic(outDir, (tmp) => {
    writeDirAtomic(join(tmp, 'train'), (t) => writeFileSync(join(t, 'train.txt'), parts.train.join('\n') + '\n'));
    writeFileSync(join(tmp, 'valid.txt'), parts.valid.join('\n') + '\n');
    writeFileSync(join(tmp, 'test.txt'), parts.test.join('\n') + '\n');
    writeFileSync(join(tmp, 'derived.json'), JSON.stringify(info, null, 2) + '\n');
  });
  return { ...openCharCorpus(outDir), info };
}
