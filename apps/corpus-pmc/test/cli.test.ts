import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { findData } from '@biore/runtime';

const run = (args: string[]) => spawnSync(process.execPath, ['--import', 'tsx', 'apps/corpus-pmc/src/parse.ts', ...args], { encoding: 'utf8' });

test('parse prints one article with its body, and captions and tables only when asked', () => {
  const f = join(findData('text/pmc').path, 'pone.0046493.nxml');
  const plain = run(['--file', f]);
  assert.equal(plain.status, 0, plain.stderr);
  const [a] = plain.stdout.trim().split('\n').map((l) => JSON.parse(l));
  assert.equal(a.pmcid, '3460867');
  assert.ok(a.body.length > 5 && a.captions === undefined);
  const rich = JSON.parse(run(['--file', f, '--figures', '--tables']).stdout.trim());
  assert.equal(rich.captions.length, 8);
  assert.equal(rich.tables.length, 3);
});

test('parse reads every article of a pmc-articleset', () => {
  const r = run(['--file', join(findData('fixtures/eutils').path, 'efetch_pmc.xml')]);
  assert.equal(r.stdout.trim().split('\n').length, 1);
  assert.match(r.stderr, /1 articles/);
});

test('a bad --formulas value is one error line', () => {
  const r = run(['--file', 'x.nxml', '--formulas', 'latex']);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /error: --formulas must be one of drop, placeholder, got 'latex'/);
});
