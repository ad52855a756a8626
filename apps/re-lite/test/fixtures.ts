// A small published-format GloVe file over ChemProt's most frequent dev words, imported as a user would.
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import assert from 'node:assert/strict';
import { Rng, repoRoot } from '@biore/runtime';
import { loadDataset } from '@biore/re-data';

export function tinyGlove(dir: string, out: string): void {
  const counts = new Map<string, number>();
  for (const inst of loadDataset('chemprot', { split: 'dev' }).slice(0, 3000)) for (const w of inst.tokens) counts.set(w.toLowerCase(), (counts.get(w.toLowerCase()) ?? 0) + 1);
  const rng = new Rng(5);
  const lines = [...counts.entries()].sort((a, b) => b[1] - a[1]).slice(0, 400).map(([w]) => `${w} ${Array.from({ length: 10 }, () => rng.normal().toFixed(4)).join(' ')}`);
  writeFileSync(join(dir, 'tiny.10d.txt'), lines.join('\n') + '\n');
  const r = spawnSync(process.execPath, ['--import', 'tsx', join(repoRoot, 'apps/glove/src/import.ts'), '--txt', join(dir, 'tiny.10d.txt'), '--out', out], { cwd: repoRoot, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
}
