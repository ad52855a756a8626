import { closeSync, existsSync, fsyncSync, ftruncateSync, openSync, readSync, renameSync, rmSync, statSync, writeSync, mkdirSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { dirname, resolve } from 'node:path';
import { Progress, UserError, readJson, writeJsonAtomic } from '@biore/runtime';
import {
  PubTatorReader, candidateInstances, candidatePairs, datasetOfLabels, type Candidate, type DatasetName, type RelationInstance,
} from '@biore/re-data';
import { frozenCacheBudget } from '@biore/embeddings';
import { openEngine, type InferenceEngine } from './engine.ts';
import { evalBatches } from './batches.ts';

/**
 * Streaming relation extraction over PubTator files (plain or gzip, any size): documents are read one at a time,
 * split into sentences and candidate pairs as the model's dataset loader builds them, held in a bounded buffer,
 * run through the engine in length-sorted batches and written as JSON lines in input order. The output grows in
 * `<out>.partial`; every `checkpointEvery` documents `<out>.state.json` records the input byte offset of the next
 * document and the output's length, so a resumed run truncates the output there and reads on from that offset.
 * When the input is done the partial file is renamed to `out` and the state removed.
 */
export interface ExtractOptions {
  input: string;
  out: string;
  /** instances per engine call (sorted by length, so a batch holds sentences of similar length) */
  batchSize?: number;
  /** candidate instances held before they are run: bounds memory whatever the input size */
  bufferSize?: number;
  /** documents between checkpoints (the resume granularity) */
  checkpointEvery?: number;
  resume?: boolean;
  /** stop after this many documents of the input (counted from its start, across resumes) */
  limitDocs?: number;
  /** one line per malformed document; default stderr */
  warn?: (line: string) => void;
  /** progress label on stderr (sentences/s, ETA); none when absent */
  progress?: string;
  /** checked after every document: true stops at a checkpoint, resumable (the CLI sets it on SIGINT/SIGTERM) */
  stop?: () => boolean;
}

export interface ExtractSummary {
  input: string;
  out: string;
  dataset: DatasetName;
  engine: string;
  /** all documents read, bad ones included, since the input's start */
  documents: number;
  badDocuments: number;
  sentences: number;
  pairs: number;
  /** this run only (a resumed run counts from its resume point) */
  seconds: number;
  sentencesPerSecond: number;
  pairsPerSecond: number;
  resumedAt?: { offset: number; documents: number };
  /** true: `out` is complete; false: stopped early, continue with resume */
  complete: boolean;
  /** resume found `out` complete and no state: nothing was run */
  alreadyComplete?: true;
  /** the signal that stopped the run at a checkpoint (extractWithModel) */
  signal?: 'SIGINT' | 'SIGTERM';
}

interface ExtractState {
  version: 1;
  input: string;
  inputSize: number;
  /** sha-1 of the input's first 64 KiB: a different file of the same size is not resumed */
  inputHead: string;
  labels: string[];
  /** byte offset (decompressed) of the next document to read */
  offset: number;
  /** bytes of `<out>.partial` that belong to the documents before `offset` */
  outBytes: number;
  documents: number;
  badDocuments: number;
  sentences: number;
  pairs: number;
}

export const EXTRACT_DEFAULTS = { batchSize: 32, bufferSize: 2048, checkpointEvery: 200 } as const;

export function extractPartialPath(out: string): string {
  return out + '.partial';
}

export function extractStatePath(out: string): string {
  return out + '.state.json';
}

function inputHead(path: string): string {
  const fd = openSync(path, 'r');
  try {
    const buf = Buffer.alloc(64 * 1024);
    const n = readSync(fd, buf, 0, buf.length, 0);
    return createHash('sha1').update(buf.subarray(0, n)).digest('hex');
  } finally {
    closeSync(fd);
  }
}

interface Pending {
  candidate: Candidate;
  sentence: string;
}

/** One output line: the PMID, the sentence, the two entities (document character offsets), label and probabilities. */
function jsonLine(p: Pending, labels: readonly string[], probabilities: number[], label: string): string {
  const { candidate: c } = p;
  const ent = (e: Candidate['e1'], span: RelationInstance['e1']) => ({ text: e.mention, type: span.type, start: e.start, end: e.end, ...(e.id ? { id: e.id } : {}) });
  return JSON.stringify({
    pmid: c.instance.docId,
    sentence: { start: c.sentence.start, end: c.sentence.end, text: p.sentence },
    e1: ent(c.e1, c.instance.e1), e2: ent(c.e2, c.instance.e2),
    label,
    probabilities: Object.fromEntries(labels.map((l, k) => [l, Number(probabilities[k].toFixed(6))])),
  }) + '\n';
}

/** Runs the extraction described in ExtractOptions with an open engine; see the module comment. */
export async function extract(engine: InferenceEngine, o: ExtractOptions): Promise<ExtractSummary> {
  const input = resolve(o.input);
  const out = resolve(o.out);
  const batchSize = Math.max(1, o.batchSize ?? EXTRACT_DEFAULTS.batchSize);
  const bufferSize = Math.max(batchSize, o.bufferSize ?? EXTRACT_DEFAULTS.bufferSize);
  const checkpointEvery = Math.max(1, o.checkpointEvery ?? EXTRACT_DEFAULTS.checkpointEvery);
  const warn = o.warn ?? ((l: string) => process.stderr.write(l + '\n'));
  const dataset = datasetOfLabels(engine.labels);
  const pairs = candidatePairs(dataset);
  if (!existsSync(input) || !statSync(input).isFile()) throw new UserError('PubTator input file not found', { file: input });
  const partial = extractPartialPath(out);
  const stateFile = extractStatePath(out);
  mkdirSync(dirname(out), { recursive: true });

  const fresh: ExtractState = {
    version: 1, input, inputSize: statSync(input).size, inputHead: inputHead(input), labels: [...engine.labels],
    offset: 0, outBytes: 0, documents: 0, badDocuments: 0, sentences: 0, pairs: 0,
  };
  let state = fresh;
  let fd: number;
  let resumedAt: ExtractSummary['resumedAt'];
  // a run that ended between renaming its output into place and removing its state is complete
  if (o.resume && existsSync(stateFile) && !existsSync(partial) && existsSync(out)) rmSync(stateFile);
  if (o.resume && existsSync(stateFile)) {
    const saved = readJson<ExtractState>(stateFile, 'extraction state');
    if (saved.version !== 1 || typeof saved.offset !== 'number' || typeof saved.outBytes !== 'number') throw new UserError('not an extraction state file', { file: stateFile });
    if (saved.inputSize !== fresh.inputSize || saved.inputHead !== fresh.inputHead) {
      throw new UserError(`the input differs from the one this extraction started on (${saved.input}, ${saved.inputSize} bytes); remove the state file to start over`, { file: stateFile });
    }
    if (saved.labels.join('\t') !== fresh.labels.join('\t')) throw new UserError(`the model's labels differ from those of the run being resumed (${saved.labels.join(', ')})`, { file: stateFile });
    if (!existsSync(partial) || statSync(partial).size < saved.outBytes) {
      throw new UserError(`the partial output is missing or shorter than the ${saved.outBytes} bytes the state records`, { file: partial });
    }
    state = saved;
    fd = openSync(partial, 'r+');
    ftruncateSync(fd, state.outBytes);
    resumedAt = { offset: state.offset, documents: state.documents };
  } else {
    if (o.resume && existsSync(out)) {
      // nothing left to do: the state is removed only once the output is complete
      return { input, out, dataset, engine: engine.name, documents: 0, badDocuments: 0, sentences: 0, pairs: 0, seconds: 0, sentencesPerSecond: 0, pairsPerSecond: 0, complete: true, alreadyComplete: true };
    }
    fd = openSync(partial, 'w');
  }

  const checkpoint = () => {
    fsyncSync(fd);
    writeJsonAtomic(stateFile, state);
  };
  if (!resumedAt) checkpoint();

  const reader = new PubTatorReader(input, { offset: state.offset });
  const progress = o.progress ? new Progress(o.progress, 0, 'sent', undefined, state.sentences) : undefined;
  const start = { sentences: state.sentences, pairs: state.pairs };
  let buffer: Pending[] = [];
  let sinceCheckpoint = 0;
  const t0 = performance.now();

  const flush = async () => {
    if (buffer.length === 0) return;
    const items = buffer;
    buffer = [];
    const results: { label: string; probabilities: number[] }[] = new Array(items.length);
    for (const idx of evalBatches(items.map((p) => p.candidate.instance.tokens.length), batchSize)) {
      const preds = await engine.predict(idx.map((i) => items[i].candidate.instance), { batchSize });
      idx.forEach((i, k) => { results[i] = { label: preds[k].label, probabilities: preds[k].probabilities }; });
    }
    const text = items.map((p, i) => jsonLine(p, engine.labels, results[i].probabilities, results[i].label)).join('');
    const bytes = Buffer.from(text);
    for (let w = 0; w < bytes.length; ) w += writeSync(fd, bytes, w, bytes.length - w, state.outBytes + w);
    state.outBytes += bytes.length;
    // the engine's work is synchronous: let signal handlers run between flushes
    await new Promise((r) => setImmediate(r));
  };

  let complete = true;
  try {
    for await (const rec of reader.documents()) {
      if (o.limitDocs !== undefined && state.documents >= o.limitDocs) break;
      let sentences = 0;
      if (!rec.doc) {
        state.badDocuments++;
        warn(`warning: PMID ${rec.pmid} (input byte ${rec.offset}): ${rec.error}; document skipped`);
      } else {
        try {
          const c = candidateInstances(rec.doc, pairs);
          sentences = c.sentences;
          for (const candidate of c.candidates) {
            buffer.push({ candidate, sentence: rec.doc.text.slice(candidate.sentence.start, candidate.sentence.end) });
          }
          state.pairs += c.candidates.length;
        } catch (e) {
          if (!(e instanceof UserError)) throw e;
          state.badDocuments++;
          warn(`warning: PMID ${rec.pmid} (input byte ${rec.offset}): ${e.message}; document skipped`);
        }
      }
      state.documents++;
      state.sentences += sentences;
      state.offset = rec.nextOffset;
      if (buffer.length >= bufferSize) await flush();
      if (progress) {
        // total sentences estimated from the share of the input behind us (a plain file: the parse position; gzip:
        // the compressed bytes decompressed so far); kept above the count until the end, which sets it exactly
        const share = reader.gzip ? reader.bytesRead / reader.size : rec.nextOffset / reader.size;
        if (share > 0) progress.setTotal(Math.max(state.sentences + 1, Math.round(state.sentences / share)));
        progress.tick(sentences, `${state.pairs} pairs`);
      }
      const stopping = o.stop?.() ?? false;
      if (++sinceCheckpoint >= checkpointEvery || stopping) {
        await flush();
        checkpoint();
        sinceCheckpoint = 0;
      }
      if (stopping) { complete = false; break; }
    }
    await flush();
    checkpoint();
  } catch (e) {
    closeSync(fd);
    throw e;
  }
  closeSync(fd);
  if (complete) {
    renameSync(partial, out);
    rmSync(stateFile, { force: true });
  }
  const seconds = (performance.now() - t0) / 1000;
  if (progress) {
    if (complete) progress.setTotal(state.sentences);
    progress.end(`${state.pairs} pairs${state.badDocuments ? `, ${state.badDocuments} bad documents` : ''}`);
  }
  const ran = { sentences: state.sentences - start.sentences, pairs: state.pairs - start.pairs };
  return {
    input, out, dataset, engine: engine.name, documents: state.documents, badDocuments: state.badDocuments, sentences: state.sentences, pairs: state.pairs,
    seconds, sentencesPerSecond: seconds > 0 ? ran.sentences / seconds : 0, pairsPerSecond: seconds > 0 ? ran.pairs / seconds : 0,
    ...(resumedAt ? { resumedAt } : {}), complete,
  };
}

/**
 * Opens a model folder with the named engine and runs `extract` on it; SIGINT/SIGTERM stop at the next document
 * with a checkpoint, so `resume` continues the run. The engine is disposed at the end.
 */
export async function extractWithModel(modelDir: string, engineName: string, o: ExtractOptions): Promise<ExtractSummary> {
  // each sentence is seen once: a frozen encoder's cache (CSE, ELMo) only needs to span one buffer, so memory stays
  // bounded however long the input (BIORE_CACHE_MB still overrides)
  if (process.env.BIORE_CACHE_MB === undefined) frozenCacheBudget.setMB(256);
  const engine = await openEngine(engineName, modelDir);
  let signal: 'SIGINT' | 'SIGTERM' | undefined;
  const onInt = () => { signal = 'SIGINT'; };
  const onTerm = () => { signal = 'SIGTERM'; };
  process.once('SIGINT', onInt);
  process.once('SIGTERM', onTerm);
  try {
    const summary = await extract(engine, { ...o, stop: () => signal !== undefined || (o.stop?.() ?? false) });
    return signal ? { ...summary, signal } : summary;
  } finally {
    process.off('SIGINT', onInt);
    process.off('SIGTERM', onTerm);
    await engine.dispose();
  }
}
