import { readFileSync } from 'node:fs';
import { words } from '@biore/text';
import { UserError, openAtomicWriter } from '@biore/runtime';
import type { TextSource } from './source.ts';

/** The tokens of one corpus line after the build's normalisation (lowercased unless `cased`). */
export function lineTokens(line: string, cased: boolean): string[] {
  return words(cased ? line : line.toLowerCase());
}

export interface Vocab {
  /** words in frequency order (most frequent first; ties in code-unit order), so id = rank - 1 */
  words: string[];
  counts: number[];
}

export interface VocabOptions {
  minCount: number;
  /** 0 = no limit */
  maxVocab: number;
  cased: boolean;
  onProgress?: (tokens: number) => void;
}

/** vocab_count: every token's count over the corpus, then the words kept by `minCount` and `maxVocab`. */
export async function countVocab(source: TextSource, opts: VocabOptions): Promise<Vocab & { tokens: number; types: number }> {
  const counts = new Map<string, number>();
  let tokens = 0;
  let sinceReport = 0;
  for await (const line of source.lines()) {
    const toks = lineTokens(line, opts.cased);
    for (const t of toks) counts.set(t, (counts.get(t) ?? 0) + 1);
    tokens += toks.length;
    sinceReport += toks.length;
    if (sinceReport > 100_000 && opts.onProgress) { opts.onProgress(sinceReport); sinceReport = 0; }
  }
  if (opts.onProgress && sinceReport) opts.onProgress(sinceReport);
  const kept = [...counts].filter(([, c]) => c >= opts.minCount);
  kept.sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  if (opts.maxVocab > 0 && kept.length > opts.maxVocab) kept.length = opts.maxVocab;
  return { words: kept.map((k) => k[0]), counts: kept.map((k) => k[1]), tokens, types: counts.size };
}

/** Stanford's vocab.txt: `word count` a line, most frequent first. */
export async function writeVocab(path: string, v: Vocab): Promise<void> {
  const w = openAtomicWriter(path);
  try {
    const lines: string[] = [];
    for (let i = 0; i < v.words.length; i++) {
      lines.push(`${v.words[i]} ${v.counts[i]}\n`);
      if (lines.length === 10_000) { await w.write(lines.join('')); lines.length = 0; }
    }
    await w.write(lines.join(''));
    await w.commit();
  } catch (e) {
    w.abort();
    throw e;
  }
}

export function readVocab(path: string): Vocab {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new UserError(`cannot read vocabulary (${(e as Error).message})`, { file: path });
  }
  const words: string[] = [];
  const counts: number[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    if (line === '') continue;
    const sp = line.lastIndexOf(' ');
    const c = sp > 0 ? Number(line.slice(sp + 1)) : NaN;
    if (!Number.isInteger(c) || c < 0) throw new UserError(`expected 'word count', got '${line.slice(0, 80)}'`, { file: path, record: `line ${i + 1}` });
    words.push(line.slice(0, sp));
    counts.push(c);
  }
  return { words, counts };
}
