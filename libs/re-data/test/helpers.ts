import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A fresh data root under os.tmpdir() with the given files (relative path → content). */
export function tmpRoot(files: Record<string, string>): string {
  const root = mkdtempSync(join(tmpdir(), 'biore-re-data-'));
  for (const [rel, content] of Object.entries(files)) {
    const p = join(root, rel);
    mkdirSync(join(p, '..'), { recursive: true });
    writeFileSync(p, content);
  }
  return root;
}

const T = 'chemprot/chemprot_training/chemprot_training_';
export const CP_TITLE = 'Aspirin inhibits COX-1.';
export const CP_ABSTRACT = 'Ibuprofen does not bind IL-2. It was given i.v. Aspirin acetylates COX-2 in platelets.';
const CP_TEXT = CP_TITLE + ' ' + CP_ABSTRACT;

/** Entity line for the n-th occurrence of `text` in the ChemProt test document. */
function ent(id: string, type: string, text: string, nth = 0): string {
  let at = -1;
  for (let k = 0; k <= nth; k++) at = CP_TEXT.indexOf(text, at + 1);
  return `1\t${id}\t${type}\t${at}\t${at + text.length}\t${text}`;
}

export const CP_ENTITIES = [
  ent('T1', 'CHEMICAL', 'Aspirin'),
  ent('T2', 'GENE-Y', 'COX-1'),
  ent('T3', 'CHEMICAL', 'Ibuprofen'),
  ent('T4', 'GENE-N', 'IL-2'),
  ent('T5', 'CHEMICAL', 'Aspirin', 1),
  ent('T6', 'GENE-Y', 'COX-2'),
];

/** A one-document ChemProt training split; override any file. */
export function chemprotRoot(over: Partial<Record<'abstracts' | 'entities' | 'gold', string>> = {}): string {
  return tmpRoot({
    [`${T}abstracts.tsv`]: over.abstracts ?? `1\t${CP_TITLE}\t${CP_ABSTRACT}\n`,
    [`${T}entities.tsv`]: over.entities ?? CP_ENTITIES.join('\n') + '\n',
    [`${T}gold_standard.tsv`]: over.gold ?? '1\tCPR:4\tArg1:T1\tArg2:T2\n1\tCPR:9\tArg1:T3\tArg2:T6\n1\tCPR:3\tArg1:T5\tArg2:T6\n',
  });
}
