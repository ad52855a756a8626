import { mkdtempSync, mkdirSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findData } from '@biore/runtime';

/** The first `n` abstracts of the PubMed sample, each cut to `maxChars`. */
export function pubmedDocs(n: number, maxChars = 400): string[] {
  const path = join(findData('text').path, 'pubmed', 'PubMedAbstract_1MB.txt');
  return readFileSync(path, 'utf8').split('\n').filter((l) => l.trim()).slice(0, n).map((l) => l.slice(0, maxChars));
}

/** A corpus folder in flair's layout under the OS temp dir. */
export function writeCorpus(train: string[][], valid: string[], test: string[]): string {
  const root = mkdtempSync(join(tmpdir(), 'charlm-corpus-'));
  mkdirSync(join(root, 'train'));
  train.forEach((docs, i) => writeFileSync(join(root, 'train', `train_${i}.txt`), docs.join('\n') + '\n'));
  writeFileSync(join(root, 'valid.txt'), valid.join('\n') + '\n');
  writeFileSync(join(root, 'test.txt'), test.join('\n') + '\n');
  return root;
}
