import { createHash } from 'node:crypto';
import { createWriteStream, existsSync, mkdirSync, renameSync, rmSync, type WriteStream } from 'node:fs';
import { dirname, basename, join } from 'node:path';
import { splitSentences, words } from '@biore/text';
import { UserError, writeJsonAtomic } from '@biore/runtime';
import { sourceDocuments, sourceFiles, type CorpusDocument, type SourceName, type SourceSpec } from './sources.ts';
import { sentenceKey, type ContaminationGuard, type GuardStats } from './guard.ts';
import { FingerprintSet } from './fingerprints.ts';
import type { JatsOptions } from './pmc.ts';

export const MANIFEST = 'manifest.json';
export const CORPUS_FORMAT = 'biore-corpus/1';

export interface BuildOptions {
  /** The corpus name recorded in the manifest (a preset name such as `pubmed+pmc`). */
  name: string;
  sources: SourceSpec[];
  /** Output folder; replaced atomically when the build succeeds. */
  out: string;
  /** Fraction of documents (by a hash of their id) in valid.txt and test.txt. */
  validFraction?: number;
  testFraction?: number;
  /** A new train_split_N file starts when the current one reaches this many bytes. */
  splitBytes?: number;
  /** Sentences with fewer word tokens are dropped (headings, stray numbers). */
  minTokens?: number;
  /** Sentences longer than this many characters are dropped (tables and lists that never ended). */
  maxChars?: number;
  /** Drop repeated sentences (by normalised key). Default true. */
  dedupe?: boolean;
  /** Null disables the contamination guard (the user opted out). */
  guard: ContaminationGuard | null;
  jats?: JatsOptions;
  /** Salt of the document hash that assigns splits. */
  seed?: number;
  /** Called every 1000 documents. */
  onProgress?: (docs: number) => void;
  /** Recorded in the manifest (e.g. which data root the sources came from). */
  provenance?: Record<string, unknown>;
}

export interface CorpusFileInfo {
  file: string;
  lines: number;
  bytes: number;
  sha256: string;
}

export interface SourceCounts {
  name: SourceName;
  dir: string;
  files: number;
  inputBytes: number;
  documents: number;
  sentences: number;
}

export interface CorpusManifest {
  format: string;
  name: string;
  createdAt: string;
  sources: SourceCounts[];
  options: {
    validFraction: number;
    testFraction: number;
    splitBytes: number;
    minTokens: number;
    maxChars: number;
    dedupe: boolean;
    guard: boolean;
    seed: number;
    jats: JatsOptions;
  };
  guard?: GuardStats;
  counts: {
    documents: number;
    sentences: number;
    tokens: number;
    characters: number;
    duplicateDocuments: number;
    duplicateSentences: number;
    shortOrLongSentences: number;
    guardedDocuments: number;
    guardedSentences: number;
  };
  files: { train: CorpusFileInfo[]; valid: CorpusFileInfo; test: CorpusFileInfo; documents: CorpusFileInfo };
  provenance?: Record<string, unknown>;
}

const INVISIBLE = /[\u00ad\u200b-\u200d\u2060\ufeff]/g;
const CONTROL = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f]/g;
const SPACES = /[\s\u00a0\u2000-\u200a\u202f\u205f\u3000]+/g;

/**
 * Normalisation of corpus text: Unicode NFC, soft hyphens and zero-width characters removed, control
 * characters and exotic spaces turned into plain spaces, whitespace collapsed. Characters that carry
 * meaning in chemistry and biology (Greek letters, super- and subscripts, primes) are kept as they are.
 */
export function normaliseText(s: string): string {
  return s.normalize('NFC').replace(INVISIBLE, '').replace(CONTROL, ' ').replace(SPACES, ' ').trim();
}

/** A sequential writer that counts lines and hashes what it writes. */
class CountingFile {
  private readonly stream: WriteStream;
  private readonly sha = createHash('sha256');
  lines = 0;
  bytes = 0;
  private failed: Error | undefined;
  constructor(readonly path: string, readonly rel: string) {
    mkdirSync(dirname(path), { recursive: true });
    this.stream = createWriteStream(path);
    this.stream.on('error', (e) => { this.failed = e; });
  }
  async writeLine(line: string): Promise<void> {
    if (this.failed) throw this.failed;
    const b = Buffer.from(line + '\n');
    this.sha.update(b);
    this.bytes += b.length;
    this.lines++;
    if (!this.stream.write(b)) await new Promise<void>((r) => this.stream.once('drain', () => r()));
  }
  async close(): Promise<CorpusFileInfo> {
    await new Promise<void>((resolve, reject) => this.stream.end((e?: Error | null) => (e ? reject(e) : resolve())));
    if (this.failed) throw this.failed;
    return { file: this.rel, lines: this.lines, bytes: this.bytes, sha256: this.sha.digest('hex') };
  }
}

/** Which split a document goes to, from a salted hash of its source and id (stable across runs and inputs). */
export function documentSplit(doc: { source: string; id: string }, seed: number, validFraction: number, testFraction: number): 'train' | 'valid' | 'test' {
  const h = createHash('sha1').update(`${seed}\u0000${doc.source}\u0000${doc.id}`).digest();
  const u = h.readUInt32BE(0) / 2 ** 32;
  if (u < testFraction) return 'test';
  if (u < testFraction + validFraction) return 'valid';
  return 'train';
}

/** The clean sentences of one document: normalised, split, filtered by length. */
export function documentSentences(doc: CorpusDocument, minTokens: number, maxChars: number): { kept: string[]; dropped: number } {
  const kept: string[] = [];
  let dropped = 0;
  for (const block of doc.blocks) {
    const text = normaliseText(block);
    for (const span of splitSentences(text)) {
      const s = text.slice(span.start, span.end).trim();
      if (!s) continue;
      const w = words(s);
      const wordLike = w.filter((t) => /\p{L}/u.test(t)).length;
      if (wordLike < minTokens || s.length > maxChars) {
        dropped++;
        continue;
      }
      kept.push(s);
    }
  }
  return { kept, dropped };
}

/**
 * Builds a pre-training corpus in flair's layout: `train/train_split_1..N`, `valid.txt`, `test.txt`, one
 * sentence a line, plus `documents.tsv` (which document went where) and `manifest.json` (sources, counts,
 * sizes, checksums, options). The folder is written under a temporary name and renamed into place.
 */
export async function buildCorpus(opts: BuildOptions): Promise<CorpusManifest> {
  const o = {
    validFraction: opts.validFraction ?? 0.01,
    testFraction: opts.testFraction ?? 0.01,
    splitBytes: opts.splitBytes ?? 4 * 1024 * 1024,
    minTokens: opts.minTokens ?? 3,
    maxChars: opts.maxChars ?? 2000,
    dedupe: opts.dedupe ?? true,
    guard: opts.guard !== null,
    seed: opts.seed ?? 1,
    jats: opts.jats ?? {},
  };
  if (!(o.validFraction > 0 && o.testFraction > 0 && o.validFraction + o.testFraction < 0.5)) {
    throw new UserError(`valid and test fractions must be positive and sum to less than 0.5 (got ${o.validFraction}, ${o.testFraction})`);
  }
  if (opts.sources.length === 0) throw new UserError('a corpus needs at least one source');
  const sourceCounts: SourceCounts[] = opts.sources.map((s) => {
    const files = sourceFiles(s);
    return { name: s.name, dir: s.dir, files: files.length, inputBytes: files.reduce((a, f) => a + f.bytes, 0), documents: 0, sentences: 0 };
  });
  const out = opts.out;
  mkdirSync(dirname(out), { recursive: true });
  const tmp = join(dirname(out), `.${basename(out)}.tmp-${process.pid}-${Date.now().toString(36)}`);
  mkdirSync(join(tmp, 'train'), { recursive: true });
  const counts: CorpusManifest['counts'] = {
    documents: 0, sentences: 0, tokens: 0, characters: 0, duplicateDocuments: 0, duplicateSentences: 0,
    shortOrLongSentences: 0, guardedDocuments: 0, guardedSentences: 0,
  };
  const opened: CountingFile[] = [];
  const open = (rel: string) => {
    const f = new CountingFile(join(tmp, rel), rel);
    opened.push(f);
    return f;
  };
  try {
    const valid = open('valid.txt');
    const test = open('test.txt');
    const docsFile = open('documents.tsv');
    await docsFile.writeLine('source\tid\tpmid\tsplit\tsentences');
    const trainInfos: CorpusFileInfo[] = [];
    let train = open('train/train_split_1');
    const seenSentences = new FingerprintSet();
    const seenDocs = new FingerprintSet();
    for (let si = 0; si < opts.sources.length; si++) {
      const spec = opts.sources[si];
      const sc = sourceCounts[si];
      for await (const doc of sourceDocuments(spec, { jats: o.jats })) {
        const docKey = doc.pmid ? `pmid:${doc.pmid}` : `${doc.source}:${doc.id}`;
        if (!seenDocs.add(docKey)) {
          counts.duplicateDocuments++;
          continue;
        }
        if (opts.guard?.hasPmid(doc.pmid)) {
          counts.guardedDocuments++;
          continue;
        }
        const { kept, dropped } = documentSentences(doc, o.minTokens, o.maxChars);
        counts.shortOrLongSentences += dropped;
        const split = documentSplit(doc, o.seed, o.validFraction, o.testFraction);
        let n = 0;
        for (const s of kept) {
          if (opts.guard?.matchesSentence(s)) {
            counts.guardedSentences++;
            continue;
          }
          if (o.dedupe) {
            if (!seenSentences.add(sentenceKey(s))) {
              counts.duplicateSentences++;
              continue;
            }
          }
          if (split === 'train') {
            if (train.bytes >= o.splitBytes) {
              trainInfos.push(await train.close());
              train = open(`train/train_split_${trainInfos.length + 1}`);
            }
            await train.writeLine(s);
          } else await (split === 'valid' ? valid : test).writeLine(s);
          n++;
          counts.sentences++;
          counts.tokens += words(s).length;
          counts.characters += s.length;
        }
        if (n === 0) continue;
        counts.documents++;
        sc.documents++;
        sc.sentences += n;
        await docsFile.writeLine(`${doc.source}\t${doc.id}\t${doc.pmid ?? ''}\t${split}\t${n}`);
        if (counts.documents % 1000 === 0) opts.onProgress?.(counts.documents);
      }
    }
    trainInfos.push(await train.close());
    const files = { train: trainInfos, valid: await valid.close(), test: await test.close(), documents: await docsFile.close() };
    if (counts.sentences === 0) throw new UserError(`the sources gave no sentences (${opts.sources.map((s) => s.dir).join(', ')})`);
    if (files.valid.lines === 0 || files.test.lines === 0) {
      throw new UserError(`too few documents (${counts.documents}) for valid/test fractions ${o.validFraction}/${o.testFraction}: valid.txt or test.txt would be empty; raise the fractions`);
    }
    if (files.train[0].lines === 0) throw new UserError('no training sentences left after the valid/test split');
    const manifest: CorpusManifest = {
      format: CORPUS_FORMAT,
      name: opts.name,
      createdAt: new Date().toISOString(),
      sources: sourceCounts,
      options: o,
      ...(opts.guard ? { guard: opts.guard.stats() } : {}),
      counts,
      files,
      ...(opts.provenance ? { provenance: opts.provenance } : {}),
    };
    writeJsonAtomic(join(tmp, MANIFEST), manifest);
    const old = existsSync(out) ? `${tmp}-old` : undefined;
    if (old) renameSync(out, old);
    renameSync(tmp, out);
    if (old) rmSync(old, { recursive: true, force: true });
    return manifest;
  } catch (e) {
    for (const f of opened) await f.close().catch(() => undefined);
    rmSync(tmp, { recursive: true, force: true });
    throw e;
  }
}
