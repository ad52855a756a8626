import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const run = (args: string[]) => spawnSync(process.execPath, ['--import', 'tsx', 'apps/corpus/src/build.ts', ...args], { encoding: 'utf8', env: { ...process.env, BIORE_QUIET: '1' } });

test('build --sources pubmed,pmc writes the pubmed+pmc corpus with its manifest and says where the text came from', () => {
  const out = join(mkdtempSync(join(tmpdir(), 'app-corpus-')), 'c');
  const r = run(['--sources', 'pubmed,pmc', '--out', out]);
  assert.equal(r.status, 0, r.stderr);
  const s = JSON.parse(r.stdout.trim());
  assert.equal(s.preset, 'pubmed+pmc');
  const m = JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8'));
  assert.deepEqual(m.sources.map((x: { name: string }) => x.name), ['pubmed', 'pmc']);
  assert.equal(m.counts.sentences, s.sentences);
  assert.match(r.stderr, /pubmed read from data root .*\((shared|corpora|env|flag)\)/);
  assert.match(r.stderr, /contamination guard: chemprot, ddi, gad, aimed/);
});

test('bad flags end in one error line', () => {
  const r = run(['--from', 'ftp']);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /error: --from must be one of local, downloads, got 'ftp'/);
  const s = run(['--sources', 'pubmed,arxiv', '--no-guard']);
  assert.equal(s.status, 1);
  assert.match(s.stderr, /unknown source 'arxiv'/);
});
