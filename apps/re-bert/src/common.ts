import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { UserError, findData } from '@biore/runtime';
import { DEFAULT_PRESET, corpusDir, openCorpus } from '@biore/corpus';

/**
 * The pre-training text: a corpus folder or manifest from corpus:build (its train files), a plain text file
 * (one sentence or document a line); by default the corpus `nx run corpus:build` writes
 * (artifacts/corpus/local-all) when it exists, else the PubMed sample of the data root.
 */
export function corpusLines(corpus: string | undefined, dataFlag?: string, maxLines = 0): { lines: string[]; source: string } {
  let files: string[];
  let source: string;
  if (!corpus && existsSync(join(corpusDir(DEFAULT_PRESET), 'manifest.json'))) corpus = corpusDir(DEFAULT_PRESET);
  if (!corpus) {
    const found = findData('text/pubmed/PubMedAbstract_1MB.txt', dataFlag);
    files = [found.path];
    source = `${found.path} (data root ${found.root.root}, ${found.root.source})`;
  } else if (!existsSync(corpus)) {
    throw new UserError('corpus not found (expected a corpus:build folder, its manifest.json, or a text file)', { file: corpus });
  } else if (statSync(corpus).isDirectory() || corpus.endsWith('manifest.json')) {
    files = openCorpus(corpus).trainFiles;
    source = `${corpus} (${files.length} train files)`;
  } else {
    files = [corpus];
    source = corpus;
  }
  const lines: string[] = [];
  for (const f of files) {
    for (const l of readFileSync(f, 'utf8').split('\n')) {
      if (l.trim()) lines.push(l);
      if (maxLines > 0 && lines.length >= maxLines) return { lines, source };
    }
  }
  if (lines.length === 0) throw new UserError('the corpus has no text', { file: files[0] });
  return { lines, source };
}
